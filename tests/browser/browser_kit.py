"""Drive the lab as a student does: JupyterLab from the project's .venv, seen in Chromium.

JupyterLab runs as a child process on a free 127.0.0.1 port with a token and is stopped by
its PID. Chromium is Debian's (``/usr/bin/chromium``), driven by Playwright; Playwright never
downloads a browser of its own. What the page shows is read from the DOM (images, widgets,
text) and from JupyterLab's own notebook model (execution counts, output types), which the
server exposes with ``LabApp.expose_app_in_browser``.

Example
-------
>>> with running_jupyterlab(REPO / "notebooks", tmp, env) as lab:      # doctest: +SKIP
...     with chromium_page(tmp / "profile") as page:
...         open_notebook(page, lab, "00_introduction.ipynb")
...         run_all_cells(page)
...         report = wait_until_executed(page, timeout_s=120)
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from wildrydes_helpers import processes
from wildrydes_helpers.ports import free_port

REPO = Path(__file__).resolve().parents[2]
# A student's laptop: the smallest screen the notebooks must read well on.
VIEWPORT = {"width": 1366, "height": 768}
VENV_BIN = REPO / ".venv" / "bin"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
INSTALL_HINT = (
    "Install it with `sudo apt-get update && sudo apt-get install -y chromium` "
    "(or run `sudo bash tools/install_browser.sh`), then run the test again."
)
# Settings a student keeps by default, changed only where the test must not touch the repo
# (autosave would write executed outputs into notebooks/).
# The news pop-up is NOT silenced here: `make install` writes the venv's overrides.json
# (tools/quiet_jupyterlab.py), and the test checks that what a student gets is quiet.
LAB_SETTINGS: dict[str, dict[str, Any]] = {
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
}
# Text that shows a widget was printed instead of drawn (tqdm without ipywidgets, or a
# front end without the widget manager).
RAW_WIDGET_PATTERNS = (
    "HBox(children=", "FloatProgress(", "IntProgress(", "IProgress not found",
    "Error displaying widget", "Loading widget...",
)


class BrowserSetupError(RuntimeError):
    """The browser or JupyterLab could not be started; the message says what to do."""




def require_chromium(path: Path = CHROMIUM) -> Path:
    """Return the Chromium executable, or raise saying how to install it.

    Example
    -------
    >>> require_chromium(Path("/nonexistent/chromium"))
    Traceback (most recent call last):
    ...
    browser_kit.BrowserSetupError: /nonexistent/chromium is missing...
    """
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise BrowserSetupError(
            f"{path} is missing: the browser test drives Debian's Chromium. {INSTALL_HINT}"
        )
    return path


def write_lab_settings(settings_dir: Path, settings: Mapping[str, Mapping[str, Any]]) -> None:
    """Write JupyterLab user settings (``<plugin>.jupyterlab-settings``) under ``settings_dir``.

    Example
    -------
    >>> write_lab_settings(tmp, LAB_SETTINGS)                           # doctest: +SKIP
    """
    for plugin, values in settings.items():
        target = settings_dir / f"{plugin}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values, indent=2))


def lab_environment(base: Mapping[str, str], workdir: Path, **overrides: str) -> dict[str, str]:
    """The environment JupyterLab and its kernels get: the test run's, made student-like.

    ``MPLBACKEND`` is dropped because a student has none and with ``Agg`` set, notebooks
    would draw no inline figure. Jupyter's own user folders go to ``workdir`` so the test
    neither reads nor changes the user's Jupyter state.

    Example
    -------
    >>> env = lab_environment({"MPLBACKEND": "Agg"}, Path("/tmp/x"), A="1")
    >>> "MPLBACKEND" in env, env["A"], env["JUPYTERLAB_SETTINGS_DIR"]
    (False, '1', '/tmp/x/lab-settings')
    """
    env = {k: v for k, v in base.items() if k != "MPLBACKEND"}
    env.update({
        "JUPYTER_CONFIG_DIR": str(workdir / "jupyter-config"),
        "JUPYTER_RUNTIME_DIR": str(workdir / "jupyter-runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(workdir / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(workdir / "lab-workspaces"),
        "PYTHONUNBUFFERED": "1",
    })
    env.update(overrides)
    return env


@dataclass
class JupyterLab:
    """A running JupyterLab server started by :func:`start_jupyterlab`."""

    root: Path
    port: int
    token: str
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def notebook_url(self, name: str) -> str:
        """The URL a student opens for notebook ``name`` (relative to the root folder)."""
        return f"{self.base_url}/lab/tree/{name}?token={self.token}"

    def api(self, path: str, method: str = "GET", timeout: float = 5.0) -> Any:
        """Call the server's REST API with the token; return the decoded JSON (or None)."""
        req = urllib.request.Request(
            f"{self.base_url}{path}", method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the server's log, to explain a failure."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def start_jupyterlab(
    root: Path, workdir: Path, env: Mapping[str, str], timeout_s: float = 90.0,
) -> JupyterLab:
    """Start ``.venv/bin/jupyter lab`` on ``root`` and wait until ``/api/status`` answers.

    Example
    -------
    >>> lab = start_jupyterlab(REPO / "notebooks", tmp, os.environ)    # doctest: +SKIP
    >>> lab.api("/api/status")["started"]                               # doctest: +SKIP
    """
    jupyter = VENV_BIN / "jupyter"
    if not jupyter.exists():
        raise BrowserSetupError(f"{jupyter} is missing: run `make install` first.")
    workdir.mkdir(parents=True, exist_ok=True)
    write_lab_settings(Path(env["JUPYTERLAB_SETTINGS_DIR"]), LAB_SETTINGS)
    port, token = free_port(), secrets.token_hex(16)
    log = workdir / "jupyterlab.log"
    cmd = [
        str(jupyter), "lab", "--no-browser", f"--ServerApp.root_dir={root}",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
        "--LabApp.expose_app_in_browser=True",
    ]
    if os.geteuid() == 0:
        # CI runs as root, and JupyterLab refuses root unless told.
        cmd.append("--ServerApp.allow_root=True")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=root, env=dict(env), stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
    lab = JupyterLab(root=root, port=port, token=token, proc=proc, log=log)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BrowserSetupError(
                f"JupyterLab exited with code {proc.returncode} while starting:\n"
                f"{lab.log_tail()}"
            )
        with contextlib.suppress(OSError, urllib.error.URLError, ValueError):
            if lab.api("/api/status", timeout=2.0) is not None:
                return lab
        time.sleep(0.3)
    stop_jupyterlab(lab)
    raise BrowserSetupError(
        f"JupyterLab did not answer on port {port} within {timeout_s:.0f} s:\n{lab.log_tail()}"
    )


