"""Plots for steps 4 and 5: the tumbling window at work, and distance per window.

Example
-------
>>> import pandas as pd
>>> ax = plot_distance(pd.DataFrame({"name": ["a"], "windowStart":
...     [pd.Timestamp(0, tz="UTC")], "distance": [1805.0]}))
>>> ax.get_title()
'Distance per tumbling window'
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def _axes(ax: Any, size: tuple[float, float], title: str, xlabel: str, ylabel: str) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt  # heavy: loaded only when a plot is drawn

        _, ax = plt.subplots(figsize=size)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def _nothing_yet(ax: Any, text: str) -> Any:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    return ax


def plot_distance(df: pd.DataFrame, ax: Any = None) -> Any:
    """Bars of distance per window, one bar per unicorn per window (from query.windows()).

    Example
    -------
    >>> plot_distance(windows())   # doctest: +SKIP
    """
    ax = _axes(ax, (10, 4), "Distance per tumbling window", "window start (UTC)", "distance (m)")
    if df is None or df.empty:
        return _nothing_yet(ax, "no windows in the table yet")
    starts = sorted(pd.to_datetime(df["windowStart"], utc=True).unique())
    names = sorted(df["name"].unique())
    width = 0.8 / len(names)
    position = {s: i for i, s in enumerate(starts)}
    for k, name in enumerate(names):
        mine = df[df["name"] == name]
        xs = [position[pd.Timestamp(s)] - 0.4 + width * (k + 0.5)
              for s in pd.to_datetime(mine["windowStart"], utc=True)]
        ax.bar(xs, mine["distance"].astype(float), width=width, label=name)
    ax.set_xticks(range(len(starts)))
    ax.set_xticklabels([pd.Timestamp(s).strftime("%H:%M:%S") for s in starts],
                       rotation=45 if len(starts) > 8 else 0)
    # Outside the axes, so it never hides the tallest bar.
    ax.legend(title="unicorn", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.figure.tight_layout()
    return ax


def plot_timeline(df: pd.DataFrame, ax: Any = None) -> Any:
    """Invocations over time (from monitor.invocations()): batch calls as dots, final calls as
    stars, one row per shard, each window shaded.

    Example
    -------
    >>> plot_timeline(invocations())   # doctest: +SKIP
    """
    ax = _axes(ax, (10, 3), "Invocations across tumbling windows", "time (UTC)", "shard")
    if df is None or df.empty:
        return _nothing_yet(ax, "no invocations logged yet")
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
    return ax
