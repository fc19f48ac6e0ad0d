"""`wildrydes run-lab` starts kernels ahead, yet each notebook keeps a fresh kernel of its own;
`--slowest N` names the cells that took longest."""

from __future__ import annotations

from pathlib import Path

import nbformat
import psutil
import pytest

from wildrydes_helpers.cli.main import main
from wildrydes_helpers.run_lab import isolated_env


def _kernels_left() -> list[int]:
    return [p.pid for p in psutil.Process().children(recursive=True)
            if "ipykernel" in " ".join(p.cmdline())]


def _write(folder: Path, name: str, sources: list[str]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, folder / f"{name}.ipynb")


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The tiny notebooks touch no cloud: the aws backend keeps run-lab from starting one.
    monkeypatch.setenv("WILDRYDES_BACKEND", "aws")


def test_kernels_started_ahead_are_fresh_and_the_slowest_cell_is_named(
        tmp_path: Path, aws_env: None, capsys: pytest.CaptureFixture) -> None:
    pid_file = tmp_path / "pids.txt"
    record_pid = f"import os\nopen({str(pid_file)!r}, 'a').write(f'{{os.getpid()}}\\n')"
    _write(tmp_path, "00_first", [record_pid, "leftover = 1", "import time\ntime.sleep(0.6)"])
    _write(tmp_path, "01_second", [record_pid, "assert 'leftover' not in globals()"])
    _write(tmp_path, "02_third", [record_pid, "print(1)"])
    code = main(["run-lab", "--notebooks", str(tmp_path), "--no-progress", "--slowest", "1"])
    out = capsys.readouterr().out.splitlines()
    assert code == 0, out
    assert [line.split()[1] for line in out[:3]] == ["00_first", "01_second", "02_third"]
    pids = pid_file.read_text().split()
    assert len(pids) == 3 and len(set(pids)) == 3  # one kernel per notebook
    assert out[3] == "the 1 slowest code cells:"
    assert out[4].split()[2:6] == ["00_first", "cell", "3", "import"]
    assert float(out[4].split()[0]) >= 0.6
    assert _kernels_left() == []


def test_a_failure_stops_the_kernels_started_ahead(tmp_path: Path, aws_env: None,
                                                   capsys: pytest.CaptureFixture) -> None:
    pid_file = tmp_path / "pids.txt"
    _write(tmp_path, "00_broken", ["raise ValueError('stop here')"])
    # The kernels of 01 and 02 were started ahead; they are stopped, never run.
    _write(tmp_path, "01_never", [f"open({str(pid_file)!r}, 'a').write('ran')"])
    _write(tmp_path, "02_never", [f"open({str(pid_file)!r}, 'a').write('ran')"])
    assert main(["run-lab", "--notebooks", str(tmp_path), "--no-progress"]) == 1
    assert "FAILED  00_broken  (code cell 1 of 1): ValueError: stop here" in \
        capsys.readouterr().out
    assert not pid_file.exists()
    assert _kernels_left() == []


def test_notebooks_after_the_clean_up_run_beside_in_a_cloud_of_their_own(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    def record(name: str) -> str:
        return (f"import os\nopen({str(tmp_path / name)!r}, 'w')"
                ".write(os.environ['WILDRYDES_HOME'])")

    notebooks = tmp_path / "nb"
    notebooks.mkdir()
    _write(notebooks, "00_first", [record("00")])
    _write(notebooks, "01_clean_up", [record("01")])
    _write(notebooks, "02_extra", [record("02"), "print('Reconciliation: extra')"])
    with isolated_env(3) as env:
        code = main(["run-lab", "--notebooks", str(notebooks), "--no-progress"])
        main_home = env["WILDRYDES_HOME"]
    out = capsys.readouterr().out.splitlines()
    assert code == 0, out
    assert [line.split()[1] for line in out[:3]] == ["00_first", "01_clean_up", "02_extra"]
    first, clean_up, extra = ((tmp_path / n).read_text() for n in ("00", "01", "02"))
    assert first == clean_up == main_home
    assert extra != main_home  # its own home and local cloud, gone now
    assert not Path(extra).exists()
    assert _kernels_left() == []
