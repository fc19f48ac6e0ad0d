"""Run the lab's notebooks headless, in order, and keep what they produced.

Used by ``wildrydes run-lab`` (a teacher's rehearsal the day before class) and by the
project's tools that execute the committed notebooks. Each notebook runs in a fresh kernel
(nbclient), as a student's would; they share one local cloud, as a student's do.

``run_lab`` starts the kernel of the next notebook while the current one runs (most of a
notebook's time is waiting for windows), and has it import the lab's heavy modules then, so a
notebook does not wait for its kernel. Each notebook still gets a kernel of its own.

Example
-------
>>> from pathlib import Path
>>> run = run_lab(Path("notebooks"), Path("/tmp/lab"))     # doctest: +SKIP
>>> run.ok                                                  # doctest: +SKIP
True
"""

from __future__ import annotations

import base64
import collections
import contextlib
import html
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import nbformat

from .config import DEFAULT_REGION, Config, load_config
from .errors import WildRydesError
from .local import process as local_cloud
from .ports import free_port
from .producer import stop_all_producers

KERNEL_NAME = "python3"
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
CELL_TIMEOUT_S = 900  # a 60 s window lab waits a few windows in one cell
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# Lines of 05_query's output that carry the reconciliation's verdict.
_VERDICT = re.compile(r"^(reconciliation|verdict)\b.*$", re.MULTILINE | re.IGNORECASE)
# Cell metadata that changes on every run and says nothing about the lab.
_NOISY_CELL_METADATA = ("execution", "ExecuteTime", "collapsed", "scrolled")


class NotebookFailed(WildRydesError):
    """A notebook's cell raised: names the notebook, the cell and the error message."""

    def __init__(self, notebook: str, cell: int, total: int, message: str) -> None:
        self.notebook, self.cell, self.total, self.error = notebook, cell, total, message
        super().__init__(f"{notebook}: code cell {cell} of {total} failed: {message}")


@dataclass(frozen=True)
class CellTime:
    """How long one code cell ran: its number among the code cells, seconds, first line."""

    notebook: str
    cell: int
    seconds: float
    first_line: str

    def line(self) -> str:
        """One line of ``run-lab --slowest``.

        Example
        -------
        >>> CellTime("04_monitor", 3, 12.345, "wait_for_producer()").line()
        '  12.3 s  04_monitor  cell 3  wait_for_producer()'
        """
        return f"{self.seconds:6.1f} s  {self.notebook}  cell {self.cell}  {self.first_line}"


@dataclass
class NotebookRun:
    """The outcome of one notebook: how long it took, the plots it drew, its cells' times."""

    name: str
    seconds: float
    plots: list[Path] = field(default_factory=list)
    cells: list[CellTime] = field(default_factory=list)

    def line(self) -> str:
        """The one line ``run-lab`` prints for it.

        Example
        -------
        >>> NotebookRun("03_create_function", 12.34, []).line()
        'ok  03_create_function  (12.3 s, 0 plots)'
        """
        plots = f"{len(self.plots)} plot" + ("" if len(self.plots) == 1 else "s")
        return f"ok  {self.name}  ({self.seconds:.1f} s, {plots})"


@dataclass
class LabRun:
    """All notebooks of a run, the failure (if any) and the reconciliation verdict."""

    notebooks: list[NotebookRun] = field(default_factory=list)
    failure: NotebookFailed | None = None
    verdict: str | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None

    def slowest(self, count: int) -> list[CellTime]:
        """The ``count`` slowest code cells of the whole run, slowest first."""
        cells = [c for nb in self.notebooks for c in nb.cells]
        return sorted(cells, key=lambda c: c.seconds, reverse=True)[:count]


def find_notebooks(directory: Path) -> list[Path]:
    """The notebooks of ``directory`` in the order students run them (by file name).

    Example
    -------
    >>> find_notebooks(Path("/nonexistent"))
    Traceback (most recent call last):
    ...
    wildrydes_helpers.errors.WildRydesError: No notebooks found in /nonexistent: ...
    """
    found = sorted(p for p in directory.glob("*.ipynb") if not p.name.startswith("."))
    if not found:
        raise WildRydesError(
            f"No notebooks found in {directory}: pass the lab's notebooks folder with "
            "--notebooks DIR (the repository's notebooks/).")
    return found


