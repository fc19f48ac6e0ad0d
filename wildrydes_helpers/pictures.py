"""The pictures of ``00_introduction``: what the lab builds, and how tumbling windows fall.

Both return ``(figure, axes)`` like ``plt.subplots``, and are drawn about 10 inches wide so
they read at 1366x768 in JupyterLab. The window picture's numbers are the producer's own
(window_model.py), not made up.

Example
-------
>>> fig, ax = plot_architecture(Config())
>>> ax.get_title()
'What the lab builds'
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from .colours import NEUTRAL, WINDOW_SHADES, unicorn_colours
from .config import TRIGGER_BATCH_SIZE, TRIGGER_STARTING_POSITION, Config, load_config
from .window_model import (
    LAB_RATE,
    LAB_SEED,
    LAB_UNICORNS,
    Call,
    producer_arrivals,
    whole_metres,
    window_calls,
    window_of,
    window_totals,
)

__all__ = ["plot_architecture", "plot_tumbling_windows", "wrap_name", "window_totals"]

FIG_WIDTH_IN = 10.0
BOX_FONT = 8
EDGE = "#333333"


def wrap_name(name: str, width_in: float = 1.26, fontsize: float = BOX_FONT) -> str:
    """Break a long resource name after ``-``, ``_`` or ``/`` so that each line, as drawn at
    ``fontsize``, is at most ``width_in`` inches wide (a box of the architecture picture).

    Example
    -------
    >>> print(wrap_name("student07-wildrydes-aggregator-failures"))
    student07-wildrydes-
    aggregator-failures
    """
    lines: list[str] = []
    line = ""
    for part in _name_parts(name):
        if line and _width_in(line + part, fontsize) > width_in:
            lines.append(line)
            line = ""
        line += part
        # A part too wide on its own (no separator to break at) is cut where it must be.
        while _width_in(line, fontsize) > width_in and len(line) > 1:
            cut = max(k for k in range(1, len(line)) if _width_in(line[:k], fontsize) <= width_in
                      or k == 1)
            lines.append(line[:cut])
            line = line[cut:]
    return "\n".join([*lines, line] if line else lines)


@functools.lru_cache(maxsize=4096)
def _width_in(text: str, fontsize: float) -> float:
    """How wide ``text`` is drawn in the default font, in inches (72 points each)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    width, _, _ = TextToPath().get_text_width_height_descent(
        text, FontProperties(size=fontsize), ismath=False)
    return width / 72.0


def _name_parts(name: str) -> list[str]:
    parts, current = [], ""
    for ch in name:
        current += ch
        if ch in "-_/":
            parts.append(current)
            current = ""
    return parts + ([current] if current else [])


# ---------------------------------------------------------------- the architecture picture

