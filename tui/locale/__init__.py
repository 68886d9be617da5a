"""gettext catalogs of the interview's own texts (key-based msgids, real plural forms).

``<lang>/LC_MESSAGES/deelwijzer.po`` is the source a translator edits; the ``.mo`` beside it is
what the interview reads at run time (stdlib :mod:`gettext`, no extra import at start-up).
After editing a ``.po`` file run ``python -m tui.locale.build`` (needs Babel, a test
dependency); a test fails while a ``.mo`` is older than its ``.po``.
"""
