"""The lab in a real browser: JupyterLab from the .venv, driven in headless Chromium.

A student runs `make lab`, opens the notebooks in JupyterLab and clicks Run -> Run All Cells.
These tests do the same and look at what the page shows: no error output, the progress bar
drawn as a widget (not printed as text), the per-window chart drawn as an image and the
reconciliation verdict "exact". nbval checks the notebooks' code; this checks what nbval
cannot see (the widget front end, the kernel's environment and working folder, the local
cloud started from a kernel).

The kernels share this test run's local cloud (WILDRYDES_HOME and WILDRYDES_LOCAL_PORT from
conftest.py), which conftest stops at the end of the session.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tests.browser.browser_kit import (
    REPO,
    BrowserSetupError,
    JupyterLab,
    alive,
    child_pids,
    chromium_page,
    full_screenshot,
    lab_environment,
    notebook_state,
    open_notebook,
    raw_widget_texts,
    rendered_images,
    rendered_progress_widgets,
    require_chromium,
    run_all_cells,
    running_jupyterlab,
    stderr_tracebacks,
    wait_until_executed,
)

NOTEBOOKS_DIR = REPO / "notebooks"
WINDOW_SECONDS = "3"
NOTEBOOK_TIMEOUT_S = 150.0


@dataclass(frozen=True)
class Expect:
    """What a notebook must show once Run All Cells has finished."""

    name: str
    image: bool = False
    exact: bool = False
    progress: bool = False


# A student's path through the lab, in order: 05 reads what 01-04 created and produced.
STUDENT_PATH = (
    Expect("00_introduction.ipynb", image=True),
    Expect("01_create_table.ipynb"),
    Expect("02_create_role.ipynb"),
    Expect("03_create_function.ipynb"),
    Expect("04_monitor.ipynb", image=True, progress=True),
    Expect("05_query.ipynb", image=True, exact=True, progress=True),
    Expect("06_clean_up.ipynb"),
)


@pytest.fixture(scope="module")
def chromium() -> Path:
    """Debian's Chromium; a missing browser fails the test (never skips it)."""
    try:
        return require_chromium()
    except BrowserSetupError as exc:
        pytest.fail(str(exc), pytrace=False)


def _lab_env(workdir: Path) -> dict[str, str]:
    return lab_environment(os.environ, workdir, WILDRYDES_WINDOW_SECONDS=WINDOW_SECONDS)


def _check_notebook(
    page: Any, lab: JupyterLab, expect: Expect, shots: Path,
) -> tuple[list[str], Path, float]:
    """Run one notebook as a student does; return its problems, screenshot and duration."""
    started = time.monotonic()
    open_notebook(page, lab, expect.name)
    run_all_cells(page)
    state = wait_until_executed(page, timeout_s=NOTEBOOK_TIMEOUT_S)
    problems = [f"error output in {e}" for e in state.errors()]
    problems += [f"traceback on stderr: {t[:300]!r}" for t in stderr_tracebacks(page)]
    problems += [f"widget shown as text: {t!r}" for t in raw_widget_texts(state)]
    if state.not_run:
        problems.append(f"cells never ran: {[c['index'] for c in state.not_run]}")
    if expect.image and rendered_images(page) < 1:
        problems.append("no chart image rendered in the outputs")
    if expect.progress and rendered_progress_widgets(page) < 1:
        problems.append("no progress bar drawn as a widget")
    text = state.text()
    problems += [f"a check failed: {line}" for line in text.splitlines() if "[FAILED]" in line]
    if expect.exact and (not re.search(r"\bexact\b", text) or "NOT exact" in text):
        problems.append("the reconciliation verdict is not 'exact'")
    shot = full_screenshot(page, shots / f"{Path(expect.name).stem}.png")
    return [f"{expect.name}: {p}" for p in problems], shot, time.monotonic() - started


