"""The lab in a real browser: JupyterLab from the .venv, driven in headless Chromium.

A student runs `make lab`, opens the notebooks in JupyterLab and clicks Run -> Run All Cells.
These tests do the same, in a 1366x768 page (a student's laptop), and look at what the page
shows: no error output, the progress bar drawn as a widget (not printed as text), the charts
drawn as images, the reconciliation verdict "exact", each notebook's own pictures and full
calls (``Expect.shows``), and no news pop-up. At 1366x768 no output may need a horizontal
scrollbar, every image fits the notebook, and no line of an "under the hood" call wraps.

Full screenshots of every notebook go to ``<pytest tmp dir>/screenshots`` (the test prints
the folder); the readability report it prints names each output whose lines wrap and each
image shown smaller than drawn.

nbval checks the notebooks' code; this checks what nbval cannot see (the widget front end,
the kernel's environment and working folder, the local cloud started from a kernel, the
layout).

The kernels share this test run's local cloud (WILDRYDES_HOME and WILDRYDES_LOCAL_PORT from
conftest.py), which conftest stops at the end of the session.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tests.browser.browser_kit import (
    REPO,
    BrowserSetupError,
    JupyterLab,
    Layout,
    NotebookState,
    alive,
    child_pids,
    chromium_page,
    full_screenshots,
    lab_environment,
    news_notifications,
    notebook_layout,
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


# A check of what one notebook shows: (state, layout) -> problems.
Shows = Callable[[NotebookState, Layout], list[str]]


@dataclass(frozen=True)
class Expect:
    """What a notebook must show once Run All Cells has finished."""

    name: str
    image: bool = False
    exact: bool = False
    progress: bool = False
    shows: tuple[Shows, ...] = ()
    timeout_s: float = NOTEBOOK_TIMEOUT_S


def _cells(state: NotebookState, marker: str) -> set[int]:
    """Indexes of the code cells whose source holds ``marker``."""
    return {c["index"] for c in state.code_cells if marker in c["source"]}


def _figure(marker: str, what: str) -> Shows:
    """The cell calling ``marker`` shows a drawn image."""
    def check(state: NotebookState, layout: Layout) -> list[str]:
        cells = _cells(state, marker)
        if not cells:
            return [f"no cell calls {marker!r} ({what})"]
        if not [o for o in layout.images() if o["cell"] in cells]:
            return [f"{what}: cell {sorted(cells)} ({marker!r}) shows no image"]
        return []
    check.__name__ = f"figure {what}"
    return check


def _image_count(count: int) -> Shows:
    def check(state: NotebookState, layout: Layout) -> list[str]:
        found = [layout.describe(o) for o in layout.images()]
        return [] if len(found) == count else [f"{count} images expected, saw {found}"]
    return check


def _text(*parts: str, what: str) -> Shows:
    """One output on the page shows every one of ``parts``."""
    def check(state: NotebookState, layout: Layout) -> list[str]:
        if any(all(p in text for p in parts) for text in layout.text()):
            return []
        near = [t[:200] for t in layout.text() if parts[0] in t]
        return [f"{what}: no output shows all of {list(parts)} (outputs with {parts[0]!r}: "
                f"{near or 'none'})"]
    return check


def _calls_unwrapped(state: NotebookState, layout: Layout) -> list[str]:
    """No line of an "under the hood" output (``show_calls``) is wider than the output.

    JupyterLab wraps such a line in mid-word. The one exception is a line that is a single
    token (``ShardIterator='<opaque 100+ characters>',``): no layout can keep it on one line
    without cutting it, and the readability report lists it.
    """
    cells = _cells(state, "show_calls(")
    problems = []
    for out in layout.in_cells(cells):
        if not (out["pre"] and out["pre"]["wrapped"]):
            continue
        folded = [line for line in out["pre"]["long"] if len(line.split()) > 1]
        if folded:
            problems.append(
                f"an 'under the hood' line wraps at {layout.viewport[0]}x{layout.viewport[1]}: "
                f"{layout.describe(out)}; lines: {[line[:120] for line in folded]}"
            )
    return problems


# A student's path through the lab, in order: 05 reads what 01-04 created and produced; 07
# (extra credit) makes sure 00-03 are done itself, after 06 has cleaned up.
STUDENT_PATH = (
    Expect("00_introduction.ipynb", image=True, shows=(
        _figure("plot_architecture(", "the architecture picture"),
        _figure("plot_tumbling_windows(", "the window picture"),
        _image_count(2),
    )),
    Expect("01_create_table.ipynb"),
    Expect("02_create_role.ipynb"),
    Expect("03_create_function.ipynb", shows=(
        _text("CreateEventSourceMapping(", "TumblingWindowInSeconds=",
              "BisectBatchOnFunctionError=", "MaximumRetryAttempts=", "DestinationConfig=",
              what="the whole trigger call"),
    )),
    Expect("04_monitor.ipynb", image=True, progress=True, shows=(
        _figure("plot_state_over_time(", "the state-over-time figure"),
    )),
    Expect("05_query.ipynb", image=True, exact=True, progress=True, shows=(
        _figure("plot_distance(", "the distance chart"),
    )),
    Expect("06_clean_up.ipynb"),
    Expect("07_extra_credit_failures.ipynb", timeout_s=420.0, shows=(
        _text('"KinesisBatchInfo"', '"condition"', '"shardId"', what="the failure record"),
        _text("retried from record", what="the ReportBatchItemFailures demo summary"),
    )),
)
# The notebooks whose screenshots issue 13 asks for (every notebook gets one).
SCREENSHOTS_CHECKED = ("00", "03", "04", "05", "07")


@pytest.fixture(scope="module")
def chromium() -> Path:
    """Debian's Chromium; a missing browser fails the test (never skips it)."""
    try:
        return require_chromium()
    except BrowserSetupError as exc:
        pytest.fail(str(exc), pytrace=False)