def child_pids(pid: int) -> list[int]:
    """PIDs of the live processes whose parent is ``pid`` (zombies count as ended).

    Example
    -------
    >>> child_pids(os.getpid()) == []
    True
    """
    try:
        children = psutil.Process(pid).children()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return []
    return [child.pid for child in children if processes.is_alive(child.pid)]


def alive(pids: list[int]) -> list[int]:
    """The PIDs of ``pids`` that still run (zombies count as ended).

    Example
    -------
    >>> alive([os.getpid()]) == [os.getpid()]
    True
    """
    return [pid for pid in pids if processes.is_alive(pid)]


def stop_jupyterlab(lab: JupyterLab, grace_s: float = 20.0) -> None:
    """Shut JupyterLab down (kernels first, through its API), then end its PID if needed.

    Example
    -------
    >>> stop_jupyterlab(lab)                                            # doctest: +SKIP
    """
    if lab.proc.poll() is None:
        with contextlib.suppress(OSError, urllib.error.URLError, ValueError):
            lab.api("/api/shutdown", method="POST", timeout=grace_s)
        with contextlib.suppress(subprocess.TimeoutExpired):
            lab.proc.wait(timeout=grace_s)
    if lab.proc.poll() is None:
        # Its whole tree, so this reaches a kernel it failed to shut down, and nothing of the
        # test run itself: terminate, wait, then kill.
        processes.stop_tree(lab.proc.pid, timeout=5)
        with contextlib.suppress(subprocess.TimeoutExpired):
            lab.proc.wait(timeout=5)


@contextlib.contextmanager
def running_jupyterlab(
    root: Path, workdir: Path, env: Mapping[str, str],
) -> Iterator[JupyterLab]:
    """Context manager around :func:`start_jupyterlab` and :func:`stop_jupyterlab`.

    Example
    -------
    >>> with running_jupyterlab(root, tmp, env) as lab:                 # doctest: +SKIP
    ...     print(lab.base_url)
    """
    lab = start_jupyterlab(root, workdir, env)
    try:
        yield lab
    finally:
        stop_jupyterlab(lab)