def _error_of(nb: Any) -> tuple[int, int, str]:
    """(1-based code cell number, number of code cells, message) of the first error output."""
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    for number, cell in enumerate(code_cells, 1):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                message = _ANSI.sub("", f"{out.get('ename', 'Error')}: {out.get('evalue', '')}")
                return number, len(code_cells), message.strip()
    return 0, len(code_cells), "the notebook stopped without an error output"


def _kernel_env(env: Mapping[str, str] | None) -> dict[str, str]:
    kernel_env = dict(os.environ if env is None else env)
    # A kernel draws inline only when no other matplotlib backend is forced on it.
    kernel_env["MPLBACKEND"] = INLINE_BACKEND
    return kernel_env


# How many notebooks ahead a kernel is started: enough to hide a kernel's start behind the
# short notebooks (01, 02 take about two seconds), few enough to leave the cores to the lab.
KERNELS_AHEAD = 2
# What every notebook's first cell imports; a kernel started ahead imports them while it waits.
WARM_IMPORTS = ("import wildrydes_helpers, wildrydes_helpers.display, pandas, "
                "matplotlib.pyplot, tqdm.auto")


class ReadyKernel:
    """A kernel started ahead of its notebook, in the background, with the lab's imports done.

    ``take()`` waits for it and hands over its kernel manager (or None if it could not start,
    and the notebook then starts its own kernel as usual).

    Example
    -------
    >>> ready = ReadyKernel(Path("notebooks/01_create_table.ipynb"))   # doctest: +SKIP
    >>> km = ready.take()                                               # doctest: +SKIP
    """

    def __init__(self, path: Path, env: Mapping[str, str] | None = None) -> None:
        self._result: queue.Queue[Any] = queue.Queue(maxsize=1)
        self._thread = threading.Thread(target=self._start, args=(path, _kernel_env(env)),
                                        name=f"kernel-{path.stem}", daemon=True)
        self._thread.start()

    def _start(self, path: Path, env: dict[str, str]) -> None:
        from jupyter_client.manager import KernelManager

        km = None
        try:
            km = KernelManager(kernel_name=KERNEL_NAME)
            km.start_kernel(cwd=str(path.parent), env=env, stderr=subprocess.DEVNULL)
            kc = km.blocking_client()
            kc.start_channels()
            try:
                kc.wait_for_ready(timeout=60)
                # Silent: no output, no execution count, nothing in the notebook's history.
                kc.execute_interactive(WARM_IMPORTS, silent=True, store_history=False,
                                       timeout=120)
            finally:
                kc.stop_channels()
            self._result.put(km)
        except Exception:  # noqa: BLE001 - the notebook then starts its own kernel
            if km is not None:
                _shutdown(km)
            self._result.put(None)

    def take(self) -> Any:
        """The started kernel's manager, or None."""
        return self._result.get()

    def discard(self) -> None:
        """Stop the kernel if it was never used."""
        km = self.take()
        if km is not None:
            _shutdown(km)


def execute_notebook(path: Path, timeout: int = CELL_TIMEOUT_S,
                     env: Mapping[str, str] | None = None, km: Any = None,
                     stopping: list[threading.Thread] | None = None) -> Any:
    """Run ``path`` in a fresh kernel (cwd: its folder); return the executed notebook.

    ``km`` is a kernel manager whose kernel was started for this notebook (``ReadyKernel``);
    it is shut down at the end, in a thread added to ``stopping`` when that list is given (the
    caller joins it), so the next notebook need not wait. Raises NotebookFailed naming the
    failing cell and its error message.

    Example
    -------
    >>> nb = execute_notebook(Path("notebooks/00_introduction.ipynb"))   # doctest: +SKIP
    """
    # nbclient (and the kernel machinery under it) is heavy: loaded only to run a notebook.
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, km=km, timeout=timeout, kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        # The kernel's own stderr (start-up warnings) is not the lab's output.
        client.execute(env=_kernel_env(env), stderr=subprocess.DEVNULL)
    except CellExecutionError:
        number, total, message = _error_of(nb)
        raise NotebookFailed(path.stem, number, total, message) from None
    except CellTimeoutError:
        number, total = _running_cell(nb)
        raise NotebookFailed(path.stem, number, total,
                             f"no result within {timeout} s (cell timeout)") from None
    except DeadKernelError as exc:
        number, total = _running_cell(nb)
        raise NotebookFailed(path.stem, number, total, f"the kernel died ({exc})") from None
    finally:
        if km is not None:  # a kernel handed in is not shut down by nbclient
            with contextlib.suppress(Exception):
                client.kc.stop_channels()
            if stopping is None:
                _shutdown(km)
            else:
                stopping.append(threading.Thread(target=_shutdown, args=(km,), daemon=True))
                stopping[-1].start()
    return nb


