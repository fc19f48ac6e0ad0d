"""04's and 05's plots hold the right data, drawn from what the real function logged and wrote
(plots_kit plays the producer's records through lambda/index.py), and every unicorn keeps its
colour from plot to plot."""

from __future__ import annotations

import subprocess
import sys

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend
from matplotlib.colors import to_hex  # noqa: E402

from tests.unit.plots_kit import T0, lab_run  # noqa: E402
from wildrydes_helpers.colours import (  # noqa: E402
    FIXED,
    PALETTE,
    unicorn_colour,
    unicorn_colours,
)
from wildrydes_helpers.monitor import LOG_COLUMNS, finals_from_logs  # noqa: E402
from wildrydes_helpers.pictures import plot_tumbling_windows  # noqa: E402
from wildrydes_helpers.plots import (  # noqa: E402
    expected_window_metres,
    partial_windows,
    plot_distance,
    plot_state_over_time,
)
from wildrydes_helpers.producer.simulate import UnicornSimulator  # noqa: E402
from wildrydes_helpers.query import items_to_frame  # noqa: E402
from wildrydes_helpers.state_log import running_totals  # noqa: E402
from wildrydes_helpers.window_model import MEAN_METRES_PER_RECORD  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def run60():
    """Three minutes of records started 23.4 s into a window, as 04's producer does: four
    windows, the first (37 records) and the last (23) partial."""
    return lab_run(60, start_s=23.4)


def _hex(colour) -> str:
    return to_hex(colour).upper()


# ---------------------------------------------------------------- colours

def test_each_unicorn_keeps_one_colour_in_every_process() -> None:
    assert unicorn_colour("Shadowfax") == FIXED["Shadowfax"] == PALETTE[0]
    code = ("from wildrydes_helpers.colours import unicorn_colour; "
            "print(unicorn_colour('Bucephalus'))")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout.strip()
    assert other == unicorn_colour("Bucephalus")  # not Python's salted hash
    names = [f"unicorn{k}" for k in range(len(PALETTE))]
    colours = unicorn_colours(names)
    assert len(set(colours.values())) == len(PALETTE)  # distinct while the palette lasts
    assert unicorn_colours(["Rocinante", "Shadowfax", *names])["Rocinante"] == FIXED["Rocinante"]
    assert unicorn_colours(reversed(names)) == colours  # the order given does not matter


def test_the_same_unicorn_has_the_same_colour_in_00_04_and_05(run60) -> None:
    _, (top, _) = plot_tumbling_windows(60)
    in_00 = {c.get_label(): _hex(c.get_facecolor()[0]) for c in top.collections}
    _, axes = plot_state_over_time(run60.logs)
    in_04 = {line.get_gid().split(":")[1]: _hex(line.get_color()) for ax in axes
             for line in ax.lines if (line.get_gid() or "").startswith("state:")}
    _, ax = plot_distance(run60.table)
    in_05 = {p.get_gid().split(":")[1]: _hex(p.get_facecolor()) for p in ax.patches
             if (p.get_gid() or "").startswith("bar:")}
    assert in_00 == in_04 == in_05 == {"Shadowfax": "#0072B2", "Rocinante": "#D55E00"}


# ---------------------------------------------------------------- 05: distance per window

def test_distance_bars_are_the_tables_distances(run60) -> None:
    fig, ax = plot_distance(run60.table)
    bars = {tuple(p.get_gid().split(":", 2)[1:]): p.get_height() for p in ax.patches
            if (p.get_gid() or "").startswith("bar:")}
    want = {(r["name"], r["windowStart"].isoformat() + (
        ":partial" if r["records"] < 60 else "")): r["distance"]
        for _, r in run60.table.iterrows()}
    assert bars == want
    assert len(bars) == 8 and sorted(run60.table["records"].unique()) == [23, 37, 60]
    assert fig.get_figwidth() == pytest.approx(10.0)