@contextlib.contextmanager
def chromium_page(
    profile_dir: Path, width: int = VIEWPORT["width"], height: int = VIEWPORT["height"],
    timeout_ms: int = 30_000,
) -> Iterator[Any]:
    """A Playwright page in headless Debian Chromium with a fresh profile, 1366x768 by default.

    Example
    -------
    >>> with chromium_page(tmp / "profile") as page:                    # doctest: +SKIP
    ...     page.goto(lab.notebook_url("00_introduction.ipynb"))
    """
    executable = require_chromium()
    os.environ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"
    from playwright.sync_api import sync_playwright

    profile_dir.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile_dir), executable_path=str(executable), headless=True,
            args=CHROMIUM_ARGS, viewport={"width": width, "height": height},
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(timeout_ms)
            yield page
        finally:
            context.close()


def open_notebook(page: Any, lab: JupyterLab, name: str, timeout_s: float = 90.0) -> None:
    """Open notebook ``name`` as a student does and wait until its kernel is idle.

    Example
    -------
    >>> open_notebook(page, lab, "00_introduction.ipynb")               # doctest: +SKIP
    """
    page.goto(lab.notebook_url(name))
    page.wait_for_function(
        """(name) => {
            const app = window.jupyterapp;
            const w = app && app.shell.currentWidget;
            if (!w || !w.context || !w.context.path.endsWith(name)) return false;
            const k = w.sessionContext && w.sessionContext.session
                && w.sessionContext.session.kernel;
            return !!k && k.status === 'idle' && w.content.widgets.length > 0;
        }""",
        arg=name, timeout=timeout_s * 1000,
    )


def run_all_cells(page: Any) -> None:
    """Click menu Run -> Run All Cells in the current notebook.

    Example
    -------
    >>> run_all_cells(page)                                             # doctest: +SKIP
    """
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(
        ".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")
    ).first.click()


_NOTEBOOK_STATE_JS = """() => {
    const w = window.jupyterapp.shell.currentWidget;
    const k = w.sessionContext.session && w.sessionContext.session.kernel;
    const cells = [];
    w.content.widgets.forEach((cell, index) => {
        const m = cell.model;
        const prompt = cell.node.querySelector('.jp-InputPrompt');
        const info = {
            index, type: m.type, source: m.sharedModel.getSource(),
            tags: m.getMetadata('tags') || [],
            executionCount: m.type === 'code' ? m.executionCount : null,
            prompt: prompt ? prompt.textContent.trim() : '', outputs: [],
        };
        if (m.type === 'code') {
            for (let i = 0; i < m.outputs.length; i++) {
                info.outputs.push(m.outputs.get(i).toJSON());
            }
        }
        cells.push(info);
    });
    return {kernel: k ? k.status : 'none', cells};
}"""


@dataclass
class NotebookState:
    """What the open notebook holds: kernel status and each cell's model as JSON."""

    kernel: str
    cells: list[dict[str, Any]] = field(default_factory=list)

    @property
    def code_cells(self) -> list[dict[str, Any]]:
        return [c for c in self.cells if c["type"] == "code" and c["source"].strip()]

    @property
    def pending(self) -> list[dict[str, Any]]:
        """Code cells still queued or running (prompt ``[*]``)."""
        return [c for c in self.code_cells if "*" in c["prompt"]]

    @property
    def not_run(self) -> list[dict[str, Any]]:
        """Code cells with no execution count."""
        return [c for c in self.code_cells if c["executionCount"] is None]

    def errors(self) -> list[str]:
        """One line per error output, except in cells tagged ``raises-exception``."""
        found = []
        for cell in self.code_cells:
            if "raises-exception" in cell["tags"]:
                continue
            for out in cell["outputs"]:
                if out.get("output_type") == "error":
                    found.append(
                        f"cell {cell['index']}: {out.get('ename')}: {out.get('evalue')}"
                    )
        return found

    def text(self) -> str:
        """All text the outputs show (streams and text/plain, text/html as is)."""
        parts: list[str] = []
        for cell in self.code_cells:
            for out in cell["outputs"]:
                if out.get("output_type") == "stream":
                    parts.append(_as_text(out.get("text", "")))
                for mime in ("text/plain", "text/html", "text/markdown"):
                    if mime in out.get("data", {}):
                        parts.append(_as_text(out["data"][mime]))
        return "\n".join(parts)