def _shutdown(km: Any) -> None:
    with contextlib.suppress(Exception):
        km.shutdown_kernel(now=True)


def cell_times(nb: Any, name: str) -> list[CellTime]:
    """Each executed code cell's time, from the timestamps nbclient records in its metadata.

    Example
    -------
    >>> cell = nbformat.v4.new_code_cell("wait()", metadata={"execution": {
    ...     "iopub.execute_input": "2024-05-01T12:00:00.000000Z",
    ...     "shell.execute_reply": "2024-05-01T12:00:02.500000Z"}})
    >>> nb = nbformat.v4.new_notebook(cells=[cell])
    >>> cell_times(nb, "04_monitor")
    [CellTime(notebook='04_monitor', cell=1, seconds=2.5, first_line='wait()')]
    """
    out: list[CellTime] = []
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    for number, cell in enumerate(code_cells, 1):
        times = cell.metadata.get("execution", {})
        began, ended = times.get("iopub.execute_input"), times.get("shell.execute_reply")
        if not (began and ended):
            continue
        seconds = (datetime.fromisoformat(ended) - datetime.fromisoformat(began)).total_seconds()
        first = next((line for line in cell.source.splitlines()
                      if line.strip() and not line.startswith("#")), "")
        out.append(CellTime(name, number, round(seconds, 3), first[:60]))
    return out


def _running_cell(nb: Any) -> tuple[int, int]:
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    ran = [i for i, c in enumerate(code_cells, 1) if c.get("execution_count")]
    return (ran[-1] if ran else 1), len(code_cells)


def extract_plots(nb: Any, out_dir: Path, stem: str) -> list[Path]:
    """Write every image/png output of ``nb`` to ``out_dir/<stem>_plotN.png``.

    Example
    -------
    >>> extract_plots(nbformat.v4.new_notebook(), Path("/tmp"), "x")
    []
    """
    paths: list[Path] = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            png = out.get("data", {}).get("image/png")
            if png:
                out_dir.mkdir(parents=True, exist_ok=True)
                path = out_dir / f"{stem}_plot{len(paths) + 1}.png"
                path.write_bytes(base64.b64decode(png))
                paths.append(path)
    return paths


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def progress_bar_text(models: dict[str, Any], model_id: str) -> str | None:
    """The text a tqdm bar (an HBox of HTML, progress, HTML) showed when it ended, or None.

    Example
    -------
    >>> models = {"b": {"model_name": "HBoxModel", "state": {"children": [
    ...     "IPY_MODEL_l", "IPY_MODEL_p", "IPY_MODEL_r"]}},
    ...     "l": {"state": {"value": "records\u2007sent:\u2007100%"}},
    ...     "p": {"state": {"value": 5.0, "max": 5.0}},
    ...     "r": {"state": {"value": "\u20075/5\u2007[00:03&lt;00:00]"}}}
    >>> progress_bar_text(models, "b")
    'records sent: 100%|██████████| 5/5 [00:03<00:00]'
    """
    box = models.get(model_id, {})
    children = box.get("state", {}).get("children", [])
    if box.get("model_name") != "HBoxModel" or len(children) != 3:
        return None
    left, bar, right = (models.get(str(c).removeprefix("IPY_MODEL_"), {}).get("state", {})
                        for c in children)
    try:
        share = float(bar["value"]) / float(bar["max"]) if float(bar["max"]) else 0.0
    except (KeyError, TypeError, ValueError):
        return None
    filled = min(10, int(share * 10))
    bar_text = "█" * filled + " " * (10 - filled)
    return f"{_widget_text(left.get('value'))}|{bar_text}|{_widget_text(right.get('value'))}"