@pytest.mark.browser
def test_student_runs_the_lab_in_jupyterlab(chromium: Path, tmp_path: Path) -> None:
    missing = [e.name for e in STUDENT_PATH if not (NOTEBOOKS_DIR / e.name).exists()]
    assert not missing, f"notebooks missing from {NOTEBOOKS_DIR}: {missing}"
    before = _fingerprints()
    started = time.monotonic()
    problems: list[str] = []
    finished: list[str] = []
    try:
        with running_jupyterlab(NOTEBOOKS_DIR, tmp_path / "jupyter", _lab_env(tmp_path)) as lab:
            with chromium_page(tmp_path / "chromium-profile") as page:
                for expect in STUDENT_PATH:
                    found, shot, seconds = _check_notebook(page, lab, expect, tmp_path)
                    print(f"{expect.name}: {seconds:.1f} s, screenshot {shot}")
                    problems += found
                    finished.append(expect.name)
            kernels = child_pids(lab.proc.pid)
            server_log = lab.log_tail(40)
    finally:
        if problems or finished != [e.name for e in STUDENT_PATH]:
            _clean_up_the_shared_cloud()
    print(f"browser test: {time.monotonic() - started:.1f} s in all")
    assert lab.proc.poll() is not None, "JupyterLab is still running after shutdown"
    assert len(kernels) >= len(STUDENT_PATH), f"expected a kernel per notebook, saw {kernels}"
    assert alive(kernels) == [], f"kernels left running after shutdown: {alive(kernels)}"
    assert not problems, "\n".join(problems) + f"\n--- JupyterLab log ---\n{server_log}"
    # Running is not saving: the repository's notebooks keep their stored outputs.
    assert _fingerprints() == before, "the browser run changed notebooks/ (autosave?)"


def _fingerprints() -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
    }


def _clean_up_the_shared_cloud() -> None:
    """Do what 06_clean_up does, so a failed run leaves no lab resource to later tests."""
    from wildrydes_helpers.cleanup import clean_up
    from wildrydes_helpers.errors import WildRydesError

    with contextlib.suppress(WildRydesError):
        clean_up()


def _scratch_notebook(path: Path) -> None:
    """A small notebook with each thing the real test looks for, and one deliberate error."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_code_cell(
            "from wildrydes_helpers.session import get_session\n"
            "print(get_session().describe())"
        ),
        nbformat.v4.new_code_cell(
            "from tqdm.auto import tqdm\n"
            "for _ in tqdm(range(3), desc='records'):\n    pass"
        ),
        nbformat.v4.new_code_cell(
            "import matplotlib.pyplot as plt\n"
            "fig, ax = plt.subplots()\nax.bar([1, 2], [2, 1])\nplt.show()"
        ),
        nbformat.v4.new_code_cell("print('reconciliation: exact')"),
        nbformat.v4.new_code_cell("raise ValueError('deliberate')"),
    ]
    nbformat.write(nb, path)


@pytest.mark.browser
def test_the_browser_harness_sees_what_a_student_sees(chromium: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    _scratch_notebook(root / "scratch.ipynb")
    with running_jupyterlab(root, tmp_path / "jupyter", _lab_env(tmp_path)) as lab, \
            chromium_page(tmp_path / "chromium-profile") as page:
        open_notebook(page, lab, "scratch.ipynb")
        run_all_cells(page)
        state = wait_until_executed(page, timeout_s=60)
        images, widgets = rendered_images(page), rendered_progress_widgets(page)
        tracebacks = stderr_tracebacks(page)
        kernel_text = notebook_state(page).text()
    assert lab.proc.poll() is not None, "JupyterLab is still running after shutdown"
    assert state.errors() == ["cell 4: ValueError: deliberate"]
    assert len(tracebacks) == 1 and "ValueError" in tracebacks[0]
    assert state.not_run == []
    assert images == 1
    assert widgets == 1
    assert raw_widget_texts(state) == []
    assert "backend: local" in kernel_text
    assert re.search(r"\bexact\b", kernel_text)


def test_a_missing_chromium_fails_with_install_advice(tmp_path: Path) -> None:
    with pytest.raises(BrowserSetupError, match=r"missing.*apt-get install -y chromium"):
        require_chromium(tmp_path / "chromium")


def test_the_lab_environment_is_a_students(tmp_path: Path) -> None:
    env = lab_environment(
        {"MPLBACKEND": "Agg", "WILDRYDES_HOME": "/h"}, tmp_path, WILDRYDES_WINDOW_SECONDS="3",
    )
    # With MPLBACKEND=Agg a kernel draws no inline chart; a student has no such setting.
    assert "MPLBACKEND" not in env
    assert env["WILDRYDES_HOME"] == "/h" and env["WILDRYDES_WINDOW_SECONDS"] == "3"
    assert env["JUPYTERLAB_SETTINGS_DIR"].startswith(str(tmp_path))
