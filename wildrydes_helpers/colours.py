"""One colour per unicorn, the same in every picture and plot of the lab.

The lab's two unicorns have fixed colours; any other name gets one from its own letters (a
stable hash, not Python's salted ``hash``), so a unicorn keeps its colour from notebook to
notebook. The palette is Okabe and Ito's, which colour-blind students can tell apart.

Example
-------
>>> unicorn_colour("Shadowfax"), unicorn_colour("Rocinante")
('#0072B2', '#D55E00')
>>> unicorn_colours(["Rocinante", "Shadowfax"])
{'Rocinante': '#D55E00', 'Shadowfax': '#0072B2'}
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

# Okabe-Ito without black and yellow (black is for text and the expected line, yellow is
# unreadable on white), then two darker extras so eight unicorns still differ.
PALETTE: tuple[str, ...] = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
                            "#882255", "#332288")
# The lab's unicorns (producer, 04, 05, 07) keep these whatever else is drawn beside them.
FIXED: dict[str, str] = {"Shadowfax": PALETTE[0], "Rocinante": PALETTE[1]}
# Neutral colours for what belongs to no unicorn: window bands, batch sizes, final calls.
WINDOW_SHADES: tuple[str, str] = ("#EEEEEE", "#FAFAFA")
NEUTRAL = "#555555"


def unicorn_colour(name: str) -> str:
    """The colour of one unicorn, the same on every call and in every process.

    Example
    -------
    >>> unicorn_colour("Bucephalus") == unicorn_colour("Bucephalus")
    True
    """
    if name in FIXED:
        return FIXED[name]
    return PALETTE[zlib.crc32(name.encode("utf-8")) % len(PALETTE)]


def unicorn_colours(names: Iterable[str]) -> dict[str, str]:
    """A colour for each name, distinct within ``names`` while the palette lasts.

    Each name keeps its own colour (``unicorn_colour``) unless a name before it in sorted
    order already has it; then it takes the next free one of the palette. The lab's unicorns
    never move, and the same set of names always gets the same colours.

    Example
    -------
    >>> colours = unicorn_colours(["a", "b", "c", "Shadowfax"])
    >>> colours["Shadowfax"], len(set(colours.values()))
    ('#0072B2', 4)
    """
    unique = sorted(set(names))
    out: dict[str, str] = {n: FIXED[n] for n in unique if n in FIXED}
    used = set(out.values())
    for name in unique:
        if name in out:
            continue
        colour = unicorn_colour(name)
        if colour in used and len(used) < len(PALETTE):
            start = PALETTE.index(colour)
            colour = next(PALETTE[(start + k) % len(PALETTE)] for k in range(len(PALETTE))
                          if PALETTE[(start + k) % len(PALETTE)] not in used)
        out[name] = colour
        used.add(colour)
    return {n: out[n] for n in unique}
