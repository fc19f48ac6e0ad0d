"""``wildrydes run-lab`` on a tiny notebook folder: one notebook passes, one fails."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from wildrydes_helpers.cli.main import main
from wildrydes_helpers.run_lab import (
    NotebookRun,
    clean_metadata,
    extract_plots,
    find_notebooks,
    verdict_of,
)

PASSING = [
    "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.title('t')\nplt.show()",
    "print('Reconciliation: exact (3 records of 1 unicorn)')",
]
FAILING = [
    "x = 1",
    "from wildrydes_helpers.errors import PrerequisiteError\n"
    "raise PrerequisiteError('Run 01_create_table first.')",
    "print('never reached')",
]


def _write(folder: Path, name: str, sources: list[str]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {name}")]
    nb.cells += [nbformat.v4.new_code_cell(src) for src in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The tiny notebooks touch no cloud: the aws backend keeps run-lab from starting one.
    monkeypatch.setenv("WILDRYDES_BACKEND", "aws")


def test_run_lab_runs_passing_notebook_and_saves_plots(tmp_path: Path, aws_env: None,
                                                       capsys: pytest.CaptureFixture) -> None:
    notebooks = tmp_path / "nb"
    notebooks.mkdir()
    _write(notebooks, "00_ok", PASSING)
    out = tmp_path / "out"
    code = main(["run-lab", "--notebooks", str(notebooks), "--out", str(out), "--no-progress"])
    printed = capsys.readouterr().out.splitlines()
    assert code == 0
    assert printed[0].startswith("ok  00_ok  (") and printed[0].endswith(", 1 plot)")
    assert printed[-1] == "reconciliation in 00_ok: Reconciliation: exact (3 records of 1 unicorn)"
    assert (out / "00_ok.ipynb").is_file()
    png = out / "00_ok_plot1.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = nbformat.read(out / "00_ok.ipynb", as_version=4)
    assert "widgets" not in saved.metadata
    assert saved.metadata["language_info"] == {"name": "python"}


def test_run_lab_stops_at_first_failing_cell(tmp_path: Path, aws_env: None,
                                             capsys: pytest.CaptureFixture) -> None:
    notebooks = tmp_path / "nb"
    notebooks.mkdir()
    _write(notebooks, "00_ok", PASSING[1:])
    _write(notebooks, "01_broken", FAILING)
    _write(notebooks, "02_never", ["print('not run')"])
    code = main(["run-lab", "--notebooks", str(notebooks), "--no-progress"])
    captured = capsys.readouterr()
    assert code == 1
    lines = captured.out.splitlines()
    assert lines[0].startswith("ok  00_ok")
    assert lines[-1] == ("FAILED  01_broken  (code cell 2 of 3): "
                         "PrerequisiteError: Run 01_create_table first.")
    assert "02_never" not in captured.out
    assert "Traceback" not in captured.out + captured.err
    assert "stopped at 01_broken" in captured.err


def test_run_lab_without_notebooks_says_what_to_pass(tmp_path: Path, aws_env: None,
                                                     capsys: pytest.CaptureFixture) -> None:
    code = main(["run-lab", "--notebooks", str(tmp_path), "--no-progress"])
    assert code == 2
    assert "--notebooks DIR" in capsys.readouterr().err


def test_run_lab_bad_timeout_is_one_line(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["run-lab", "--timeout", "0"])
    assert exited.value.code == 2
    assert "--timeout 0 must be at least 1 second" in capsys.readouterr().err


def test_pure_parts(tmp_path: Path) -> None:
    assert NotebookRun("03_create_function", 12.34, [Path("a")]).line() == \
        "ok  03_create_function  (12.3 s, 1 plot)"
    nb = nbformat.v4.new_notebook(metadata={"widgets": {"state": {}}})
    cell = nbformat.v4.new_code_cell("1", metadata={"execution": {"iopub.status.idle": "x"},
                                                     "tags": ["nbval-ignore-output"]})
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                           text="Reconciliation: 2 records missing\n")]
    nb.cells = [cell]
    cleaned = clean_metadata(nb)
    assert "widgets" not in cleaned.metadata
    assert cleaned.cells[0].metadata == {"tags": ["nbval-ignore-output"]}
    assert verdict_of(cleaned) == "Reconciliation: 2 records missing"
    assert extract_plots(cleaned, tmp_path, "x") == []
    (tmp_path / "b.ipynb").write_text("{}")
    (tmp_path / "a.ipynb").write_text("{}")
    assert [p.name for p in find_notebooks(tmp_path)] == ["a.ipynb", "b.ipynb"]
