"""tools/compile_lab_imports.py imports what exists: a renamed module would compile less."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import compile_lab_imports  # noqa: E402


def _imported(code: str) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("process", sorted(compile_lab_imports.PROCESSES))
def test_every_module_it_names_exists(process: str) -> None:
    names = _imported(compile_lab_imports.PROCESSES[process])
    assert names, process
    missing = [name for name in names if importlib.util.find_spec(name) is None]
    assert missing == []


def test_bytecode_writing_is_switched_on_for_the_imports() -> None:
    env = compile_lab_imports.bytecode_environment({"PYTHONDONTWRITEBYTECODE": "1", "A": "b"})
    assert env == {"A": "b"}
