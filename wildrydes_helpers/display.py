"""What makes a notebook's output readable: calls in full, results with masked accounts.

Example
-------
>>> CallList(["kinesis.CreateStream(StreamName='wildrydes')"])
1. kinesis.CreateStream(StreamName='wildrydes')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .call_format import format_any_call
from .config import Config, load_config
from .function_zip import lambda_dir
from .ledger import Ledger
from .session import mask_accounts


@dataclass
class CallList:
    """The boto3 calls of a step, numbered and in full; a repeated poll is shown once.

    Each item is a recorded call (``service``, ``operation``, ``params``) or its text. No
    value is ever cut: a long call is written one parameter a line (see ``call_format``).

    Example
    -------
    >>> CallList(["a()", "b()", "b()", "c()"])
    1. a()
    2. b()
    3. c()
    """

    lines: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Waiting loops repeat a Describe call a number of times that depends on timing;
        # showing each run once keeps the listing short and the same from run to run.
        collapsed: list[str] = []
        for line in (format_any_call(x) for x in self.lines):
            if not collapsed or collapsed[-1] != line:
                collapsed.append(line)
        self.lines = collapsed

    def __len__(self) -> int:
        return len(self.lines)

    def __repr__(self) -> str:
        if not self.lines:
            return "(no AWS calls)"
        out = []
        for i, text in enumerate(self.lines, 1):
            number = f"{i}. "
            # A call over several lines stays aligned under its number.
            first, *rest = text.split("\n")
            out.append(number + first)
            out += [" " * len(number) + line if line else line for line in rest]
        return "\n".join(out)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def show_calls(result_or_calls: Any) -> CallList:
    """The boto3 calls a helper made: pass its result (``.calls``) or a list of calls.

    Example
    -------
    >>> show_calls([])
    (no AWS calls)
    """
    calls = getattr(result_or_calls, "calls", None)
    if calls is None:
        attrs = getattr(result_or_calls, "attrs", None)  # a DataFrame from a helper
        calls = attrs.get("calls") if isinstance(attrs, dict) else None
    if calls is None:
        calls = result_or_calls
    return CallList(list(calls))


@dataclass
class Shown:
    """Text (and optional HTML) for a notebook output, with account ids masked.

    Example
    -------
    >>> Shown("role arn:aws:iam::123456789012:role/r")
    role arn:aws:iam::********9012:role/r
    """

    text: str
    html_text: str | None = None

    def __post_init__(self) -> None:
        self.text = mask_accounts(self.text)
        if self.html_text is not None:
            self.html_text = mask_accounts(self.html_text)

    def __repr__(self) -> str:
        return self.text

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.text)

    def _repr_html_(self) -> str | None:
        return self.html_text


def show(result: Any) -> Shown:
    """A helper's result as a notebook output, with any account id masked.

    Example
    -------
    >>> show({"arn": "arn:aws:sqs:us-east-1:123456789012:q"})
    {'arn': 'arn:aws:sqs:us-east-1:********9012:q'}
    """
    html_repr = getattr(result, "_repr_html_", None)
    html_text = html_repr() if callable(html_repr) else None
    return Shown(repr(result), html_text)


def checklist(checks: Iterable[tuple[str, bool]]) -> Shown:
    """A check of the notebook's work: one line per condition, then a verdict.

    Example
    -------
    >>> checklist([("table is ACTIVE", True), ("keys are name/windowStart", True)])
    [ok] table is ACTIVE
    [ok] keys are name/windowStart
    All checks passed.
    """
    rows = list(checks)
    lines = [f"[{'ok' if passed else 'FAILED'}] {label}" for label, passed in rows]
    failed = [label for label, passed in rows if not passed]
    lines.append("All checks passed." if not failed else
                 f"{len(failed)} check(s) failed: read the message above, fix it, run again.")
    return Shown("\n".join(lines))


def backend_summary(cfg: Config | None = None) -> Shown:
    """Which backend, region and names this kernel uses, and how to switch.

    Example
    -------
    >>> print(backend_summary(Config()))          # doctest: +ELLIPSIS
    backend:        local (the embedded local cloud, no AWS account needed)
    ...
    """
    cfg = cfg or load_config()
    if cfg.is_local:
        where = "local (the embedded local cloud, no AWS account needed)"
        switch = ("To use your AWS account instead: stop JupyterLab, `export "
                  "WILDRYDES_BACKEND=aws`\n(plus AWS_PROFILE or keys, and AWS_REGION), start it "
                  "again.")
    else:
        where = "aws (your AWS account: the lab creates real, billed resources)"
        switch = "To go back to the local cloud: unset WILDRYDES_BACKEND and restart JupyterLab."
    lines = [
        f"backend:        {where}",
        f"region:         {cfg.region}",
        f"window length:  {cfg.window_seconds} s",
        f"name prefix:    {cfg.prefix or '(none)'}",
        f"stream:         {cfg.stream_name}",
        f"table:          {cfg.table_name}",
        f"function:       {cfg.function_name}",
        switch,
    ]
    return Shown("\n".join(lines))


def ledger_text(ledger: Ledger) -> str:
    """What the producer's ledger says Kinesis accepted, one line per unicorn.

    Example
    -------
    >>> from wildrydes_helpers.ledger import Ledger
    >>> led = Ledger(stream="wildrydes", window_seconds=60, seed=42)
    >>> led.add("Shadowfax", 30.25, "1", "shardId-000000000000", 0.5)
    >>> print(ledger_text(led))
    Kinesis accepted (seed 42):
      Shadowfax: 1 records, 30.2 m
    """
    lines = [f"Kinesis accepted (seed {ledger.seed}):"]
    lines += [f"  {name}: {u.records} records, {u.distance:.1f} m"
              for name, u in sorted(ledger.unicorns.items())]
    if ledger.failed:
        lines.append(f"  given up after retries: {ledger.failed}")
    return "\n".join(lines)


def show_function_code() -> Any:
    """The function's source (lambda/index.py) as a highlighted code listing.

    Example
    -------
    >>> show_function_code().data.startswith("```python")
    True
    """
    from IPython.display import Markdown  # only a notebook has IPython

    source = (lambda_dir() / "index.py").read_text()
    return Markdown(f"```python\n{source.rstrip()}\n```")
