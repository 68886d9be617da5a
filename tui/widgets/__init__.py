"""Widgets of the interview: answer inputs and small display pieces."""