def plot_architecture(cfg: Config | None = None) -> tuple[Any, Any]:
    """Draw what the lab builds: producer, stream, trigger, function, table, logs, the
    function's IAM role and the trigger's on-failure queue.

    Every label sits inside its own box or in the free space between boxes (a test renders
    it and checks, with the longest prefix a class may use). Boxes grow with their names.

    Example
    -------
    >>> fig, ax = plot_architecture(Config(prefix="s07"))
    >>> sorted(p.get_gid() for p in ax.patches if p.get_gid())[:3]
    ['box:function', 'box:logs', 'box:producer']
    """
    import matplotlib.pyplot as plt  # heavy: loaded only when a picture is drawn
    from matplotlib.patches import FancyBboxPatch

    cfg = cfg or load_config()
    w = 1.3  # box width in inches; the data units below are inches too
    xs = [0.1, 2.05, 4.0, 5.95, 8.45]
    labels = {
        "producer": "Unicorn producer\n(your machine)\n1 record a second\nper unicorn",
        "stream": "Kinesis stream\n" + wrap_name(cfg.stream_name),
        "trigger": f"Kinesis trigger\nbatch {TRIGGER_BATCH_SIZE}, "
                   f"{TRIGGER_STARTING_POSITION}\n{cfg.window_seconds} s tumbling window",
        "function": "Lambda function\n" + wrap_name(cfg.function_name),
        "table": "DynamoDB table\n" + wrap_name(cfg.table_name) + "\n(name, windowStart)",
        "logs": "CloudWatch Logs\n" + wrap_name(cfg.log_group_name),
        "role": "IAM role\n" + wrap_name(cfg.role_name),
        "queue": "SQS queue\n" + wrap_name(cfg.failure_queue_name) + "\non-failure destination",
    }
    h = {k: max(0.9, 0.16 * (v.count("\n") + 1) + 0.3) for k, v in labels.items()}
    row = max(h["queue"], h["logs"] - 0.9) + 0.75  # the main row sits above the queue
    main = max(h[k] for k in ("producer", "stream", "trigger", "function"))
    # (x, bottom) of each box: the table and the role grow upwards, the logs and queue down.
    place = {"producer": (xs[0], row), "stream": (xs[1], row), "trigger": (xs[2], row),
             "function": (xs[3], row), "table": (xs[4], row + 0.55),
             "logs": (xs[4], row + 0.3 - h["logs"]), "role": (xs[3], row + main + 0.75),
             "queue": (xs[2], row - 0.75 - h["queue"])}
    bottom = min(y for _, y in place.values()) - 0.1
    top = max(y + h[k] for k, (_, y) in place.items()) + 0.1
    fig = plt.figure(figsize=(FIG_WIDTH_IN, top - bottom + 0.4))
    ax = fig.add_axes((0.0, 0.0, 1.0, (top - bottom) / (top - bottom + 0.4)))
    ax.set_xlim(0, FIG_WIDTH_IN)
    ax.set_ylim(bottom, top)
    colours = {"producer": "#F2F2F2", "stream": "#FFE8C2", "trigger": "#FFE8C2",
               "function": "#FFD6A5", "table": "#CFE2FF", "logs": "#E2F0D9",
               "role": "#EADCF8", "queue": "#F8D7DA"}
    for name, (x, y) in place.items():
        height = main if name in ("producer", "stream", "trigger", "function") else h[name]
        h[name] = height
        patch = FancyBboxPatch((x, y), w, height, boxstyle="round,pad=0.04,rounding_size=0.08",
                               facecolor=colours[name], edgecolor=EDGE, lw=1)
        patch.set_gid(f"box:{name}")  # names the box for tests and curious readers
        ax.add_patch(patch)
        ax.text(x + w / 2, y + height / 2, labels[name], ha="center", va="center",
                fontsize=BOX_FONT, linespacing=1.25)

    def arrow(a: tuple[float, float], b: tuple[float, float], text: str,
              at: tuple[float, float], ha: str = "center", dashed: bool = False) -> None:
        ax.annotate("", xy=b, xytext=a, arrowprops={
            "arrowstyle": "-|>", "lw": 1.3, "color": EDGE, "shrinkA": 0, "shrinkB": 0,
            "linestyle": "--" if dashed else "-", "mutation_scale": 12})
        ax.text(*at, text, ha=ha, va="center", fontsize=BOX_FONT - 0.5, color="#222222",
                linespacing=1.15)

    pad = 0.05
    mid = row + main / 2
    for a, b, text in (("producer", "stream", "PutRecord"), ("stream", "trigger", "polls"),
                       ("trigger", "function", "invokes")):
        xa, xb = place[a][0] + w + pad, place[b][0] - pad
        arrow((xa, mid), (xb, mid), text, ((xa + xb) / 2, mid + 0.16))
    xa, xb = xs[3] + w + pad, xs[4] - pad
    # Horizontal arrows: each lands on the part of the box that faces the function.
    up = (row + main + row + 0.55) / 2
    down = (row + row + 0.3) / 2
    arrow((xa, up), (xb, up), "PutItem\n(final call)", ((xa + xb) / 2, up + 0.25))
    arrow((xa, down), (xb, down), "print()", ((xa + xb) / 2, down + 0.14))
    cx = xs[3] + w / 2
    arrow((cx, place["role"][1] - pad), (cx, row + main + pad),
          "the function\nruns as this role", (cx + 0.08, row + main + 0.375), ha="left",
          dashed=True)
    qx = xs[2] + w / 2
    arrow((qx, row - pad), (qx, row - 0.75 + pad),
          "a batch Lambda gives up on:\nits details (not its\nrecords) go here",
          (qx + 0.08, row - 0.375), ha="left")
    ax.text(xs[3] - 0.12, place["role"][1] + h["role"] / 2,
            "Its policies let Lambda read the stream and send to\n"
            "the queue, and the function write the table and the logs.",
            ha="right", va="center", fontsize=BOX_FONT - 0.5, color="#222222")
    ax.set_axis_off()
    ax.set_title("What the lab builds", fontsize=12)
    return fig, ax


