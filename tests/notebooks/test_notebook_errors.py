"""In a notebook, a helper's error shows as one message a student can act on, no stack trace."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from wildrydes_helpers.errors import PrerequisiteError


def test_the_error_renders_as_its_message_only() -> None:
    lines = PrerequisiteError("Run 01_create_table first.")._render_traceback_()
    assert len(lines) == 1
    assert "PrerequisiteError" in lines[0] and "Run 01_create_table first." in lines[0]


def test_a_kernel_shows_a_helper_error_without_a_stack_trace() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "from wildrydes_helpers.config import load_config\n"
        "load_config({'WILDRYDES_WINDOW_SECONDS': '0'})"
    )]
    client = NotebookClient(nb, timeout=60, kernel_name="python3")
    with pytest.raises(CellExecutionError):
        client.execute()
    [error] = [o for o in nb.cells[0].outputs if o["output_type"] == "error"]
    assert error["ename"] == "ConfigError"
    assert len(error["traceback"]) == 1
    assert "WILDRYDES_WINDOW_SECONDS=0" in error["traceback"][0]
    assert "File " not in error["traceback"][0]