def _lab_env(workdir: Path) -> dict[str, str]:
    return lab_environment(os.environ, workdir, WILDRYDES_WINDOW_SECONDS=WINDOW_SECONDS)


def _layout_problems(name: str, layout: Layout) -> list[str]:
    """What does not read well at the page's size: horizontal scrolling, an image too wide."""
    problems = [f"needs a horizontal scrollbar: {layout.describe(o)}" for o in layout.scrolled()]
    problems += [
        f"image wider than the notebook: {layout.describe(o)}"
        for o in layout.images() if o["image"]["overhang"] > 0
    ]
    return problems


def _readability(name: str, layout: Layout) -> list[str]:
    """The report lines for one notebook: its width, wrapped text, images shown smaller."""
    lines = [
        f"{name}: page {layout.viewport[0]}x{layout.viewport[1]}, notebook "
        f"{layout.notebook_width} px wide, file browser "
        f"{'open' if layout.left_sidebar_open else 'closed'}"
    ]
    lines += [f"  {layout.describe(o)}" for o in layout.images()]
    lines += [f"  {layout.describe(o)}" for o in layout.wrapped()]
    return lines


def _check_notebook(
    page: Any, lab: JupyterLab, expect: Expect, shots: Path,
) -> tuple[list[str], list[Path], list[str], float]:
    """Run one notebook as a student does; return its problems, screenshots, report, time."""
    started = time.monotonic()
    open_notebook(page, lab, expect.name)
    run_all_cells(page)
    state = wait_until_executed(page, timeout_s=expect.timeout_s)
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
    # Measured at 1366x768, before the screenshot grows the page: what a student sees.
    layout = notebook_layout(page)
    problems += _layout_problems(expect.name, layout)
    problems += _calls_unwrapped(state, layout)
    for shows in expect.shows:
        problems += shows(state, layout)
    problems += [f"news notification shown: {t!r}" for t in news_notifications(page)]
    paths = full_screenshots(page, shots / f"{Path(expect.name).stem}.png")
    report = _readability(expect.name, layout)
    return [f"{expect.name}: {p}" for p in problems], paths, report, time.monotonic() - started


