"""The call at the top of every notebook: make sure the earlier steps (and data) are there.

So each notebook also runs on its own, in a fresh kernel: the helpers are idempotent, and
05_query run alone runs the demo producer of 04_monitor itself.

Example
-------
>>> demo_count(Config(window_seconds=60))
180
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable, Sequence

from tqdm.auto import tqdm

from .config import Config, load_config
from .display import Shown, ledger_text
from .errors import WildRydesError
from .function import create_function
from .iam import create_role
from .ledger import default_ledger_path, read_ledger
from .notebook_names import NB_FUNCTION, NB_ROLE, NB_STREAM, NB_TABLE
from .producer import producer_status, run_producer
from .session import LabSession, get_session
from .step_result import StepResult
from .stream import create_stream
from .table import create_table

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


# Each notebook that creates something, what it creates, and its helper.
_STEPS: list[tuple[str, str, Callable[..., StepResult]]] = [
    (NB_STREAM, "stream", create_stream),
    (NB_TABLE, "table", create_table),
    (NB_ROLE, "role", create_role),
    (NB_FUNCTION, "function and trigger", create_function),
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
    for step, what, helper in _STEPS:
        if step[:2] >= notebook[:2]:
            break
        helper(session=lab)
        done.append(f"{step} ({what})")
    if not done:
        return Shown("No earlier step is needed.")
    # Wrapped to fit a laptop's notebook width (about 100 columns) at word boundaries.
    return Shown(textwrap.fill(f"Earlier steps are in place: {', '.join(done)}.", width=96))


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