def _as_text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def notebook_state(page: Any) -> NotebookState:
    """Read the open notebook's cells and kernel status from JupyterLab's model.

    Example
    -------
    >>> notebook_state(page).kernel                                     # doctest: +SKIP
    'idle'
    """
    raw = page.evaluate(_NOTEBOOK_STATE_JS)
    return NotebookState(kernel=raw["kernel"], cells=raw["cells"])


def wait_until_executed(
    page: Any, timeout_s: float = 150.0, settle_s: float = 1.5,
) -> NotebookState:
    """Wait until no cell is queued or running and the kernel has stayed idle a moment.

    Run All sends every cell at once and the kernel goes idle between them, so idle alone
    is not the end: the end is "idle, and no ``[*]`` prompt" for ``settle_s`` seconds.

    Example
    -------
    >>> state = wait_until_executed(page, timeout_s=120)                # doctest: +SKIP
    >>> state.not_run
    []
    """
    deadline = time.monotonic() + timeout_s
    quiet_since: float | None = None
    state = notebook_state(page)
    while time.monotonic() < deadline:
        state = notebook_state(page)
        if state.kernel == "idle" and not state.pending:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= settle_s:
                return state
        else:
            quiet_since = None
        page.wait_for_timeout(250)
    running = ", ".join(str(c["index"]) for c in state.pending) or "none"
    raise TimeoutError(
        f"the notebook did not finish within {timeout_s:.0f} s "
        f"(kernel {state.kernel}, cells still queued or running: {running})"
    )


def stderr_tracebacks(page: Any) -> list[str]:
    """Texts of stderr outputs on the page that show a traceback or an error.

    Example
    -------
    >>> stderr_tracebacks(page)                                         # doctest: +SKIP
    []
    """
    texts = page.locator(
        '.jp-NotebookPanel:not(.lm-mod-hidden) '
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
    ).all_inner_texts()
    return [t for t in texts if re.search(r"Traceback|Error\b", t)]


def raw_widget_texts(state: NotebookState) -> list[str]:
    """Output text that shows a widget printed as text instead of drawn.

    Example
    -------
    >>> raw_widget_texts(NotebookState("idle", [{"type": "code", "source": "x",
    ...     "outputs": [{"output_type": "stream", "text": "HBox(children=(...))"}]}]))
    ['HBox(children=']
    """
    text = state.text()
    return [p for p in RAW_WIDGET_PATTERNS if p in text]


def _visible_count(page: Any, selector: str) -> int:
    items = page.locator(f".jp-NotebookPanel:not(.lm-mod-hidden) {selector}")
    count = 0
    for i in range(items.count()):
        item = items.nth(i)
        item.scroll_into_view_if_needed()
        if item.is_visible():
            count += 1
    return count


def rendered_images(page: Any) -> int:
    """How many output images on the page have loaded with a real size.

    Example
    -------
    >>> rendered_images(page)                                           # doctest: +SKIP
    1
    """
    images = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output img")
    count = 0
    for i in range(images.count()):
        img = images.nth(i)
        img.scroll_into_view_if_needed()
        if img.evaluate("(el) => el.complete && el.naturalWidth > 0 && el.naturalHeight > 0"):
            count += 1
    return count


def rendered_progress_widgets(page: Any) -> int:
    """How many progress bars are drawn as Jupyter widgets in the outputs.

    Example
    -------
    >>> rendered_progress_widgets(page)                                 # doctest: +SKIP
    1
    """
    # ipywidgets 8 draws a horizontal bar as `.widget-hprogress`; 7 used `.widget-progress`.
    return _visible_count(
        page,
        ".jp-OutputArea-output "
        ".jupyter-widgets:is(.widget-hprogress, .widget-vprogress, .widget-progress)",
    )


