"""Shared bits of the helper tests: sessions with their own prefix on the test local cloud."""

from __future__ import annotations

import dataclasses

from wildrydes_helpers.session import LabSession


def prefixed(lab: LabSession, prefix: str) -> LabSession:
    """A session on the same local cloud whose resource names carry ``prefix``."""
    return LabSession(dataclasses.replace(lab.config, prefix=prefix), lab.boto,
                      endpoint=lab.endpoint, account_id=lab.account_id, boot_id=lab.boot_id)


def calls_named(calls: list, operation: str) -> list:
    return [c for c in calls if c.operation == operation]