def _widget_text(value: object) -> str:
    return html.unescape(str(value or "")).replace("\u2007", " ")


def settle_progress_bars(nb: Any) -> Any:
    """Give each saved progress bar the text it ended with, not the 0% it started with.

    A tqdm bar is a widget: without its saved state (dropped as noise), a reader of the saved
    notebook sees the bar's plain-text fallback, which tqdm writes once, at 0%.

    Example
    -------
    >>> settle_progress_bars(nbformat.v4.new_notebook()).cells
    []
    """
    models = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            view = out.get("data", {}).get(WIDGET_VIEW)
            final = progress_bar_text(models, view.get("model_id", "")) if view else None
            if final is not None:
                out["data"]["text/plain"] = final
    return nb


def clean_metadata(nb: Any) -> Any:
    """Drop what changes from run to run (timings, versions, widget state); keep the rest.

    Example
    -------
    >>> nb = nbformat.v4.new_notebook(metadata={"widgets": {}, "language_info": {
    ...     "name": "python", "version": "3.11.9"}})
    >>> sorted(clean_metadata(nb).metadata)
    ['kernelspec', 'language_info']
    """
    settle_progress_bars(nb)
    nb.metadata.pop("widgets", None)
    nb.metadata.pop("papermill", None)
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python",
                                 "name": KERNEL_NAME}
    for cell in nb.cells:
        for key in _NOISY_CELL_METADATA:
            cell.metadata.pop(key, None)
    return nb


def verdict_of(nb: Any) -> str | None:
    """The reconciliation verdict printed by a notebook's outputs (05_query), if any.

    Example
    -------
    >>> verdict_of(nbformat.v4.new_notebook()) is None
    True
    """
    found = None
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("text") or out.get("data", {}).get("text/plain", "")
            match = _VERDICT.search(text if isinstance(text, str) else "".join(text))
            if match:
                found = match.group(0).strip()
    return found





# Variables the lab, boto3 or moto read. A value from the shell is dropped before a run of
# the lab's own (tests, nbval, run-lab) sets its own.
CLEARED_PREFIXES = ("WILDRYDES_", "AWS_", "MOTO_")


