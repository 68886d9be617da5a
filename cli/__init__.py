"""The ``deelwijzer`` command line."""
