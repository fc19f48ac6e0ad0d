"""Show chosen functions of a source file, not the whole file: what a notebook reads.

03 shows the function's ``handler`` and ``aggregate`` from ``lambda/index.py``; the record
validation and the doctests stay in the file. Each docstring is cut to its first paragraph
(its examples are for tests, not for reading), and the listing says where it comes from.

Example
-------
>>> view = show_code(["handler"])
>>> view.text.splitlines()[0].startswith("# lambda/index.py: handler (lines shown: ")
True
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import WildRydesError
from .function_zip import lambda_dir

DEFAULT_FUNCTIONS = ("handler", "aggregate")


@dataclass
class CodeView:
    """Python source for a notebook: highlighted in JupyterLab, plain text elsewhere.

    Example
    -------
    >>> CodeView("x = 1")
    x = 1
    """

    text: str

    def __repr__(self) -> str:
        return self.text

    def _repr_markdown_(self) -> str:
        return f"```python\n{self.text}\n```"


def _short_docstring(node: ast.FunctionDef) -> tuple[int, int, str] | None:
    """(first line, last line, replacement) for the docstring of ``node``, or None."""
    first = node.body[0] if node.body else None
    if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)):
        return None
    summary = first.value.value.strip().split("\n\n")[0]
    summary = " ".join(line.strip() for line in summary.splitlines())
    indent = " " * first.col_offset
    end = first.end_lineno or first.lineno
    return first.lineno, end, f'{indent}"""{summary}"""'


def function_source(source: str, name: str) -> tuple[str, int]:
    r'''The source of top-level function ``name`` with a one-paragraph docstring, and its size.

    Example
    -------
    >>> text, size = function_source('def f():\n    """Add.\n\n    More."""\n    return 1', "f")
    >>> print(text)
    def f():
        """Add."""
        return 1
    '''
    lines = source.splitlines()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            end = node.end_lineno or node.lineno
            body = lines[start - 1:end]
            doc = _short_docstring(node)  # type: ignore[arg-type]
            if doc is not None:
                d_first, d_last, replacement = doc
                body[d_first - start:d_last - start + 1] = [replacement]
            return "\n".join(body), len(body)
    raise WildRydesError(f"No function {name!r} in this file: check the name and try again.")


def show_code(functions: Sequence[str] = DEFAULT_FUNCTIONS,
              path: str | Path | None = None) -> CodeView:
    """Functions ``functions`` of ``path`` (default: the lab's ``lambda/index.py``), in order.

    Example
    -------
    >>> "def aggregate(records: list, state: dict)" in show_code().text
    True
    """
    file = Path(path) if path is not None else lambda_dir() / "index.py"
    source = file.read_text(encoding="utf-8")
    parts = [function_source(source, name) for name in functions]
    shown = sum(n for _, n in parts)
    where = (f"lambda/{file.name}" if file.parent == lambda_dir() else file.name)
    total = len(source.splitlines())
    head = f"# {where}: {', '.join(functions)} (lines shown: {shown} of {total})"
    return CodeView("\n\n\n".join([head + "\n" + parts[0][0]] + [p for p, _ in parts[1:]]))
