"""The lab's own exceptions: each carries a message a student can act on.

Example
-------
>>> raise PrerequisiteError("Run step 1 (01_create_table) first.")
Traceback (most recent call last):
...
wildrydes_helpers.errors.PrerequisiteError: Run step 1 (01_create_table) first.
"""

from __future__ import annotations


class WildRydesError(Exception):
    """Base class: the message says what went wrong and what to do."""

    def _render_traceback_(self) -> list[str]:
        # IPython's hook: in a notebook the student sees this one message, not a stack trace
        # through the helpers' internals.
        return [f"\x1b[1;31m{type(self).__name__}\x1b[0m: {self}"]


class ConfigError(WildRydesError, ValueError):
    """An environment setting has a value the lab cannot use."""


class LocalCloudError(WildRydesError):
    """The local cloud could not be started, reached or stopped."""


class CredentialsError(WildRydesError):
    """aws mode without usable credentials or region."""


class PrerequisiteError(WildRydesError):
    """A lab step was called before the step it needs."""


class ResourceMismatchError(WildRydesError):
    """A resource exists under the lab's name but with other settings."""


class LedgerError(WildRydesError):
    """The producer's ledger file is missing or unreadable."""
