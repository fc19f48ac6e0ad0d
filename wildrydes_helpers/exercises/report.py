"""What an exercise's checker prints: one line per check, then what to do next.

A checker never raises: an unsolved exercise prints hints, so Run All and nbval stay green.

Example
-------
>>> ExerciseReport("Exercise", [("ok", "it runs"), ("hint", "add the records")])
Exercise
[ok]   it runs
[hint] add the records
Not solved yet: read the hint, change your code, run it, then run this check again.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Any

MARKS = {"ok": "[ok]  ", "hint": "[hint]", "wait": "[--]  "}
WIDTH = 96  # characters: read without scrolling at 1366x768


@dataclass
class ExerciseReport:
    """A checker's verdict: ``passed`` is True only when every check is ``ok``.

    Example
    -------
    >>> ExerciseReport("E", [("ok", "fine")], solved="Solved.").passed
    True
    """

    title: str
    checks: list[tuple[str, str]] = field(default_factory=list)
    solved: str = "Solved: every check passed."
    unsolved: str = ("Not solved yet: read the hint, change your code, run it, then run this "
                     "check again.")

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(kind == "ok" for kind, _ in self.checks)

    @property
    def hints(self) -> list[str]:
        """The texts of the checks that did not pass."""
        return [text for kind, text in self.checks if kind != "ok"]

    def __repr__(self) -> str:
        lines = [self.title]
        for kind, text in self.checks:
            lines += textwrap.wrap(text, WIDTH, initial_indent=f"{MARKS[kind]} ",
                                   subsequent_indent=" " * 7, break_on_hyphens=False,
                                   break_long_words=False)
        lines += textwrap.wrap(self.solved if self.passed else self.unsolved, WIDTH)
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))