# ---------------------------------------------------------------- the tumbling-window picture

def plot_tumbling_windows(window_seconds: int = 60, windows: int = 3, *,
                          names: Sequence[str] = LAB_UNICORNS, seed: int = LAB_SEED,
                          rate: float = LAB_RATE) -> tuple[Any, tuple[Any, Any]]:
    """Draw the producer's records falling into tumbling windows, then the calls of window 1.

    Top: one dot per record (the producer's own numbers for ``seed``, one a second per
    unicorn), the windows, and each unicorn's sum per window. Bottom: the invocations of
    the first window, each handing its state to the next, then the final call, which writes
    the sums in whole metres: the bars 05 draws for a run with the same seed that starts on a
    window boundary.

    Returns ``(figure, (records_axes, calls_axes))``.

    Example
    -------
    >>> fig, (top, bottom) = plot_tumbling_windows(60, 3)
    >>> print(top.get_title())
    The producer's records fall into 60 s tumbling windows (seed 42)
    """
    import matplotlib.pyplot as plt  # heavy: loaded only when a picture is drawn

    count = max(1, round(windows * window_seconds * rate))
    arrivals = producer_arrivals(names, seed, count, rate)
    colours = unicorn_colours(names)
    fig = plt.figure(figsize=(FIG_WIDTH_IN, 6.2))
    top = fig.add_axes((0.13, 0.52, 0.84, 0.40))
    bottom = fig.add_axes((0.0, 0.0, 1.0, 0.40))
    _draw_records(top, arrivals, names, colours, window_seconds, windows, seed)
    calls = [c for c in window_calls(arrivals, window_seconds) if c.window == 0]
    _draw_calls(bottom, calls, names, colours, window_seconds)
    return fig, (top, bottom)


def _draw_records(ax: Any, arrivals: list[tuple[str, float, float]], names: Sequence[str],
                  colours: dict[str, str], window_seconds: int, windows: int, seed: int) -> None:
    span = windows * window_seconds
    rows = {name: len(names) - 1 - k for k, name in enumerate(names)}  # first name on top
    for w in range(windows):
        ax.axvspan(w * window_seconds, (w + 1) * window_seconds, color=WINDOW_SHADES[w % 2],
                   zorder=0, lw=0)
        ax.axvline(w * window_seconds, color=NEUTRAL, lw=1, ls="--", zorder=1)
        ax.text((w + 0.5) * window_seconds, len(names) - 0.35,
                f"window {w + 1}: [{w * window_seconds} s, {(w + 1) * window_seconds} s)",
                ha="center", va="bottom", fontsize=9)
    ax.axvline(span, color=NEUTRAL, lw=1, ls="--", zorder=1)
    totals = window_totals(arrivals, window_seconds)
    per_window = {(window_of(s, window_seconds), n) for n, s, _ in arrivals}
    dot = 28 if window_seconds <= 20 else 10
    for name in names:
        xs = [s for n, s, _ in arrivals if n == name]
        ax.scatter(xs, [rows[name]] * len(xs), s=dot, color=colours[name], label=name,
                   zorder=3, lw=0)
        for w in range(windows):
            if (w, name) not in per_window:
                continue
            n = sum(1 for m, s, _ in arrivals if m == name and window_of(s, window_seconds) == w)
            ax.text((w + 0.5) * window_seconds, rows[name] + 0.2,
                    f"sum {totals[(w, name)]:,.1f} m ({n} records)", ha="center",
                    va="bottom", fontsize=8, color=colours[name])
    ax.set_yticks([rows[n] for n in names], list(names))
    for label, name in zip(ax.get_yticklabels(), names, strict=True):
        label.set_color(colours[name])
    ax.set_ylim(-0.5, len(names) - 0.05)
    ax.set_xlim(-0.01 * span, 1.01 * span)  # the first dot sits on the axis otherwise
    ax.set_xlabel("seconds since the producer's first record (one record a second per unicorn)")
    ax.set_title(f"The producer's records fall into {window_seconds} s tumbling windows "
                 f"(seed {seed})", fontsize=11)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _shown_calls(calls: list[Call]) -> list[Call | int]:
    """The calls drawn in the chain: all of them if few, else first two, a gap, last two."""
    batches = [c for c in calls if c.kind == "batch"]
    finals = [c for c in calls if c.kind == "final"]
    if len(batches) <= 4:
        return [*batches, *finals]
    return [batches[0], batches[1], len(batches) - 3, batches[-1], *finals]


