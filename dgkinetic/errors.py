"""Errors raised for bad user input: reported as one line by the command-line interface."""

__all__ = ["InputError", "NonPhysicalStateError"]


class InputError(ValueError):
    """Invalid user input (case file, API argument, mesh); the message says what and how to fix it."""


class NonPhysicalStateError(RuntimeError):
    """The solution left the physical set (negative density, NaN); the message names time, place, species."""
