"""03 shows the handler and the aggregation, not the whole file."""

from __future__ import annotations

import pytest

from wildrydes_helpers.code_view import CodeView, function_source, show_code
from wildrydes_helpers.errors import WildRydesError
from wildrydes_helpers.function_zip import lambda_dir


def test_the_handler_and_aggregate_without_validation_or_doctests() -> None:
    view = show_code()
    text = view.text
    head = text.splitlines()[0]
    assert head.startswith("# lambda/index.py: handler, aggregate (lines shown: ")
    shown, total = map(int, head.rstrip(")").split("lines shown: ")[1].split(" of "))
    assert shown == len(text.splitlines()) - 1 - 2  # minus the head and two blank lines
    assert total == len((lambda_dir() / "index.py").read_text().splitlines())
    assert shown < total / 2
    assert "def aggregate(records: list, state: dict) -> dict:" in text
    assert "def handler(event: dict, context: object) -> dict:" in text
    assert ">>>" not in text and "def read_record" not in text
    assert '"""Add a batch of records to ``state`` (changed in place) and log each' in text
    compile(text, "shown", "exec")  # what the student reads is valid Python


def test_a_code_view_is_highlighted_in_jupyterlab_and_plain_as_text() -> None:
    view = CodeView("x = 1")
    assert repr(view) == "x = 1"
    assert view._repr_markdown_() == "```python\nx = 1\n```"


def test_an_unknown_function_is_named() -> None:
    with pytest.raises(WildRydesError, match="No function 'nope'"):
        function_source("def f():\n    pass\n", "nope")
