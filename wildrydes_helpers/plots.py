"""Plots for steps 4 and 5: the state through each window, and distance per window.

Every plot returns ``(figure, axes)`` like ``plt.subplots``, is about 10 inches wide (it
reads at 1366x768 in JupyterLab), and gives each unicorn its own colour (colours.py).

Example
-------
>>> import pandas as pd
>>> fig, ax = plot_distance(pd.DataFrame({"name": ["a"], "windowStart":
...     [pd.Timestamp(0, tz="UTC")], "windowEnd": [pd.Timestamp(60, unit="s", tz="UTC")],
...     "distance": [1805.0], "records": [60]}))
>>> ax.get_title()
'Distance per unicorn in each 60 s tumbling window'
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .colours import NEUTRAL, WINDOW_SHADES, unicorn_colours
from .monitor import finals_from_logs
from .state_log import assign_windows, read_calls
from .window_model import LAB_RATE, MEAN_METRES_PER_RECORD, whole_metres

FIG_WIDTH_IN = 10.0
MAX_LABELLED_BARS = 24  # above this, records per bar would be unreadable: not written


def _new_axes(ax: Any, size: tuple[float, float]) -> tuple[Any, Any]:
    if ax is not None:
        return ax.figure, ax
    import matplotlib.pyplot as plt  # heavy: loaded only when a plot is drawn

    return plt.subplots(figsize=size)


def _nothing_yet(fig: Any, ax: Any, text: str) -> tuple[Any, Any]:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    return fig, ax


def window_length(df: pd.DataFrame) -> int | None:
    """The window length in seconds, read from the rows' windowStart and windowEnd.

    Example
    -------
    >>> window_length(pd.DataFrame({"windowStart": [pd.Timestamp(0)],
    ...                             "windowEnd": [pd.Timestamp(60, unit="s")]}))
    60
    """
    if df is None or df.empty or "windowEnd" not in df:
        return None
    lengths = (pd.to_datetime(df["windowEnd"], utc=True)
               - pd.to_datetime(df["windowStart"], utc=True)).dt.total_seconds().dropna()
    return int(lengths.mode().iloc[0]) if len(lengths) else None


def expected_window_metres(window_seconds: int, rate: float = LAB_RATE) -> float:
    """Metres a unicorn flies in a full window by the producer's model: 30 m a record.

    Example
    -------
    >>> expected_window_metres(60)
    1800.0
    """
    return MEAN_METRES_PER_RECORD * rate * window_seconds


def partial_windows(df: pd.DataFrame, window_seconds: int,
                    rate: float = LAB_RATE) -> set[tuple[str, pd.Timestamp]]:
    """(name, windowStart) of each unicorn's first and last window when it holds fewer
    records than a full window: the producer started or stopped inside it.

    A window in the middle with too few records is not "partial": that would be a loss,
    which 05's reconciliation reports.

    Example
    -------
    >>> t = [pd.Timestamp(s, unit="s", tz="UTC") for s in (0, 60, 120)]
    >>> df = pd.DataFrame({"name": ["a"] * 3, "windowStart": t, "records": [20, 60, 40]})
    >>> sorted(str(s.time()) for _, s in partial_windows(df, 60))
    ['00:00:00', '00:02:00']
    """
    full = round(window_seconds * rate)
    out: set[tuple[str, pd.Timestamp]] = set()
    for name, mine in df.groupby("name"):
        mine = mine.sort_values("windowStart")
        for _, row in (mine.iloc[[0, -1]] if len(mine) > 1 else mine).iterrows():
            if int(row["records"]) < full:
                out.add((str(name), pd.Timestamp(row["windowStart"])))
    return out


def plot_distance(df: pd.DataFrame, ax: Any = None, *, window_seconds: int | None = None,
                  rate: float = LAB_RATE) -> tuple[Any, Any]:
    """Bars of distance per unicorn per window (from ``query.windows()``), the distance a
    full window should hold (30 m/s x window), and the partial first and last windows.

    Returns ``(figure, axes)``. Each bar's records are written on it while there are few bars.

    Example
    -------
    >>> fig, ax = plot_distance(windows())   # doctest: +SKIP
    """
    fig, ax = _new_axes(ax, (FIG_WIDTH_IN, 4.8))
    window_seconds = window_seconds or window_length(df)
    length = f"{window_seconds} s " if window_seconds else ""
    ax.set_title(f"Distance per unicorn in each {length}tumbling window")
    ax.set_xlabel("window start (UTC)")
    ax.set_ylabel("distance (m)")
    if df is None or df.empty:
        return _nothing_yet(fig, ax, "no windows in the table yet")
    from matplotlib.patches import Patch

    df = df.assign(windowStart=pd.to_datetime(df["windowStart"], utc=True))
    starts = sorted(df["windowStart"].unique())
    names = sorted(df["name"].unique())
    colours = unicorn_colours(names)
    partial = partial_windows(df, window_seconds, rate) if window_seconds else set()
    width = 0.8 / len(names)
    position = {pd.Timestamp(s): i for i, s in enumerate(starts)}
    label_bars = len(df) <= MAX_LABELLED_BARS
    for k, name in enumerate(names):
        mine = df[df["name"] == name].sort_values("windowStart")
        for _, row in mine.iterrows():
            start = pd.Timestamp(row["windowStart"])
            is_partial = (name, start) in partial
            bar = ax.bar(position[start] - 0.4 + width * (k + 0.5), float(row["distance"]),
                         width=width, color=colours[name], alpha=0.45 if is_partial else 1.0,
                         hatch="///" if is_partial else None, edgecolor=colours[name],
                         lw=1)[0]
            bar.set_gid(f"bar:{name}:{start.isoformat()}" + (":partial" if is_partial else ""))
            if label_bars:
                # Inside the bar, at its foot: clear of the expected line and the labels above.
                ax.text(bar.get_x() + bar.get_width() / 2, 0, f"{int(row['records'])}\nrec",
                        ha="center", va="bottom", fontsize=7.5, linespacing=1.0,
                        color="black" if is_partial else "white",
                        # On a hatched bar the text needs its own ground to be read.
                        bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.8}
                        if is_partial else None,
                        gid=f"records:{name}:{start.isoformat()}")
    handles = [Patch(facecolor=colours[n], edgecolor=colours[n], label=n) for n in names]
    top = float(df["distance"].max())
    if window_seconds:
        expected = expected_window_metres(window_seconds, rate)
        top = max(top, expected)
        handles.append(ax.axhline(expected, color="black", ls="--", lw=1.2, zorder=3,
                                  label=f"full window: about 30 m/s × {window_seconds} s = "
                                        f"{expected:,.0f} m"))
    if partial:
        handles.append(Patch(facecolor="white", edgecolor=NEUTRAL, hatch="///",
                             label="partial window: the producer started or stopped in it"))
        for start in sorted({s for _, s in partial}):
            ax.text(position[start], top * 1.1, "partial", ha="center", va="bottom",
                    fontsize=8.5, color=NEUTRAL, style="italic")
    ax.set_ylim(0, top * 1.22)
    ax.set_xticks(range(len(starts)))
    ax.set_xticklabels([pd.Timestamp(s).strftime("%H:%M:%S") for s in starts],
                       rotation=45 if len(starts) > 8 else 0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    # Below the axes, so it never hides a bar and leaves the plot its full width.
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.16),
              ncol=min(len(handles), 3), fontsize=8.5, frameon=False)
    fig.tight_layout()
    return fig, ax


def _seconds(times: Any, t0: pd.Timestamp) -> list[float]:
    return [(pd.Timestamp(t) - t0).total_seconds() for t in times]


def plot_state_over_time(logs: pd.DataFrame,
                         window_seconds: int | None = None) -> tuple[Any, tuple[Any, ...]]:
    """Each unicorn's running total (the state the function returns) through each window,
    a star at each final write, the reset at each boundary, and every call's batch size.

    ``logs`` is what ``monitor.log_events()`` returns. One panel per unicorn (their totals
    are nearly equal, so one panel would hide one line behind the other), then a panel of
    records per call. Time runs along the bottom, in seconds of the UTC clock.

    Returns ``(figure, (axes of each unicorn..., batch axes))``.

    Example
    -------
    >>> fig, axes = plot_state_over_time(log_events(since=since))   # doctest: +SKIP
    """
    import matplotlib.pyplot as plt  # heavy: loaded only when a plot is drawn

    batch, final_calls = read_calls(logs)
    totals = assign_windows(batch, final_calls, window_seconds)
    finals = finals_from_logs(logs)
    names = sorted(set(totals["name"]) | set(finals["name"]))
    if not names:
        fig, ax = plt.subplots(figsize=(FIG_WIDTH_IN, 3))
        ax.set_title("Running total per unicorn through each tumbling window")
        return _nothing_yet(fig, ax, "no batch calls logged yet")[0], (ax,)
    colours = unicorn_colours(names)
    windows = (pd.concat([totals[["windowStart", "windowEnd"]], finals[["windowStart",
                          "windowEnd"]]]).dropna().drop_duplicates().sort_values("windowStart"))
    window_seconds = window_seconds or window_length(windows)
    t0 = pd.Timestamp(windows["windowStart"].min()) if len(windows) else totals["time"].min()
    fig, axes = plt.subplots(len(names) + 1, 1, sharex=True,
                             figsize=(FIG_WIDTH_IN, 1.75 * len(names) + 2.1),
                             gridspec_kw={"height_ratios": [1.0] * len(names) + [0.7]})
    length = f"{window_seconds} s " if window_seconds else ""
    fig.suptitle(f"The state Lambda hands on: each unicorn's running total through each "
                 f"{length}window", fontsize=11)
    top = max([*totals["distance"].tolist(), *finals["distance"].tolist(), 1.0])
    label_stars = len(windows) <= 8
    for ax, name in zip(axes[:-1], names, strict=False):
        mine = totals[totals["name"] == name]
        done = finals[finals["name"] == name]
        for _, w in windows.iterrows():
            calls = mine[mine["windowStart"] == w["windowStart"]].sort_values("time")
            final = done[done["windowStart"] == w["windowStart"]]
            xs = [_seconds([w["windowStart"]], t0)[0], *_seconds(calls["time"], t0)]
            ys = [0.0, *calls["distance"].tolist()]
            if len(final):
                xs.append(_seconds([final["time"].iloc[0]], t0)[0])
                ys.append(float(final["distance"].iloc[0]))
            if len(xs) > 1:
                ax.plot(xs, ys, drawstyle="steps-post", color=colours[name], lw=1.6,
                        gid=f"state:{name}:{pd.Timestamp(w['windowStart']).isoformat()}")
        if len(done):
            xs = _seconds(done["time"], t0)
            ax.scatter(xs, done["distance"], marker="*", s=170, color=colours[name],
                       edgecolor="black", lw=0.6, zorder=4, gid=f"finals:{name}")
            if label_stars:
                for x, d in zip(xs, done["distance"], strict=True):
                    ax.annotate(f"{whole_metres(d):,} m", (x, d), xytext=(-4, 5),
                                textcoords="offset points", ha="right", fontsize=8)
        ax.set_ylim(0, top * 1.28)
        ax.set_ylabel(f"{name}\n(m)", color=colours[name], fontsize=9)
    _draw_batches(axes[-1], totals, final_calls, colours, t0, window_seconds)
    for ax in axes:
        _shade_windows(ax, windows, t0)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    _time_axis(axes[-1], windows, t0)
    from matplotlib.lines import Line2D

    fig.legend(handles=[
        Line2D([], [], color=NEUTRAL, lw=1.6, label="running total: the state a call returns"),
        Line2D([], [], color=NEUTRAL, marker="*", ls="", markersize=11,
               markeredgecolor="black", label="final call: writes the window's total"),
        Line2D([], [], color=NEUTRAL, ls="--", lw=1,
               label="window boundary: the state starts again, empty")],
        loc="upper center", bbox_to_anchor=(0.5, 0.955), ncol=3, fontsize=8.5, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    return fig, tuple(axes)


def _draw_batches(ax: Any, totals: pd.DataFrame, finals: pd.DataFrame, colours: dict[str, str],
                  t0: pd.Timestamp, window_seconds: int | None) -> None:
    """Stacked bars of records per call and unicorn; final calls as stars at 0."""
    width = 0.6 if (window_seconds or 60) >= 10 else 0.25
    bar_x = _bar_positions(totals, t0, width)
    bottoms: dict[str, float] = {}
    for name in sorted(colours):
        mine = totals[totals["name"] == name]
        xs = [bar_x[r] for r in mine["request_id"]]
        below = [bottoms.get(r, 0.0) for r in mine["request_id"]]
        ax.bar(xs, mine["added"].tolist(), bottom=below, width=width, color=colours[name],
               lw=0, gid=f"batch:{name}")
        for rid, b, n in zip(mine["request_id"], below, mine["added"], strict=True):
            bottoms[rid] = b + n
    if len(finals):
        ax.scatter(_seconds(finals["time"], t0), [0] * len(finals), marker="*", s=90,
                   color="white", edgecolor="black", lw=0.7, zorder=4, clip_on=False,
                   gid="final-calls")
    ax.set_ylim(0, max([*bottoms.values(), 1.0]) * 1.3)
    ax.set_ylabel("records\nper call", fontsize=9)
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=3))


def _bar_positions(totals: pd.DataFrame, t0: pd.Timestamp, width: float) -> dict[str, float]:
    """Each call's bar position: its time, moved right just enough not to cover the bar of
    the call before (after a cold start, calls can come a few milliseconds apart).

    Example
    -------
    >>> t = pd.Timestamp("2024-05-01T12:00:00Z")
    >>> calls = pd.DataFrame({"request_id": ["a", "b", "c"], "time": [
    ...     t, t + pd.Timedelta(seconds=0.07), t + pd.Timedelta(seconds=5)]})
    >>> _bar_positions(calls, t, 0.6)
    {'a': 0.0, 'b': 0.6, 'c': 5.0}
    """
    out: dict[str, float] = {}
    last = float("-inf")
    calls = totals.drop_duplicates("request_id").sort_values("time", kind="stable")
    for rid, x in zip(calls["request_id"], _seconds(calls["time"], t0), strict=True):
        out[rid] = max(x, last + width)
        last = out[rid]
    return out


def _shade_windows(ax: Any, windows: pd.DataFrame, t0: pd.Timestamp) -> None:
    for i, (_, w) in enumerate(windows.iterrows()):
        a, b = _seconds([w["windowStart"], w["windowEnd"]], t0)
        ax.axvspan(a, b, color=WINDOW_SHADES[i % 2], zorder=0, lw=0)
        ax.axvline(a, color=NEUTRAL, lw=0.8, ls="--", zorder=1)
    if len(windows):
        ax.axvline(_seconds([windows["windowEnd"].max()], t0)[0], color=NEUTRAL, lw=0.8,
                   ls="--", zorder=1)


def _time_axis(ax: Any, windows: pd.DataFrame, t0: pd.Timestamp) -> None:
    """Ticks at the window boundaries (while there are few), labelled with the UTC clock."""
    from matplotlib.ticker import FuncFormatter

    if 0 < len(windows) <= 12:
        bounds = sorted({*windows["windowStart"], *windows["windowEnd"]})
        ax.set_xticks(_seconds(bounds, t0))
    ax.xaxis.set_major_formatter(FuncFormatter(
        lambda x, _: (t0 + pd.Timedelta(seconds=x)).strftime("%H:%M:%S")))
    ax.set_xlabel("time (UTC); the ticks are the window boundaries")


def plot_timeline(df: pd.DataFrame, ax: Any = None) -> tuple[Any, Any]:
    """Invocations over time (from monitor.invocations()): batch calls as dots, final calls as
    stars, one row per shard, each window shaded. Best with short windows; at 60 s use
    ``plot_state_over_time``, which shows what each call did.

    Example
    -------
    >>> fig, ax = plot_timeline(invocations())   # doctest: +SKIP
    """
    fig, ax = _new_axes(ax, (FIG_WIDTH_IN, 3))
    ax.set_title("Invocations across tumbling windows")
    ax.set_xlabel("time (UTC)")
    ax.set_ylabel("shard")
    if df is None or df.empty:
        return _nothing_yet(fig, ax, "no invocations logged yet")
    shards = sorted(str(s) for s in df["shardId"].dropna().unique()) or ["?"]
    row = {s: i for i, s in enumerate(shards)}
    windows = df[["windowStart", "windowEnd"]].dropna().drop_duplicates()
    for i, (_, w) in enumerate(windows.sort_values("windowStart").iterrows()):
        ax.axvspan(w["windowStart"], w["windowEnd"], color="tab:blue" if i % 2 else "tab:orange",
                   alpha=0.12, lw=0)
    for kind, marker, size in (("batch", "o", 30), ("final", "*", 160)):
        mine = df[df["kind"] == kind]
        if mine.empty:
            continue
        ys = [row.get(str(s), 0) for s in mine["shardId"].fillna("?")]
        ax.scatter(mine["time"], ys, marker=marker, s=size, zorder=3,
                   label="final call (writes the window)" if kind == "final" else "batch call")
    ax.set_yticks(range(len(shards)))
    ax.set_yticklabels(shards)
    ax.set_ylim(-0.5, len(shards) - 0.5)
    ax.legend(loc="upper left", fontsize="small")
    return fig, ax