_SCROLLER = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer"
# From the top of the notebook's scroll area to the bottom of its last cell, in pixels.
_CELLS_HEIGHT_JS = """(sel) => {
    const p = document.querySelector(sel);
    const cells = window.jupyterapp.shell.currentWidget.content.widgets;
    if (!p || !cells.length) return 0;
    const last = cells[cells.length - 1].node.getBoundingClientRect();
    return Math.ceil(last.bottom - p.getBoundingClientRect().top + p.scrollTop);
}"""


def full_screenshots(page: Any, path: Path, max_height: int = 10_000) -> list[Path]:
    """Save the whole open notebook as PNGs by growing the viewport to its height.

    The width stays the page's (1366 px: what a student sees). A notebook taller than
    ``max_height`` is saved in parts, ``<stem>-1.png``, ``<stem>-2.png``..., each overlapping
    the previous one a little; a shorter one is ``path`` itself.

    Example
    -------
    >>> full_screenshots(page, tmp / "05_query.png")                    # doctest: +SKIP
    [PosixPath('.../05_query.png')]
    """
    size = page.viewport_size
    paths: list[Path] = []
    try:
        # Cells out of view have an estimated height (JupyterLab's windowing): grow the page
        # until the cells' height stops changing, or reaches max_height. (The scroller's own
        # scrollHeight is no measure: it adds room to scroll past the end, as tall as the page.)
        height, viewport = -1, size["height"]
        for _ in range(6):
            measured = page.evaluate(_CELLS_HEIGHT_JS, _SCROLLER)
            if abs(measured - height) < 2 or viewport >= max_height:
                break
            height, viewport = measured, min(measured + 150, max_height)
            page.set_viewport_size({"width": size["width"], "height": viewport})
            page.wait_for_timeout(500)
        # Run All leaves the notebook scrolled to its last cell; the picture starts at the top.
        top, part = 0, 1
        while True:
            shown = page.evaluate(
                """([sel, top]) => {
                    const p = document.querySelector(sel);
                    if (!p) return {top: 0, client: 0, height: 0};
                    p.scrollTop = top;
                    return {top: p.scrollTop, client: p.clientHeight, height: p.scrollHeight};
                }""",
                [_SCROLLER, top],
            )
            page.wait_for_timeout(500)
            bottom = page.evaluate(_CELLS_HEIGHT_JS, _SCROLLER)
            last = shown["top"] + shown["client"] >= bottom - 2 or shown["client"] <= 0
            if part == 1 and last:
                target = path
            else:
                target = path.with_name(f"{path.stem}-{part}{path.suffix}")
            page.screenshot(path=str(target))
            paths.append(target)
            if last:
                break
            top, part = shown["top"] + shown["client"] - 100, part + 1
    finally:
        page.set_viewport_size(size)
    return paths


# What the open notebook looks like at the page's size, output by output. Text outputs are
# <pre> with `white-space: pre-wrap; word-break: break-all` in JupyterLab 4: a line longer
# than the output is wide is never cut nor scrolled, it wraps, broken in mid-word. So a line
# "fits" when its length in characters is at most the output's width in characters.
_LAYOUT_JS = """() => {
    const app = window.jupyterapp;
    const w = app.shell.currentWidget;
    const ctx = document.createElement('canvas').getContext('2d');
    const notebook = w.content.node;
    const report = {
        viewport: [window.innerWidth, window.innerHeight],
        notebookWidth: notebook.clientWidth,
        leftSidebarOpen: !app.shell.leftCollapsed,
        outputs: [],
    };
    w.content.widgets.forEach((cell, index) => {
        cell.node.querySelectorAll('.jp-OutputArea-output').forEach((out, k) => {
            const box = out.getBoundingClientRect();
            const item = {
                cell: index, output: k, mime: out.dataset.mimeType || '',
                width: out.clientWidth, scrollWidth: out.scrollWidth,
                text: out.innerText || out.textContent || '', image: null, pre: null,
            };
            const img = out.querySelector('img');
            if (img) {
                const r = img.getBoundingClientRect();
                item.image = {
                    loaded: img.complete && img.naturalWidth > 0,
                    natural: [img.naturalWidth, img.naturalHeight],
                    shown: [Math.round(r.width), Math.round(r.height)],
                    overhang: Math.max(0, Math.round(r.right - box.right)),
                };
            }
            const pre = out.querySelector('pre');
            if (pre) {
                const style = getComputedStyle(pre);
                ctx.font = style.font || (style.fontSize + ' ' + style.fontFamily);
                const charWidth = ctx.measureText('M'.repeat(100)).width / 100;
                const columns = Math.floor(pre.clientWidth / charWidth);
                const lines = pre.textContent.split('\\n');
                const long = lines.filter((l) => l.length > columns);
                item.pre = {
                    columns, whiteSpace: style.whiteSpace,
                    longest: lines.reduce((m, l) => Math.max(m, l.length), 0),
                    wrapped: long.length, example: long.length ? long[0] : '',
                    long: long.slice(0, 20),
                    scrollWidth: pre.scrollWidth, clientWidth: pre.clientWidth,
                };
            }
            report.outputs.push(item);
        });
    });
    return report;
}"""