@pytest.mark.browser
def test_student_runs_the_lab_in_jupyterlab(chromium: Path, tmp_path: Path) -> None:
    missing = [e.name for e in STUDENT_PATH if not (NOTEBOOKS_DIR / e.name).exists()]
    assert not missing, f"notebooks missing from {NOTEBOOKS_DIR}: {missing}"
    before = _fingerprints()
    started = time.monotonic()
    shots = tmp_path / "screenshots"
    shots.mkdir()
    print(f"\nbrowser test: screenshots in {shots}")
    problems: list[str] = []
    finished: list[str] = []
    report: list[str] = []
    screenshots: dict[str, list[Path]] = {}
    try:
        with running_jupyterlab(NOTEBOOKS_DIR, tmp_path / "jupyter", _lab_env(tmp_path)) as lab:
            with chromium_page(tmp_path / "chromium-profile") as page:
                for expect in STUDENT_PATH:
                    found, paths, lines, seconds = _check_notebook(page, lab, expect, shots)
                    print(f"{expect.name}: {seconds:.1f} s, screenshot "
                          + ", ".join(p.name for p in paths))
                    problems += found
                    report += lines
                    screenshots[expect.name[:2]] = paths
                    finished.append(expect.name)
            kernels = child_pids(lab.proc.pid)
            server_log = lab.log_tail(40)
    finally:
        if problems or finished != [e.name for e in STUDENT_PATH]:
            _clean_up_the_shared_cloud()
    print("readability at 1366x768:\n" + "\n".join(report))
    print(f"browser test: {time.monotonic() - started:.1f} s in all; screenshots in {shots}")
    assert lab.proc.poll() is not None, "JupyterLab is still running after shutdown"
    assert len(kernels) >= len(STUDENT_PATH), f"expected a kernel per notebook, saw {kernels}"
    assert alive(kernels) == [], f"kernels left running after shutdown: {alive(kernels)}"
    assert not problems, "\n".join(problems) + f"\n--- JupyterLab log ---\n{server_log}"
    for number in SCREENSHOTS_CHECKED:
        assert screenshots.get(number) and all(p.stat().st_size > 10_000
                                               for p in screenshots[number]), number
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
        # Too wide for 1366 px: a 250-character line (wraps) and a 2400 px image (scaled).
        nbformat.v4.new_code_cell("print('x' * 250)\nprint('short')"),
        nbformat.v4.new_code_cell(
            "fig, ax = plt.subplots(figsize=(24, 2), dpi=100)\nax.plot([1, 2])\nplt.show()"
        ),
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
        layout = notebook_layout(page)
        quiet = news_notifications(page)
        # The toast JupyterLab shows when fetchNews is left at "none" ("Ask").
        page.evaluate("""() => window.jupyterapp.commands.execute('apputils:notify', {
            message: 'Would you like to get notified about official Jupyter news?',
            type: 'default', options: {autoClose: false}})""")
        page.wait_for_timeout(1000)
        news = news_notifications(page)
        shots = full_screenshots(page, tmp_path / "scratch.png")
    assert lab.proc.poll() is not None, "JupyterLab is still running after shutdown"
    assert state.errors() == ["cell 6: ValueError: deliberate"]
    assert len(tracebacks) == 1 and "ValueError" in tracebacks[0]
    assert state.not_run == []
    assert images == 2
    # The page is a student's laptop; JupyterLab wraps a long line and scales a wide image.
    assert layout.viewport == (1366, 768)
    assert layout.scrolled() == [], [layout.describe(o) for o in layout.scrolled()]
    wrapped = layout.wrapped()
    assert [o["cell"] for o in wrapped] == [4], [layout.describe(o) for o in wrapped]
    assert wrapped[0]["pre"]["longest"] == 250 and wrapped[0]["pre"]["wrapped"] == 1
    assert 60 < wrapped[0]["pre"]["columns"] < 250
    wide = [o for o in layout.images() if o["cell"] == 5]
    assert len(wide) == 1 and wide[0]["image"]["overhang"] == 0
    assert wide[0]["image"]["shown"][0] < wide[0]["image"]["natural"][0]
    assert wide[0]["image"]["shown"][0] <= layout.notebook_width
    assert quiet == [], f"news shown although the test's settings say fetchNews false: {quiet}"
    assert any("Jupyter news" in t for t in news), news
    # A short notebook is one picture, as tall as its cells, as wide as the page.
    from PIL import Image

    assert shots == [tmp_path / "scratch.png"]
    with Image.open(shots[0]) as picture:
        assert picture.width == 1366 and 768 <= picture.height < 4000, picture.size
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
