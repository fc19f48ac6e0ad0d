"""What a lab step returns: a one-line status, details to show, and the boto3 calls made.

Example
-------
>>> StepResult("01_create_table", "created", "Created table UnicornAggregation.")
01_create_table: created. Created table UnicornAggregation.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from .session import CallRecord, mask_account, mask_accounts


@dataclass
class StepResult:
    """What a lab step did: a one-line status, details to show, and the boto3 calls made.

    Example
    -------
    >>> StepResult("01_create_table", "created", "Created table UnicornAggregation.")
    01_create_table: created. Created table UnicornAggregation.
    """

    step: str
    status: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    calls: list[CallRecord] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when the step changed something (created, updated or deleted)."""
        return self.status not in ("already exists", "up to date", "nothing to delete",
                                   "already running")

    def __repr__(self) -> str:
        lines = [f"{self.step}: {self.status}. {self.message}"]
        lines += [f"  {key}: {value}" for key, value in self.details.items()]
        return mask_accounts("\n".join(lines))

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
            f"<td style='text-align:left'>{html.escape(str(v))}</td></tr>"
            for k, v in self.details.items()
        )
        return mask_accounts(
            f"<p><b>{html.escape(self.step)}</b>: {html.escape(self.status)}. "
            f"{html.escape(self.message)}</p>" + (f"<table>{rows}</table>" if rows else ""))

    def show_calls(self) -> str:
        """The boto3 calls of this step, one a line (what a notebook prints "under the hood").

        Example
        -------
        >>> print(StepResult("x", "created", "").show_calls())
        (no AWS calls)
        """
        return mask_accounts("\n".join(str(c) for c in self.calls)) or "(no AWS calls)"


def mask_arn(arn: str) -> str:
    """An ARN with its account id masked, fit to show in a notebook.

    Example
    -------
    >>> mask_arn("arn:aws:dynamodb:us-east-1:123456789012:table/T")
    'arn:aws:dynamodb:us-east-1:********9012:table/T'
    """
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[4].isdigit():
        parts[4] = mask_account(parts[4])
    return ":".join(parts)
