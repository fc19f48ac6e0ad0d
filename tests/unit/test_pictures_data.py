"""00's pictures hold the right data: the producer's own records, the calls of a window with
the state handed on, sums equal to what the real function writes (05's bars), and an
architecture whose labels never cross a box."""

from __future__ import annotations

import re
from decimal import Decimal

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend
from matplotlib.colors import to_hex  # noqa: E402

from tests.unit.plots_kit import T0, lab_run  # noqa: E402
from wildrydes_helpers.colours import unicorn_colour  # noqa: E402
from wildrydes_helpers.config import PREFIX_MAX_LENGTH, Config  # noqa: E402
from wildrydes_helpers.pictures import (  # noqa: E402
    plot_architecture,
    plot_tumbling_windows,
    wrap_name,
)
from wildrydes_helpers.plots import plot_distance  # noqa: E402
from wildrydes_helpers.window_model import (  # noqa: E402
    LAB_UNICORNS,
    producer_arrivals,
    whole_metres,
    window_calls,
    window_totals,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts if t.get_text()]


def _overlaps(a, b, slack: float = 1.0) -> bool:
    return (a.x0 < b.x1 - slack and b.x0 < a.x1 - slack
            and a.y0 < b.y1 - slack and b.y0 < a.y1 - slack)


def _inside(inner, outer, slack: float = 1.0) -> bool:
    return (inner.x0 >= outer.x0 - slack and inner.x1 <= outer.x1 + slack
            and inner.y0 >= outer.y0 - slack and inner.y1 <= outer.y1 + slack)


def _assert_labels_clear_of_boxes(fig, ax, prefix: str) -> None:
    """Each label is inside the box it names, or clear of every box; no two labels touch."""
    renderer = fig.canvas.get_renderer()
    boxes = [(p.get_gid(), p.get_window_extent(renderer)) for p in ax.patches
             if (p.get_gid() or "").startswith(prefix)]
    assert boxes
    labels = [(t, t.get_window_extent(renderer)) for t in ax.texts if t.get_text()]
    fig_box = fig.bbox
    for text, extent in labels:
        anchor = ax.transData.transform(text.get_position())
        home = [k for k, (_, b) in enumerate(boxes) if b.contains(*anchor)]
        for k, (gid, b) in enumerate(boxes):
            if k in home:
                assert _inside(extent, b), f"{text.get_text()!r} sticks out of {gid}"
            else:
                assert not _overlaps(extent, b), f"{text.get_text()!r} crosses {gid}"
        assert _inside(extent, fig_box), f"{text.get_text()!r} leaves the figure"
    for i, (a, ea) in enumerate(labels):
        for b, eb in labels[i + 1:]:
            assert not _overlaps(ea, eb), f"{a.get_text()!r} touches {b.get_text()!r}"


# ---------------------------------------------------------------- architecture

@pytest.mark.parametrize("prefix", ["", "s07", "class-2024-section-07-student-42",
                                    "x" * PREFIX_MAX_LENGTH])
def test_architecture_labels_never_cross_a_box(prefix: str) -> None:
    assert len(prefix) <= PREFIX_MAX_LENGTH
    fig, ax = plot_architecture(Config(prefix=prefix))
    fig.canvas.draw()
    _assert_labels_clear_of_boxes(fig, ax, "box:")
    assert fig.get_figwidth() == pytest.approx(10.0)


def test_architecture_has_the_role_and_the_failure_queue() -> None:
    cfg = Config(prefix="s07")
    fig, ax = plot_architecture(cfg)
    gids = sorted(p.get_gid() for p in ax.patches if p.get_gid())
    assert gids == ["box:function", "box:logs", "box:producer", "box:queue", "box:role",
                    "box:stream", "box:table", "box:trigger"]
    arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    assert len(arrows) == 7  # PutRecord, polls, invokes, PutItem, print(), role, on failure
    words = " ".join(t.get_text().replace("\n", "") for t in ax.texts)
    for name in (cfg.stream_name, cfg.table_name, cfg.function_name, cfg.role_name,
                 cfg.failure_queue_name, cfg.log_group_name, "60 s tumbling window"):
        assert name in words
    assert ax.get_title() == "What the lab builds" and not ax.axison


def test_wrap_name_keeps_every_character_and_breaks_after_separators() -> None:
    name = "class-2024-section-07-student-042-unicorn-aggregation-role"
    wrapped = wrap_name(name)
    assert wrapped.replace("\n", "") == name
    assert all(line.endswith(("-", "_", "/")) for line in wrapped.split("\n")[:-1])
    assert len(wrapped.split("\n")) >= 3
    assert wrap_name("x" * 60).replace("\n", "") == "x" * 60  # no separator: cut anyway


# ---------------------------------------------------------------- the window picture

@pytest.mark.parametrize("window", [1, 3, 60])
def test_window_picture_draws_the_producers_own_records(window: int) -> None:
    fig, (top, bottom) = plot_tumbling_windows(window, windows=3)
    arrivals = producer_arrivals(LAB_UNICORNS, 42, 3 * window)
    assert top.get_title() == f"The producer's records fall into {window} s tumbling windows " \
                              "(seed 42)"
    assert [t.get_text() for t in top.get_yticklabels()] == list(LAB_UNICORNS)
    dots = {c.get_label(): c for c in top.collections}
    assert sorted(dots) == sorted(LAB_UNICORNS)
    for name, dots_of in dots.items():
        xs = [float(x) for x, _ in dots_of.get_offsets()]
        assert xs == [s for n, s, _ in arrivals if n == name]  # one a second, from second 0
        assert to_hex(dots_of.get_facecolor()[0]).upper() == unicorn_colour(name)
    assert fig.get_figwidth() == pytest.approx(10.0)