def test_distance_plot_marks_the_first_and_last_windows_partial(run60) -> None:
    fig, ax = plot_distance(run60.table)
    partial = [p for p in ax.patches if (p.get_gid() or "").endswith(":partial")]
    assert sorted(p.get_gid().split(":")[1] for p in partial) == [
        "Rocinante", "Rocinante", "Shadowfax", "Shadowfax"]
    assert all(p.get_hatch() == "///" for p in partial)
    full = [p for p in ax.patches if (p.get_gid() or "").startswith("bar:") and p not in partial]
    assert all(not p.get_hatch() for p in full)
    marks = [t for t in ax.texts if t.get_text() == "partial"]
    assert sorted(t.get_position()[0] for t in marks) == [0, 3]  # first and last window
    records = {t.get_gid(): t.get_text() for t in ax.texts if (t.get_gid() or "").startswith(
        "records:")}
    assert records[f"records:Shadowfax:{T0.isoformat()}"] == "37\nrec"


def test_distance_plot_has_the_expected_line_and_the_window_in_its_title(run60) -> None:
    fig, ax = plot_distance(run60.table)
    assert ax.get_title() == "Distance per unicorn in each 60 s tumbling window"
    (line,) = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert list(line.get_ydata()) == [1800.0, 1800.0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Rocinante", "Shadowfax", "full window: about 30 m/s × 60 s = 1,800 m",
                      "partial window: the producer started or stopped in it"]
    full = run60.table[run60.table["records"] == 60]["distance"]
    assert ((full - 1800).abs() < 60).all()  # the full windows sit on the line
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legend_box = ax.get_legend().get_window_extent(renderer)
    assert not legend_box.overlaps(ax.xaxis.label.get_window_extent(renderer))
    assert legend_box.y0 >= 0  # inside the figure


def test_expected_line_comes_from_the_producers_speed_model() -> None:
    sim = UnicornSimulator("Shadowfax", seed=1)
    mean = sum(sim.next_values()["Distance"] for _ in range(20000)) / 20000
    assert mean == pytest.approx(MEAN_METRES_PER_RECORD, abs=0.05)
    assert expected_window_metres(60) == 1800.0 and expected_window_metres(3) == 90.0


def test_a_short_window_in_the_middle_is_not_called_partial() -> None:
    t = [pd.Timestamp("2024-05-01T12:00:00Z") + pd.Timedelta(seconds=60 * k) for k in range(3)]
    df = pd.DataFrame({"name": ["a"] * 3, "windowStart": t, "records": [60, 12, 60]})
    assert partial_windows(df, 60) == set()
    df = pd.DataFrame({"name": ["a"] * 3, "windowStart": t, "records": [59, 60, 60]})
    assert partial_windows(df, 60) == {("a", t[0])}


def test_distance_plot_of_an_empty_table_says_so() -> None:
    fig, ax = plot_distance(items_to_frame([]))
    assert [p for p in ax.patches if p.get_gid()] == []
    assert "no windows" in ax.texts[0].get_text()


# ---------------------------------------------------------------- 04: state over time

def test_running_totals_are_the_state_each_call_returned(run60) -> None:
    totals = running_totals(run60.logs, 60)
    batches = [c for c in run60.calls if c.kind == "batch"]
    assert len(totals) == 2 * len(batches) == 360
    for name in ("Shadowfax", "Rocinante"):
        mine = totals[totals["name"] == name]
        assert mine["distance"].tolist() == [c.state_out[name][0] for c in batches]
        assert mine["records"].tolist() == [c.state_out[name][1] for c in batches]
        assert (mine["added"] == 1).all()
        assert (mine["windowStart"] == [T0 + pd.Timedelta(seconds=60 * c.window)
                                        for c in batches]).all()


def test_running_totals_before_any_window_closed() -> None:
    logs = lab_run(60, count=5).logs
    open_window = logs[~logs["message"].str.startswith("Final:")]
    totals = running_totals(open_window, 60)
    assert len(totals) == 10 and (totals["windowStart"] == T0).all()
    assert running_totals(pd.DataFrame(columns=LOG_COLUMNS), 60).empty