def lab_environment(base: Mapping[str, str], home: Path, port: int,
                    window_seconds: int) -> dict[str, str]:
    """``base`` without any WILDRYDES_*, AWS_* or MOTO_* setting, plus a local lab's own.

    The lab's home and port, the local backend, the window, a region, and AWS configuration
    files inside the home, so the machine's own AWS profile and credentials are never read.

    Example
    -------
    >>> env = lab_environment({"AWS_PROFILE": "p", "WILDRYDES_PREFIX": "zz", "PATH": "/bin"},
    ...                       Path("/tmp/h"), 5000, 3)
    >>> env["WILDRYDES_WINDOW_SECONDS"], "AWS_PROFILE" in env, "WILDRYDES_PREFIX" in env
    ('3', False, False)
    >>> env["PATH"], env["WILDRYDES_LOCAL_PORT"], env["AWS_REGION"]
    ('/bin', '5000', 'us-east-1')
    """
    env = {k: v for k, v in base.items() if not k.startswith(CLEARED_PREFIXES)}
    env.update({
        "WILDRYDES_HOME": str(home),
        "WILDRYDES_LOCAL_PORT": str(port),
        "WILDRYDES_BACKEND": "local",
        "WILDRYDES_WINDOW_SECONDS": str(window_seconds),
        "AWS_REGION": DEFAULT_REGION,
        "AWS_DEFAULT_REGION": DEFAULT_REGION,
        "AWS_CONFIG_FILE": str(home / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
    })
    return env

@contextlib.contextmanager
def isolated_env(window_seconds: int = 3) -> Iterator[dict[str, str]]:
    """Point this process (and the kernels it starts) at a fresh local cloud; stop it after.

    A temporary WILDRYDES_HOME and a free port, so a rehearsal never touches a student's own
    local cloud, and the whole environment of ``lab_environment``, so nothing exported in the
    shell (a 60 s window, a prefix, an AWS profile) changes what the notebooks do. Producers and
    the local cloud of that home are stopped on exit, by PID, and the environment is restored.

    Example
    -------
    >>> with isolated_env(3) as env:        # doctest: +SKIP
    ...     run_lab(Path("notebooks"), Path("/tmp/lab"))
    """
    home = Path(tempfile.mkdtemp(prefix="wildrydes-run-"))
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(lab_environment(saved, home, free_port(), window_seconds))
    os.environ.pop("MPLBACKEND", None)  # the kernels draw inline, as a student's do
    try:
        yield dict(os.environ)
    finally:
        cfg = load_config()
        stop_lab_processes(cfg)
        local_cloud.stop(cfg)
        shutil.rmtree(home, ignore_errors=True)
        os.environ.clear()
        os.environ.update(saved)


def stop_lab_processes(cfg: Config) -> None:
    """Stop the producers recorded under ``cfg.home``.

    Example
    -------
    >>> from wildrydes_helpers.config import load_config
    >>> stop_lab_processes(load_config())       # doctest: +SKIP
    """
    stop_all_producers(cfg)


CLEAN_UP_MARK = "clean_up"


def split_after_clean_up(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """(the notebooks up to the clean-up notebook, those after it).

    The clean-up notebook deletes everything the lab made, so a notebook after it starts from
    an empty cloud and builds what it needs itself (every notebook's first cell does): it can
    run beside the others in a fresh local cloud of its own.

    Example
    -------
    >>> names = ["05_query", "06_clean_up", "07_extra_credit_failures"]
    >>> [[p.name for p in part] for part in split_after_clean_up([Path(n) for n in names])]
    [['05_query', '06_clean_up'], ['07_extra_credit_failures']]
    >>> split_after_clean_up([Path("00_a"), Path("01_b")])[1]
    []
    """
    for index, path in enumerate(paths):
        if CLEAN_UP_MARK in path.stem:
            return paths[:index + 1], paths[index + 1:]
    return paths, []


class _Tail(threading.Thread):
    """The notebooks after the clean-up, in order, in a fresh home and local cloud of their own.

    Results are ``(path, executed notebook, seconds)``, or a NotebookFailed that ended it.
    """

    def __init__(self, paths: list[Path], timeout: int) -> None:
        super().__init__(name="run-lab-tail", daemon=True)
        self.paths, self.timeout = paths, timeout
        self.results: list[tuple[Path, Any, float] | NotebookFailed] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        home = Path(tempfile.mkdtemp(prefix="wildrydes-run-tail-"))
        env = lab_environment(os.environ, home, free_port(), load_config().window_seconds)
        cfg = load_config(env)
        try:
            local_cloud.start(cfg)
            for path in self.paths:
                started = time.monotonic()
                try:
                    nb = execute_notebook(path, timeout=self.timeout, env=env)
                except NotebookFailed as failed:
                    self.results.append(failed)
                    return
                self.results.append((path, nb, time.monotonic() - started))
        except BaseException as exc:  # noqa: BLE001 - reported by run_lab in its thread
            self.error = exc
        finally:
            stop_lab_processes(cfg)
            local_cloud.stop(cfg)
            shutil.rmtree(home, ignore_errors=True)


def run_lab(notebooks_dir: Path, out_dir: Path | None = None, *,
            timeout: int = CELL_TIMEOUT_S, progress: bool = True,
            echo: Callable[[str], None] = print, prestart: bool = True,
            before_first: Callable[[], object] | None = None,
            parallel_tail: bool | None = None) -> LabRun:
    """Run every notebook of ``notebooks_dir`` in order; stop at the first failing cell.

    Writes each executed notebook and each plot (PNG) to ``out_dir`` when given, echoes one
    line per notebook, and returns the run with the reconciliation verdict found in the
    outputs and each cell's time. With ``prestart`` the next notebook's kernel is started
    (and has imported the lab's modules) while the current notebook runs. ``before_first``
    (e.g. starting the local cloud) runs once the first kernels are starting, so the two
    overlap. With ``parallel_tail`` (default: on the local backend) the notebooks after the
    clean-up notebook run from the start, beside the others, in a local cloud of their own
    (``split_after_clean_up``); their lines and results still come in notebook order.

    Example
    -------
    >>> run_lab(Path("notebooks"), Path("/tmp/lab")).verdict    # doctest: +SKIP
    '05_query: verdict: exact (18 records, each in the stream once and counted once, ...)'
    """
    from tqdm.auto import tqdm  # heavy (it may load ipywidgets): only a run pays for it

    paths = find_notebooks(notebooks_dir)
    if parallel_tail is None:
        parallel_tail = load_config().is_local
    paths, tail_paths = split_after_clean_up(paths) if parallel_tail else (paths, [])
    tail = _Tail(tail_paths, timeout) if tail_paths else None
    if tail is not None:
        tail.start()
    run = LabRun()
    bar = tqdm(paths, desc="notebooks", unit="nb", disable=not progress, leave=False)
    # Kernels of the next notebooks start while the current one runs (it mostly waits).
    ahead: collections.deque[ReadyKernel] = collections.deque(
        ReadyKernel(p) for p in paths[:KERNELS_AHEAD] if prestart)
    stopping: list[threading.Thread] = []
    try:
        if before_first is not None:
            before_first()
        for index, path in enumerate(bar):
            bar.set_postfix_str(path.stem)
            started = time.monotonic()
            km = ahead.popleft().take() if ahead else None
            if prestart and index + KERNELS_AHEAD < len(paths):
                ahead.append(ReadyKernel(paths[index + KERNELS_AHEAD]))
            try:
                nb = execute_notebook(path, timeout=timeout, km=km, stopping=stopping)
            except NotebookFailed as failed:
                run.failure = failed
                return run
            _record(run, path, nb, time.monotonic() - started, out_dir,
                    bar.write if progress else echo)
        if tail is not None:
            tail.join()
            if tail.error is not None:
                raise tail.error
            for done in tail.results:
                if isinstance(done, NotebookFailed):
                    run.failure = done
                    return run
                _record(run, *done, out_dir, bar.write if progress else echo)
    finally:
        for kernel in ahead:
            kernel.discard()
        for thread in stopping:
            thread.join()
        if tail is not None:
            tail.join()  # it stops its own local cloud and producers
        bar.close()
    return run


def _record(run: LabRun, path: Path, nb: Any, seconds: float, out_dir: Path | None,
            echo: Callable[[str], None]) -> None:
    """Add one executed notebook to ``run``: its times, plots, verdict; save it; echo it."""
    timed = cell_times(nb, path.stem)  # before clean_metadata drops the timestamps
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        nbformat.write(clean_metadata(nb), out_dir / path.name)
        plots = extract_plots(nb, out_dir, path.stem)
    else:
        plots = [Path(f"plot{i}") for i in range(_count_pngs(nb))]
    result = NotebookRun(path.stem, seconds, plots, timed)
    run.notebooks.append(result)
    if run.verdict is None:  # 05_query's; 07 reconciles its deliberate losses too
        found = verdict_of(nb)
        run.verdict = f"{path.stem}: {found}" if found else None
    echo(result.line())


def _count_pngs(nb: Any) -> int:
    return sum(1 for c in nb.cells for o in c.get("outputs", [])
               if "image/png" in o.get("data", {}))


_UNCHECKED_TAGS = {"nbval-ignore-output", "nbval-skip"}
_UNCHECKED_MARKERS = ("# NBVAL_IGNORE_OUTPUT", "# NBVAL_SKIP", "# PYTEST_VALIDATE_IGNORE_OUTPUT")


def checked_outputs(nb: Any) -> tuple[int, int]:
    """(code cells with output that nbval compares, code cells with output) of ``nb``.

    Example
    -------
    >>> nb = nbformat.v4.new_notebook()
    >>> cell = nbformat.v4.new_code_cell("1", metadata={"tags": ["nbval-ignore-output"]})
    >>> cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x")]
    >>> nb.cells = [cell]
    >>> checked_outputs(nb)
    (0, 1)
    """
    checked = total = 0
    for cell in nb.cells:
        if cell.cell_type != "code" or not cell.get("outputs"):
            continue
        total += 1
        tags = set(cell.metadata.get("tags", []))
        marked = any(line.strip() in _UNCHECKED_MARKERS for line in cell.source.splitlines())
        if not (tags & _UNCHECKED_TAGS) and not marked:
            checked += 1
    return checked, total
