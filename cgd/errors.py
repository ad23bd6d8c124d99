"""Errors that carry a one-line message meant for a person, not a traceback."""


class CGDError(Exception):
    """Base class of every error the engine raises on purpose."""


class InputError(CGDError, ValueError):
    """A user-supplied value (scale, label, steps, file, ...) is not acceptable."""


class NonFiniteError(CGDError, FloatingPointError):
    """Sampling produced a non-finite state; raised instead of returning NaN pictures."""