def test_window_picture_sums_are_the_producers_metres_per_window() -> None:
    fig, (top, _) = plot_tumbling_windows(60, windows=3)
    totals = window_totals(producer_arrivals(LAB_UNICORNS, 42, 180), 60)
    shown = sorted((t.get_position()[0], t.get_text()) for t in top.texts
                   if t.get_text().startswith("sum "))
    assert len(shown) == 6
    want = sorted(((w + 0.5) * 60, f"sum {totals[(w, n)]:,.1f} m (60 records)")
                  for w in range(3) for n in LAB_UNICORNS)
    assert shown == want
    # A full minute is about 1,800 m (30 m a second), not the 181 m of the old picture.
    assert all(1740 < d < 1860 for d in totals.values())


def test_window_picture_shows_each_call_handing_its_state_to_the_next() -> None:
    fig, (_, bottom) = plot_tumbling_windows(60, windows=3)
    kinds = [p.get_gid() for p in bottom.patches if (p.get_gid() or "").startswith("call:")]
    assert kinds == ["call:batch", "call:batch", "call:gap", "call:batch", "call:final"]
    calls = [c for c in window_calls(producer_arrivals(LAB_UNICORNS, 42, 180), 60)
             if c.window == 0]
    texts = _texts(bottom)
    assert "gets an empty state" in texts  # the first call of a window starts empty
    assert "gets call 1's state" in texts and "gets call 59's state" in texts
    assert "57 more\ncalls, about\none a second,\neach handing\non its state" in texts
    for call in (calls[0], calls[1], calls[59]):
        for name, (distance, _) in call.state_out.items():
            assert f"{name} {distance:,.1f} m" in texts
    final = calls[-1]
    assert final.kind == "final" and "isFinalInvokeForWindow: true" in texts
    for name, (distance, _) in final.state_out.items():
        assert f"{name} {whole_metres(distance):,} m" in texts
    assert texts.count("state") == 4  # one label per arrow between the five boxes


def test_window_picture_of_the_longest_window_aws_allows() -> None:
    fig, (top, bottom) = plot_tumbling_windows(900, windows=1)
    assert "897 more\ncalls, about\none a second,\neach handing\non its state" in _texts(bottom)
    assert [len(c.get_offsets()) for c in top.collections] == [900, 900]


def test_window_picture_with_short_windows_shows_every_call() -> None:
    fig, (_, bottom) = plot_tumbling_windows(3, windows=3)
    kinds = [p.get_gid() for p in bottom.patches if (p.get_gid() or "").startswith("call:")]
    assert kinds == ["call:batch"] * 3 + ["call:final"]
    fig.canvas.draw()
    _assert_labels_clear_of_boxes(fig, bottom, "call:")


def test_window_picture_calls_fit_their_boxes_at_60_s() -> None:
    fig, (_, bottom) = plot_tumbling_windows(60, windows=3)
    fig.canvas.draw()
    _assert_labels_clear_of_boxes(fig, bottom, "call:")


def test_window_calls_hand_the_state_on_and_close_each_window_once() -> None:
    arrivals = producer_arrivals(LAB_UNICORNS, 42, 180, start_s=23.0)
    calls = window_calls(arrivals, 60)
    totals = window_totals(arrivals, 60)
    for w in range(4):
        mine = [c for c in calls if c.window == w]
        assert [c.kind for c in mine].count("final") == 1 and mine[-1].kind == "final"
        assert mine[0].state_in == {}
        for before, after in zip(mine, mine[1:], strict=False):
            assert after.state_in == before.state_out
        assert all(c.records == 2 for c in mine[:-1])  # one record per unicorn a second
        assert {n: d for n, (d, _) in mine[-1].state_out.items()} == {
            n: totals[(w, n)] for n in LAB_UNICORNS}
    assert [len([c for c in calls if c.window == w]) - 1 for w in range(4)] == [37, 60, 60, 23]


def test_window_picture_sums_match_what_the_function_writes_and_05_plots() -> None:
    """The picture's final call writes what the real handler writes for the same records,
    and 05's bars for that table have exactly those heights."""
    fig, (_, bottom) = plot_tumbling_windows(60, windows=3)
    written = {m.group(1): int(m.group(2).replace(",", "")) for t in _texts(bottom)
               if (m := re.fullmatch(r"(\w+) ([\d,]+) m", t))}
    run = lab_run(60)
    first = run.table[run.table["windowStart"] == T0]
    assert written == dict(zip(first["name"], first["distance"].astype(int), strict=True))
    _, ax = plot_distance(run.table)
    heights = {p.get_gid().split(":")[1]: p.get_height() for p in ax.patches
               if (p.get_gid() or "").startswith("bar:") and T0.isoformat() in p.get_gid()}
    assert heights == {n: float(d) for n, d in written.items()}
    # The handler's whole metres are the model's (halves up, in decimal).
    assert all(Decimal(int(d)) == Decimal(d) for d in first["distance"])
