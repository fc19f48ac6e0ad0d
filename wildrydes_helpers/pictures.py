"""The pictures of ``00_introduction``: what the lab builds, and how tumbling windows fall.

Example
-------
>>> window_totals([("A", 1.0, 30.0), ("A", 61.0, 29.0)], 60)
{(0, 'A'): 30.0, (1, 'A'): 29.0}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .config import TRIGGER_BATCH_SIZE, TRIGGER_STARTING_POSITION, Config, load_config


def plot_architecture(cfg: Config | None = None) -> Any:
    """Draw what the lab builds: producer, stream, trigger, function, table and logs.

    Returns the matplotlib Figure (one Axes, titled, no ticks).

    Example
    -------
    >>> fig = plot_architecture(Config())
    >>> fig.axes[0].get_title()
    'What the lab builds'
    """
    # matplotlib is heavy: loaded only when a picture is drawn.
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
    import matplotlib.pyplot as plt  # heavy: loaded only when a picture is drawn

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