def _draw_calls(ax: Any, calls: list[Call], names: Sequence[str], colours: dict[str, str],
                window_seconds: int) -> None:
    from matplotlib.patches import FancyBboxPatch

    ax.set_xlim(0, FIG_WIDTH_IN)
    ax.set_ylim(0, 2.48)
    ax.set_axis_off()
    ax.set_title("Inside window 1: Lambda hands the state from call to call, then makes one "
                 "final call once the window has ended", fontsize=11, y=0.93)
    shown = _shown_calls(calls)
    widths = [2.05 if isinstance(c, Call) and c.kind == "final" else
              1.05 if isinstance(c, int) else 1.6 for c in shown]
    gap = 0.42
    x = (FIG_WIDTH_IN - sum(widths) - gap * (len(shown) - 1)) / 2
    y0, h = 0.12, 1.78
    numbers = {id(c): k + 1 for k, c in enumerate(c for c in calls if c.kind == "batch")}
    for k, (call, width) in enumerate(zip(shown, widths, strict=True)):
        dashed = isinstance(call, int)
        patch = FancyBboxPatch((x, y0), width, h, boxstyle="round,pad=0.03,rounding_size=0.06",
                               facecolor="#FFF7E6" if dashed else "#FFE8C2", edgecolor=EDGE,
                               lw=1, ls="--" if dashed else "-")
        patch.set_gid("call:gap" if isinstance(call, int) else f"call:{call.kind}")
        ax.add_patch(patch)
        cx, top = x + width / 2, y0 + h - 0.12
        if isinstance(call, int):
            ax.text(cx, y0 + h / 2, f"{call} more\ncalls, about\none a second,\neach handing\n"
                    "on its state", ha="center", va="center", fontsize=8, linespacing=1.3)
        else:
            lines = _call_lines(call, numbers.get(id(call)), names)
            for i, (text, colour, bold) in enumerate(lines):
                ax.text(cx, top - i * 0.245, text, ha="center", va="top", fontsize=8,
                        color=colours.get(colour, "#222222"),
                        fontweight="bold" if bold else "normal")
        if k + 1 < len(shown):
            ax.annotate("", xy=(x + width + gap - 0.03, y0 + h / 2),
                        xytext=(x + width + 0.03, y0 + h / 2),
                        arrowprops={"arrowstyle": "-|>", "lw": 1.3, "color": EDGE,
                                    "shrinkA": 0, "shrinkB": 0, "mutation_scale": 11})
            ax.text(x + width + gap / 2, y0 + h / 2 + 0.1, "state", ha="center", va="bottom",
                    fontsize=7.5)
        x += width + gap


def _call_lines(call: Call, number: int | None,
                names: Sequence[str]) -> list[tuple[str, str, bool]]:
    """The lines of one call's box: (text, unicorn name or "" for black, bold)."""
    if call.kind == "final":
        lines = [(f"final call · after {call.second:g} s", "", True),
                 ("isFinalInvokeForWindow: true", "", False),
                 ("the function writes its state", "", False),
                 ("to the table in whole metres:", "", False)]
        return lines + [(f"{n} {whole_metres(call.state_out[n][0]):,} m", n, False)
                        for n in names if n in call.state_out]
    # "empty": what AWS implies ("messages previously processed for the current window");
    # whether it arrives as {} is undocumented (docs/semantics.md, rule 7).
    got = "an empty state" if not call.state_in else f"call {(number or 1) - 1}'s state"
    lines = [(f"call {number} · second {call.second:g}", "", True),
             (f"gets {got}", "", False),
             (f"adds {call.records} record{'s' if call.records != 1 else ''}, returns:", "",
              False)]
    return lines + [(f"{n} {call.state_out[n][0]:,.1f} m", n, False)
                    for n in names if n in call.state_out]