def test_state_plot_rises_through_each_window_and_resets_at_the_boundary(run60) -> None:
    fig, axes = plot_state_over_time(run60.logs)
    assert len(axes) == 3 and fig.get_figwidth() == pytest.approx(10.0)
    assert "60 s window" in fig.get_suptitle()
    totals = running_totals(run60.logs, 60)
    finals = finals_from_logs(run60.logs)
    lines = {ln.get_gid(): ln for ax in axes[:-1] for ln in ax.lines
             if (ln.get_gid() or "").startswith("state:")}
    assert len(lines) == 2 * 4
    for w in range(4):
        start = T0 + pd.Timedelta(seconds=60 * w)
        for name in ("Shadowfax", "Rocinante"):
            line = lines[f"state:{name}:{start.isoformat()}"]
            xs, ys = list(line.get_xdata()), list(line.get_ydata())
            calls = totals[(totals["name"] == name) & (totals["windowStart"] == start)]
            final = finals[(finals["name"] == name) & (finals["windowStart"] == start)]
            # Reset: each window starts from 0 at its own start; then the state, call by call.
            assert (xs[0], ys[0]) == (60.0 * w, 0.0)
            assert ys[1:-1] == calls["distance"].tolist()
            assert ys[-1] == final["distance"].iloc[0] and xs[-1] >= 60.0 * (w + 1)
            assert ys[1:] == sorted(ys[1:])  # it only rises within a window
            assert line.get_drawstyle() == "steps-post"


def test_state_plot_puts_a_star_at_each_final_write(run60) -> None:
    fig, axes = plot_state_over_time(run60.logs)
    finals = finals_from_logs(run60.logs)
    for ax, name in zip(axes[:-1], ["Rocinante", "Shadowfax"], strict=True):
        assert ax.get_ylabel() == f"{name}\n(m)"
        (stars,) = [c for c in ax.collections if c.get_gid() == f"finals:{name}"]
        mine = finals[finals["name"] == name]
        got = [(round(float(x), 3), float(y)) for x, y in stars.get_offsets()]
        want = [(round((t - T0).total_seconds(), 3), d)
                for t, d in zip(mine["time"], mine["distance"], strict=True)]
        assert got == want
        assert [w for w, _ in got] == [60.005, 120.005, 180.005, 240.005]
        labels = [t.get_text() for t in ax.texts]
        assert labels == [f"{int(run60.table[(run60.table['name'] == name) & (run60.table['windowStart'] == s)]['distance'].iloc[0]):,} m"  # noqa: E501
                          for s in mine["windowStart"]]


def test_state_plot_shows_each_calls_batch_size(run60) -> None:
    fig, axes = plot_state_over_time(run60.logs)
    batches = axes[-1]
    bars = {}
    for p in batches.patches:
        if (p.get_gid() or "").startswith("batch:"):
            bars.setdefault(p.get_gid(), []).append((round(p.get_x() + p.get_width() / 2, 3),
                                                     p.get_y(), p.get_height()))
    assert sorted(bars) == ["batch:Rocinante", "batch:Shadowfax"]
    assert len(bars["batch:Rocinante"]) == len(bars["batch:Shadowfax"]) == 180
    # Stacked: each call's Shadowfax record sits on its Rocinante record: 2 records a call.
    assert all(y == 0 and h == 1 for _, y, h in bars["batch:Rocinante"])
    assert all(y == 1 and h == 1 for _, y, h in bars["batch:Shadowfax"])
    assert [x for x, _, _ in bars["batch:Rocinante"]][:2] == [23.7, 24.7]
    (finals,) = [c for c in batches.collections if c.get_gid() == "final-calls"]
    assert len(finals.get_offsets()) == 4 and all(y == 0 for _, y in finals.get_offsets())
    assert batches.get_ylabel() == "records\nper call"
    ticks = [t.get_text() for t in axes[-1].get_xticklabels()]
    assert ticks == ["12:00:00", "12:01:00", "12:02:00", "12:03:00", "12:04:00"]


def test_state_plot_of_no_logs_says_so() -> None:
    fig, (ax,) = plot_state_over_time(pd.DataFrame(columns=LOG_COLUMNS))
    assert "no batch calls" in ax.texts[0].get_text()


def test_batch_bars_of_calls_a_moment_apart_do_not_cover_each_other(run60) -> None:
    """After a cold start two calls may come milliseconds apart: both bars stay visible."""
    logs = run60.logs.copy()
    starts = logs.index[logs["message"].str.startswith("START")]
    second_call = logs.loc[starts[1]:starts[2] - 1].index
    logs.loc[second_call, "time"] = logs.loc[starts[0], "time"] + pd.Timedelta(seconds=0.07)
    fig, axes = plot_state_over_time(logs)
    bars = sorted((p.get_x(), p.get_x() + p.get_width()) for p in axes[-1].patches
                  if p.get_gid() == "batch:Rocinante")
    assert all(a1 <= b0 + 1e-9 for (_, a1), (b0, _) in zip(bars, bars[1:], strict=False))
    assert len(bars) == 180
