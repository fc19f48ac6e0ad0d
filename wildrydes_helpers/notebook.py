"""Small helpers that only the notebooks use: showing calls, drawing pictures, setting faults.

The lab's steps live in their own modules (table.py, iam.py, ...); this module holds what
makes a notebook readable: the boto3 calls of a step as short lines, the two pictures of
``00_introduction``, the "make sure the earlier steps are done" call at the top of every
notebook, and the local cloud's fault injection for ``07_extra_credit_failures``.

Example
-------
>>> from wildrydes_helpers.notebook import CallList
>>> CallList(["kinesis.CreateStream(StreamName='wildrydes')"])
1. kinesis.CreateStream(StreamName='wildrydes')
"""

from __future__ import annotations

import html
import json
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .config import TRIGGER_BATCH_SIZE, TRIGGER_STARTING_POSITION, Config, load_config
from .errors import WildRydesError
from .session import LabSession, get_session, mask_accounts

MAX_VALUE_CHARS = 160


def _shorten(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class CallList:
    """The boto3 calls of a step, as numbered lines; a repeated poll is shown once.

    Example
    -------
    >>> CallList(["a()", "b()", "b()", "c()"])
    1. a()
    2. b()
    3. c()
    """

    lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Waiting loops repeat a Describe call a number of times that depends on timing;
        # showing each run once keeps the listing short and the same from run to run.
        collapsed: list[str] = []
        for line in (mask_accounts(_shorten(str(x))) for x in self.lines):
            if not collapsed or collapsed[-1] != line:
                collapsed.append(line)
        self.lines = collapsed

    def __len__(self) -> int:
        return len(self.lines)

    def __repr__(self) -> str:
        if not self.lines:
            return "(no AWS calls)"
        return "\n".join(f"{i}. {line}" for i, line in enumerate(self.lines, 1))

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def show_calls(result_or_calls: Any) -> CallList:
    """The boto3 calls a helper made: pass its result (``.calls``) or a list of calls.

    Example
    -------
    >>> show_calls([])
    (no AWS calls)
    """
    calls = getattr(result_or_calls, "calls", None)
    if calls is None:
        attrs = getattr(result_or_calls, "attrs", None)  # a DataFrame from a helper
        calls = attrs.get("calls") if isinstance(attrs, dict) else None
    if calls is None:
        calls = result_or_calls
    return CallList([str(c) for c in calls])


@dataclass
class Shown:
    """Text (and optional HTML) for a notebook output, with account ids masked.

    Example
    -------
    >>> Shown("role arn:aws:iam::123456789012:role/r")
    role arn:aws:iam::********9012:role/r
    """

    text: str
    html_text: str | None = None

    def __post_init__(self) -> None:
        self.text = mask_accounts(self.text)
        if self.html_text is not None:
            self.html_text = mask_accounts(self.html_text)

    def __repr__(self) -> str:
        return self.text

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.text)

    def _repr_html_(self) -> str | None:
        return self.html_text


def show(result: Any) -> Shown:
    """A helper's result as a notebook output, with any account id masked.

    Example
    -------
    >>> show({"arn": "arn:aws:sqs:us-east-1:123456789012:q"})
    {'arn': 'arn:aws:sqs:us-east-1:********9012:q'}
    """
    html_repr = getattr(result, "_repr_html_", None)
    html_text = html_repr() if callable(html_repr) else None
    return Shown(repr(result), html_text)


def checklist(checks: Iterable[tuple[str, bool]]) -> Shown:
    """A check of the notebook's work: one line per condition, then a verdict.

    Example
    -------
    >>> checklist([("table is ACTIVE", True), ("keys are name/windowStart", True)])
    [ok] table is ACTIVE
    [ok] keys are name/windowStart
    All checks passed.
    """
    rows = list(checks)
    lines = [f"[{'ok' if passed else 'FAILED'}] {label}" for label, passed in rows]
    failed = [label for label, passed in rows if not passed]
    lines.append("All checks passed." if not failed else
                 f"{len(failed)} check(s) failed: read the message above, fix it, run again.")
    return Shown("\n".join(lines))


