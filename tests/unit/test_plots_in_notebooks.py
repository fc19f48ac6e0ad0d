"""Every plot the notebooks draw has the axes, labels, and number of bars and points it should.

The plotting helpers are called the way the notebooks call them, on the kind of data the
notebooks feed them; a last test checks that the notebooks call no other plotting helper.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib
import nbformat
import pandas as pd
import pytest
from matplotlib.patches import FancyBboxPatch

from wildrydes_helpers.config import Config
from wildrydes_helpers.monitor import invocations_from_logs
from wildrydes_helpers.pictures import plot_architecture, plot_tumbling_windows
from wildrydes_helpers.plots import plot_distance, plot_state_over_time, plot_timeline
from wildrydes_helpers.query import items_to_frame
from wildrydes_helpers.window_model import LAB_UNICORNS, producer_arrivals, window_totals

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
# Each plotting helper, and the test files that check its data (test_pictures_data.py,
# test_plots_data.py); the notebooks may call these and no others.
TESTED = {"plot_architecture", "plot_tumbling_windows", "plot_distance", "plot_timeline",
          "plot_state_over_time"}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _table(unicorns: list[str], windows: int, w: int = 3) -> pd.DataFrame:
    items = []
    for k, name in enumerate(unicorns):
        for i in range(windows):
            start = pd.Timestamp("2024-05-01T12:00:00Z") + pd.Timedelta(seconds=i * w)
            items.append({"name": name, "windowStart": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                          "windowEnd": (start + pd.Timedelta(seconds=w)).strftime(
                              "%Y-%m-%dT%H:%M:%SZ"),
                          "distance": 90 + k + i, "records": 3, "shardId": "shardId-0"})
    return items_to_frame(items)


def test_architecture_diagram_has_eight_boxes_and_seven_arrows() -> None:
    cfg = Config(prefix="s07")
    fig, ax = plot_architecture(cfg)
    assert fig.axes == [ax]
    assert ax.get_title() == "What the lab builds"
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    assert len(boxes) == 8  # the six services, the function's role and the failure queue
    arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    assert len(arrows) == 7
    labels = " ".join(t.get_text().replace("\n", "") for t in ax.texts)
    for name in (cfg.stream_name, cfg.table_name, cfg.function_name, "60 s tumbling window"):
        assert name in labels
    assert not ax.axison


@pytest.mark.parametrize("window", [3, 60])
def test_tumbling_window_picture(window: int) -> None:
    fig, (ax, calls) = plot_tumbling_windows(window, windows=3)
    assert fig.axes == [ax, calls]
    assert ax.get_title() == f"The producer's records fall into {window} s tumbling windows " \
                             "(seed 42)"
    assert ax.get_xlabel().startswith("seconds since the producer's first record")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Shadowfax", "Rocinante"]
    points = [len(c.get_offsets()) for c in ax.collections]
    assert points == [3 * window, 3 * window]  # one record a second per unicorn, 3 windows
    assert ax.get_xlim() == pytest.approx((-0.03 * window, 3.03 * window))
    sums = [t.get_text() for t in ax.texts if t.get_text().startswith("sum ")]
    assert len(sums) == 3 * 2
    assert calls.get_title().startswith("Inside window 1")


def test_window_totals_put_each_record_in_one_window() -> None:
    arrivals = producer_arrivals(LAB_UNICORNS, 42, 180)
    totals = window_totals(arrivals, 60)
    assert sorted({w for w, _ in totals}) == [0, 1, 2]
    assert round(sum(totals.values()), 6) == round(sum(m for _, _, m in arrivals), 6)
    assert window_totals([("A", 59.999, 1.0), ("A", 60.0, 2.0)], 60) == {(0, "A"): 1.0,
                                                                        (1, "A"): 2.0}


@pytest.mark.parametrize(("unicorns", "windows"), [(["Rocinante", "Shadowfax"], 4),
                                                   (["Shadowfax"], 3)])
def test_distance_plot_has_one_bar_per_window_and_unicorn(unicorns: list[str],
                                                          windows: int) -> None:
    fig, ax = plot_distance(_table(unicorns, windows))
    assert ax.get_title() == "Distance per unicorn in each 3 s tumbling window"
    assert ax.get_xlabel() == "window start (UTC)"
    assert ax.get_ylabel() == "distance (m)"
    assert len([p for p in ax.patches if p.get_gid()]) == windows * len(unicorns)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [*sorted(unicorns), "full window: about 30 m/s × 3 s = 90 m"]
    assert len(ax.get_xticks()) == windows
    assert len(ax.figure.axes) == 1


def test_distance_plot_of_an_empty_table_says_so() -> None:
    _, ax = plot_distance(items_to_frame([]))
    assert len(ax.patches) == 0
    assert "no windows" in ax.texts[0].get_text()


def _log_lines(windows: int, batches_per_window: int, w: int = 3) -> pd.DataFrame:
    """Log lines as the function writes them: batch calls inside a window, a final after it."""
    rows = []
    for k in range(windows):
        start = pd.Timestamp("2024-05-01T12:00:00Z") + pd.Timedelta(seconds=w * k)
        end = start + pd.Timedelta(seconds=w)
        for b in range(batches_per_window + 1):
            final = b == batches_per_window
            t = end + pd.Timedelta(seconds=0.01) if final else \
                start + pd.Timedelta(seconds=0.5 + 0.9 * b)
            total = {"name": "Shadowfax", "distance": 30.0 * b, "records": b}
            if final:
                body = ["Final: " + json.dumps({
                    "window": {"start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                               "end": end.strftime("%Y-%m-%dT%H:%M:%SZ")},
                    "shardId": "shardId-000000000000",
                    "state": {"unicorns": {"Shadowfax": {"distance": 30.0 * b,
                                                         "records": b}}}})]
            else:
                body = ["Adding: " + json.dumps({"name": "Shadowfax", "distance": 30.0,
                                                 "records": 1}),
                        "Returning state: " + json.dumps(
                            {**total, "distance": 30.0 * (b + 1), "records": b + 1})]
            rid = f"{k}-{b}"
            rows += [(t, f"START RequestId: {rid} Version: $LATEST"), *((t, x) for x in body),
                     (t, f"REPORT RequestId: {rid}\tDuration: 1.00 ms")]
    return pd.DataFrame([{"time": t, "log_stream": "s", "message": m} for t, m in rows])


def test_timeline_marks_batches_and_finals() -> None:
    calls = invocations_from_logs(_log_lines(windows=3, batches_per_window=2), 3)
    assert list(calls.groupby("kind").size().items()) == [("batch", 6), ("final", 3)]
    _, ax = plot_timeline(calls)
    assert ax.get_title() == "Invocations across tumbling windows"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("time (UTC)", "shard")
    sizes = sorted(len(c.get_offsets()) for c in ax.collections)
    assert sizes == [3, 6]  # three final stars, six batch dots
    assert [t.get_text() for t in ax.get_yticklabels()] == ["shardId-000000000000"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["batch call", "final call (writes the window)"]
    spans = [p for p in ax.patches if p.get_alpha() == pytest.approx(0.12)]
    assert len(spans) == 3  # one shaded band per window


def test_state_over_time_draws_the_logs_of_log_events() -> None:
    fig, axes = plot_state_over_time(_log_lines(windows=3, batches_per_window=2))
    assert fig.axes == list(axes) and len(axes) == 2  # Shadowfax, then the batch sizes
    lines = [ln for ln in axes[0].lines if (ln.get_gid() or "").startswith("state:")]
    assert [list(ln.get_ydata()) for ln in lines] == [[0.0, 30.0, 60.0, 60.0]] * 3
    (stars,) = [c for c in axes[0].collections if c.get_gid() == "finals:Shadowfax"]
    assert [y for _, y in stars.get_offsets()] == [60.0] * 3
    assert "3 s window" in fig.get_suptitle()


def _code(name: str) -> str:
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code")


def test_notebooks_draw_only_tested_plots_and_show_each() -> None:
    called: set[str] = set()
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        source = _code(path.stem)
        found = set(re.findall(r"\b(plot_\w+)\(", source))
        called |= found
        # Each drawing call is followed by plt.show(), so no "<Axes ...>" text is printed.
        # ``fig, ax = plot_...(`` and ``fig, (a, b) = plot_...(`` count as drawing calls too.
        drawn = re.findall(r"^\s*(?:[\w\s,()]*=\s*)?plot_\w+\(", source, re.MULTILINE)
        assert source.count("plt.show()") == len(drawn)
    assert called <= TESTED


@pytest.mark.parametrize(("name", "pngs"), [("00_introduction", 2), ("04_monitor", 1),
                                            ("05_query", 1)])
def test_saved_notebooks_hold_their_plots(name: str, pngs: int) -> None:
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert len(images) == pngs
    for out in images:
        assert re.fullmatch(r"<Figure size \d+x\d+ with \d Axes>", out["data"]["text/plain"])
