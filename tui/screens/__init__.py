"""Screens of the interview."""