def backend_summary(cfg: Config | None = None) -> Shown:
    """Which backend, region and names this kernel uses, and how to switch.

    Example
    -------
    >>> print(backend_summary(Config()))          # doctest: +ELLIPSIS
    backend:        local (the embedded local cloud, no AWS account needed)
    ...
    """
    cfg = cfg or load_config()
    if cfg.is_local:
        where = "local (the embedded local cloud, no AWS account needed)"
        switch = ("To use your AWS account instead: stop JupyterLab, `export "
                  "WILDRYDES_BACKEND=aws` (plus AWS_PROFILE or keys, and AWS_REGION), start it "
                  "again.")
    else:
        where = "aws (your AWS account: the lab creates real, billed resources)"
        switch = "To go back to the local cloud: unset WILDRYDES_BACKEND and restart JupyterLab."
    lines = [
        f"backend:        {where}",
        f"region:         {cfg.region}",
        f"window length:  {cfg.window_seconds} s",
        f"name prefix:    {cfg.prefix or '(none)'}",
        f"stream:         {cfg.stream_name}",
        f"table:          {cfg.table_name}",
        f"function:       {cfg.function_name}",
        switch,
    ]
    return Shown("\n".join(lines))


# ---------------------------------------------------------------------------- pictures


def plot_architecture(cfg: Config | None = None) -> Any:
    """Draw what the lab builds: producer, stream, trigger, function, table and logs.

    Returns the matplotlib Figure (one Axes, titled, no ticks).

    Example
    -------
    >>> fig = plot_architecture(Config())
    >>> fig.axes[0].get_title()
    'What the lab builds'
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    cfg = cfg or load_config()
    fig, ax = plt.subplots(figsize=(12, 3.6))
    boxes = {
        "producer": (0.0, 1.0, "Unicorn producer\n(your machine)\n1 record/s per unicorn",
                     "#f2f2f2"),
        "stream": (2.6, 1.0, f"Kinesis stream\n{cfg.stream_name}", "#ffe8c2"),
        "trigger": (5.2, 1.0, f"Kinesis trigger\nbatch {TRIGGER_BATCH_SIZE}, "
                              f"{TRIGGER_STARTING_POSITION}\n"
                              f"{cfg.window_seconds} s tumbling window", "#ffe8c2"),
        "function": (7.8, 1.0, f"Lambda function\n{cfg.function_name}", "#ffd6a5"),
        "table": (10.4, 1.6, f"DynamoDB table\n{cfg.table_name}\n(name, windowStart)",
                  "#cfe2ff"),
        "logs": (10.4, 0.1, "CloudWatch Logs\n"
                 + cfg.log_group_name.replace("/lambda/", "/lambda/\n"), "#e2f0d9"),
    }
    width, height = 2.0, 1.05
    for x, y, label, colour in boxes.values():
        ax.add_patch(FancyBboxPatch((x, y), width, height, boxstyle="round,pad=0.05",
                                    facecolor=colour, edgecolor="#333333"))
        ax.text(x + width / 2, y + height / 2, label, ha="center", va="center", fontsize=9)

    def arrow(a: str, b: str, text: str) -> None:
        xa, ya = boxes[a][0] + width, boxes[a][1] + height / 2
        xb, yb = boxes[b][0], boxes[b][1] + height / 2
        ax.annotate("", xy=(xb, yb), xytext=(xa, ya),
                    arrowprops={"arrowstyle": "->", "lw": 1.5, "color": "#333333"})
        ax.text((xa + xb) / 2, (ya + yb) / 2 + 0.12, text, ha="center", fontsize=8)

    arrow("producer", "stream", "PutRecord")
    arrow("stream", "trigger", "polls")
    arrow("trigger", "function", "invokes")
    arrow("function", "table", "PutItem")
    arrow("function", "logs", "print()")
    ax.set_xlim(-0.2, 12.6)
    ax.set_ylim(-0.1, 2.9)
    ax.set_axis_off()
    ax.set_title("What the lab builds")
    fig.tight_layout()
    return fig


def sample_arrivals(window_seconds: int = 60, windows: int = 3) -> list[tuple[str, float, float]]:
    """Made-up arrivals for the tumbling-window picture: (unicorn, second, metres).

    Two unicorns, one record every ``window_seconds / 6`` seconds each, the same every call.

    Example
    -------
    >>> sample_arrivals(60, 1)[:2]
    [('Shadowfax', 3.0, 29.0), ('Rocinante', 8.0, 29.5)]
    """
    step = window_seconds / 6
    out: list[tuple[str, float, float]] = []
    for i in range(6 * windows):
        out.append(("Shadowfax", round(i * step + step * 0.3, 3), 29.0 + (i * 7 % 5) * 0.5))
        out.append(("Rocinante", round(i * step + step * 0.8, 3), 29.5 + (i * 3 % 4) * 0.5))
    return out


def window_totals(arrivals: Sequence[tuple[str, float, float]],
                  window_seconds: int) -> dict[tuple[int, str], float]:
    """Sum metres per (window index, unicorn): what the function computes. Pure.

    Example
    -------
    >>> window_totals([("A", 1.0, 30.0), ("A", 61.0, 29.0)], 60)
    {(0, 'A'): 30.0, (1, 'A'): 29.0}
    """
    totals: dict[tuple[int, str], float] = {}
    for name, second, metres in arrivals:
        key = (int(second // window_seconds), name)
        totals[key] = round(totals.get(key, 0.0) + metres, 6)
    return totals


def plot_tumbling_windows(window_seconds: int = 60, windows: int = 3) -> Any:
    """Draw records of two unicorns falling into tumbling windows, with each window's sums.

    Example
    -------
    >>> fig = plot_tumbling_windows(60, 3)
    >>> fig.axes[0].get_xlabel()
    'arrival time (s)'
    """
    import matplotlib.pyplot as plt

    arrivals = sample_arrivals(window_seconds, windows)
    names = ["Shadowfax", "Rocinante"]
    fig, ax = plt.subplots(figsize=(11, 3.2))
    for w in range(windows):
        ax.axvspan(w * window_seconds, (w + 1) * window_seconds,
                   color="#cfe2ff" if w % 2 == 0 else "#e7f0ff", zorder=0)
        ax.axvline(w * window_seconds, color="#555555", lw=1, ls="--")
        ax.text((w + 0.5) * window_seconds, 2.05,
                f"window {w + 1}: [{w * window_seconds}, {(w + 1) * window_seconds}) s",
                ha="center", fontsize=9)
    ax.axvline(windows * window_seconds, color="#555555", lw=1, ls="--")
    totals = window_totals(arrivals, window_seconds)
    for row, name in enumerate(names):
        xs = [s for n, s, _ in arrivals if n == name]
        ax.scatter(xs, [row] * len(xs), s=28, label=name, zorder=3)
        for w in range(windows):
            ax.text((w + 0.5) * window_seconds, row + 0.28,
                    f"sum {totals[(w, name)]:.1f} m", ha="center", fontsize=8)
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(-0.6, 2.4)
    ax.set_xlim(0, windows * window_seconds)
    ax.set_xlabel("arrival time (s)")
    ax.set_ylabel("unicorn")
    ax.set_title(f"Records fall into {window_seconds} s tumbling windows")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------- faults


def _faults_url(lab: LabSession) -> str:
    return f"{lab.endpoint}/_wildrydes/faults"


def local_only(what: str, session: LabSession | None = None) -> bool:
    """True on the local cloud; on AWS prints why ``what`` is skipped and returns False.

    Example
    -------
    >>> local_only("fault injection")       # doctest: +SKIP
    True
    """
    lab = get_session(session)
    if lab.is_local:
        return True
    print(f"Skipped on AWS: {what} is a feature of the local cloud. On AWS, read this part "
          "and its explanation; the cells around it run the same on both backends.")
    return False


def set_faults(session: LabSession | None = None, **settings: Any) -> dict[str, Any] | None:
    """Ask the local cloud to inject faults (see local/faults.py); ``set_faults()`` clears them.

    Returns the settings now in force, or None on AWS (where nothing is injected).

    Example
    -------
    >>> set_faults(invoke_error_rate=1.0)     # doctest: +SKIP
    {'invoke_error_rate': 1.0, ...}
    """
    lab = get_session(session)
    if not lab.is_local:
        return None
    body = json.dumps(settings).encode()
    request = urllib.request.Request(_faults_url(lab), data=body, method="PUT",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return dict(json.loads(resp.read()))
    except urllib.error.HTTPError as exc:
        detail = json.loads(exc.read() or b"{}").get("message", str(exc))
        raise WildRydesError(f"The local cloud refused the fault settings: {detail}") from None
    except OSError as exc:
        raise WildRydesError(
            f"The local cloud is not answering ({exc}). Start it with `wildrydes local start` "
            "and run this cell again.") from None


def clear_faults(session: LabSession | None = None) -> dict[str, Any] | None:
    """Switch every injected fault off (local cloud); None on AWS.

    Example
    -------
    >>> clear_faults()                         # doctest: +SKIP
    {'invoke_error_rate': 0.0, ...}
    """
    return set_faults(session)


def html_table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    """A small HTML table (used by ``Shown`` outputs that read better as a table).

    Example
    -------
    >>> html_table([[1, 2]], ["a", "b"])
    '<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>'
    """
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


# ---------------------------------------------------------------------------- lab flow

# The unicorns, seed and length of the producer run that 04_monitor starts (and that
# 05_query starts itself when it runs alone): three windows of two unicorns, reproducible.
DEMO_UNICORNS = ("Shadowfax", "Rocinante")
DEMO_SEED = 42
DEMO_WINDOWS = 3


def demo_count(cfg: Config | None = None) -> int:
    """Records per unicorn of the demo run: one a second for ``DEMO_WINDOWS`` windows.

    Example
    -------
    >>> demo_count(Config(window_seconds=60))
    180
    """
    cfg = cfg or load_config()
    return DEMO_WINDOWS * cfg.window_seconds


def _steps() -> list[tuple[str, str, Any]]:
    from .function import create_function
    from .iam import create_role
    from .stream import create_stream
    from .table import create_table

    return [
        ("00_introduction", "stream", create_stream),
        ("01_create_table", "table", create_table),
        ("02_create_role", "role", create_role),
        ("03_create_function", "function and trigger", create_function),
    ]


def ensure_steps(notebook: str, session: LabSession | None = None) -> Shown:
    """Make sure every step before ``notebook`` is done (the helpers are idempotent).

    So each notebook also runs on its own in a fresh kernel. The answer reads the same
    whether a step had to be done now or was already done.

    Example
    -------
    >>> ensure_steps("02_create_role")      # doctest: +SKIP
    Earlier steps are in place: 00_introduction (stream), 01_create_table (table).
    """
    lab = get_session(session)
    done = []
    for step, what, helper in _steps():
        if step[:2] >= notebook[:2]:
            break
        helper(session=lab)
        done.append(f"{step} ({what})")
    if not done:
        return Shown("No earlier step is needed.")
    return Shown(f"Earlier steps are in place: {', '.join(done)}.")


def ledger_text(ledger: Any) -> str:
    """What the producer's ledger says Kinesis accepted, one line per unicorn.

    Example
    -------
    >>> from wildrydes_helpers.ledger import Ledger
    >>> led = Ledger(stream="wildrydes", window_seconds=60, seed=42)
    >>> led.add("Shadowfax", 30.25, "1", "shardId-000000000000", 0.5)
    >>> print(ledger_text(led))
    Kinesis accepted (seed 42):
      Shadowfax: 1 records, 30.2 m
    """
    lines = [f"Kinesis accepted (seed {ledger.seed}):"]
    lines += [f"  {name}: {u.records} records, {u.distance:.1f} m"
              for name, u in sorted(ledger.unicorns.items())]
    if ledger.failed:
        lines.append(f"  given up after retries: {ledger.failed}")
    return "\n".join(lines)


def _expected_total(args: Sequence[str]) -> int | None:
    names = sum(1 for a in args if a == "--name") or 1
    if "--count" in args:
        i = list(args).index("--count")
        if i + 1 < len(args) and str(args[i + 1]).isdigit():
            return names * int(args[i + 1])
    return None


def wait_for_producer(session: LabSession | None = None, timeout: float | None = None,
                      progress: bool = True) -> Shown:
    """Wait until the background producer has finished; show what Kinesis accepted.

    Example
    -------
    >>> wait_for_producer()       # doctest: +SKIP
    Kinesis accepted (seed 42): ...
    """
    import time

    from tqdm.auto import tqdm

    from .ledger import default_ledger_path, read_ledger
    from .producer import producer_status

    lab = get_session(session)
    cfg = lab.config
    status = producer_status(config=cfg)
    limit = timeout if timeout is not None else (DEMO_WINDOWS + 2) * cfg.window_seconds + 60
    deadline = time.monotonic() + limit
    bar = tqdm(total=_expected_total(status.args), desc="records sent", unit="rec",
               disable=not progress)
    try:
        while status.running and time.monotonic() < deadline:
            bar.update(status.total - bar.n)
            time.sleep(0.5)
            status = producer_status(config=cfg)
        bar.update(status.total - bar.n)
    finally:
        bar.close()
    if status.running:
        raise WildRydesError(
            f"The producer is still running after {limit:.0f} s. Check it with "
            "producer_status(), or stop it with stop_producer().")
    return Shown(ledger_text(read_ledger(default_ledger_path(cfg))))


def ensure_data(session: LabSession | None = None, timeout: float | None = None) -> Shown:
    """Make sure the producer has sent its records: wait for a running one, or run one.

    05_query run alone (no ledger yet) runs the demo producer of 04_monitor here, blocking
    for about ``DEMO_WINDOWS`` windows.

    Example
    -------
    >>> ensure_data()       # doctest: +SKIP
    Kinesis accepted (seed 42): ...
    """
    from .ledger import default_ledger_path, read_ledger
    from .producer import producer_status, run_producer

    lab = get_session(session)
    cfg = lab.config
    path = default_ledger_path(cfg)
    if producer_status(config=cfg).running:
        return wait_for_producer(lab, timeout, progress=False)
    if not path.exists():
        print(f"No producer run yet: running the demo producer now "
              f"(about {demo_count(cfg)} s) ...")
        run_producer(list(DEMO_UNICORNS), rate=1.0, count=demo_count(cfg), seed=DEMO_SEED,
                     progress=True, session=lab)
    return Shown(ledger_text(read_ledger(path)))


def show_function_code() -> Any:
    """The function's source (lambda/index.py) as a highlighted code listing.

    Example
    -------
    >>> show_function_code().data.startswith("```python")
    True
    """
    from IPython.display import Markdown

    from .function import lambda_dir

    source = (lambda_dir() / "index.py").read_text()
    return Markdown(f"```python\n{source.rstrip()}\n```")


def state_size_bytes(unicorns: int) -> int:
    """Bytes of a window state holding ``unicorns`` unicorns, as the function keeps it.

    Each unicorn is ``{"distance": ..., "records": ...}`` under its name (lambda/index.py);
    names like ``Unicorn00001`` and a minute's worth of records.

    Example
    -------
    >>> state_size_bytes(0)
    52
    """
    state = {"unicorns": {f"Unicorn{i:05d}": {"distance": 1799.25, "records": 60}
                          for i in range(unicorns)},
             "bad": {"count": 0, "reasons": {}}}
    return len(json.dumps(state).encode())


def room_in_window(need_s: float, session: LabSession | None = None,
                   clock: Any = None, sleep: Any = None) -> float:
    """Wait for the next window if the current one has less than ``need_s`` (+0.5 s) left.

    So a short burst of records lands in a single window. Returns the seconds waited.

    Example
    -------
    >>> room_in_window(0.5, clock=lambda: 118.0, sleep=lambda s: None)  # W=60: 2 s left
    0.0
    """
    import time

    clock = clock or time.time
    sleep = sleep or time.sleep
    w = (session.config if session is not None else load_config()).window_seconds
    now = clock()
    left = w - now % w
    if left >= need_s + 0.5:
        return 0.0
    wait = left + 0.05
    sleep(wait)
    return wait


def drain_failure_queue(session: LabSession | None = None,
                        wait_s: float = 1.0) -> list[dict[str, Any]]:
    """Read (and delete) the trigger's failure records from the on-failure SQS queue.

    Each is the JSON Lambda sends when it gives up on a batch: ``requestContext.condition``
    and ``KinesisBatchInfo`` (shard, sequence numbers, batch size); never the records' data.

    Example
    -------
    >>> [n["KinesisBatchInfo"]["batchSize"] for n in drain_failure_queue()]  # doctest: +SKIP
    [1, 1, 1]
    """
    lab = get_session(session)
    sqs = lab.client("sqs")
    url = sqs.get_queue_url(QueueName=lab.config.failure_queue_name)["QueueUrl"]
    notes: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                  WaitTimeSeconds=int(wait_s)).get("Messages", [])
        if not got:
            return notes
        for message in got:
            try:
                notes.append(json.loads(message["Body"]))
            except ValueError:
                notes.append({"unreadable": message["Body"][:200]})
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