@dataclass
class Layout:
    """The open notebook's outputs as laid out at the page's size (see ``_LAYOUT_JS``)."""

    viewport: tuple[int, int]
    notebook_width: int
    left_sidebar_open: bool
    outputs: list[dict[str, Any]]

    def in_cells(self, cells: set[int]) -> list[dict[str, Any]]:
        return [o for o in self.outputs if o["cell"] in cells]

    def scrolled(self) -> list[dict[str, Any]]:
        """Outputs wider than their box: a student would need a horizontal scrollbar."""
        found = [o for o in self.outputs if o["scrollWidth"] > o["width"] + 1]
        found += [
            o for o in self.outputs
            if o["pre"] and o["pre"]["scrollWidth"] > o["pre"]["clientWidth"] + 1
            and o not in found
        ]
        return found

    def images(self) -> list[dict[str, Any]]:
        return [o for o in self.outputs if o["image"] and o["image"]["loaded"]]

    def wrapped(self) -> list[dict[str, Any]]:
        """Text outputs with a line longer than the output is wide (JupyterLab wraps it)."""
        return [o for o in self.outputs if o["pre"] and o["pre"]["wrapped"]]

    def text(self, cells: set[int] | None = None) -> list[str]:
        """The text each output shows on the page (``innerText``), in order."""
        return [o["text"] for o in self.outputs if cells is None or o["cell"] in cells]

    def describe(self, out: dict[str, Any]) -> str:
        """One line about an output, for a failure message or the readability report."""
        where = f"cell {out['cell']}"
        if out["image"]:
            (nw, nh), (sw, sh) = out["image"]["natural"], out["image"]["shown"]
            scale = sw / nw if nw else 0.0
            return f"{where}: image {nw}x{nh} px shown at {sw}x{sh} ({scale:.0%})"
        if out["pre"]:
            pre = out["pre"]
            return (
                f"{where}: text, longest line {pre['longest']} characters for "
                f"{pre['columns']} columns, {pre['wrapped']} line(s) wrapped"
                + (f", e.g. {pre['example'][:70]!r}..." if pre["example"] else "")
            )
        return f"{where}: {out['mime'] or 'output'} {out['scrollWidth']} px in {out['width']} px"


def notebook_layout(page: Any) -> Layout:
    """Measure the open notebook's outputs at the page's current size.

    Example
    -------
    >>> notebook_layout(page).scrolled()                               # doctest: +SKIP
    []
    """
    raw = page.evaluate(_LAYOUT_JS)
    return Layout(
        viewport=tuple(raw["viewport"]), notebook_width=raw["notebookWidth"],
        left_sidebar_open=raw["leftSidebarOpen"], outputs=raw["outputs"],
    )


NEWS_PATTERN = re.compile(r"news|update|new version", re.IGNORECASE)


def news_notifications(page: Any) -> list[str]:
    """Texts of the notifications on the page (toasts) that are about news or updates.

    JupyterLab asks "Would you like to get notified about official Jupyter news?" in a toast
    unless the setting ``fetchNews`` is ``"true"`` or ``"false"``; with ``"true"`` it shows
    news and update toasts.

    Example
    -------
    >>> news_notifications(page)                                        # doctest: +SKIP
    []
    """
    texts = page.evaluate(
        """() => Array.from(document.querySelectorAll(
            '.Toastify__toast, .jp-toastContainer .jp-toast-message, .jp-Notification-List-Item'
        )).map((e) => e.innerText || e.textContent || '')"""
    )
    return sorted({t.strip() for t in texts if NEWS_PATTERN.search(t)})
