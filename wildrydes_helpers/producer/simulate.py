"""The unicorns' sensor values: a reproducible random walk per (seed, name), as records.

A port of the Wild Rydes workshop producer. Each record is
``{Name, StatusTime, Latitude, Longitude, Distance, MagicPoints, HealthPoints}``. With a
seed, every value except StatusTime (the send time) depends only on the seed, the name and
the record's index, never on timing.

Example
-------
>>> sim = UnicornSimulator("Shadowfax", seed=7)
>>> sorted(sim.next_values())
['Distance', 'HealthPoints', 'Latitude', 'Longitude', 'MagicPoints', 'Name']
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime
from typing import Any

DEFAULT_NAME = "Shadowfax"
# Start near Seattle; each unicorn gets its own corner of the map from its name and seed.
HOME_LAT, HOME_LON = 47.6062, -122.3321


def status_time(t: float) -> str:
    """The producer's StatusTime format, ``YYYY-MM-DD HH:MM:SS.mmm`` in UTC.

    Example
    -------
    >>> status_time(0.25)
    '1970-01-01 00:00:00.250'
    """
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


class UnicornSimulator:
    """One unicorn's sensor values: a reproducible random walk per (seed, name).

    Example
    -------
    >>> a, b = UnicornSimulator("Bucephalus", 1), UnicornSimulator("Bucephalus", 1)
    >>> [a.next_values() for _ in range(3)] == [b.next_values() for _ in range(3)]
    True
    """

    def __init__(self, name: str, seed: int) -> None:
        self.name = name
        self.index = 0
        self._rng = random.Random(f"{seed}:{name}")
        self.latitude = HOME_LAT + self._rng.uniform(-0.05, 0.05)
        self.longitude = HOME_LON + self._rng.uniform(-0.05, 0.05)
        self.magic = 150
        self.health = 150

    def next_values(self) -> dict[str, Any]:
        """The next record's values (everything but StatusTime)."""
        rng = self._rng
        distance = round(rng.uniform(29.0, 31.0), 3)
        heading = rng.uniform(0.0, 2 * math.pi)
        # About 111 km per degree of latitude: move ``distance`` metres along ``heading``.
        self.latitude += distance * math.cos(heading) / 111_000
        self.longitude += distance * math.sin(heading) / (
            111_000 * math.cos(math.radians(self.latitude)))
        self.magic += rng.choice((-1, 0, 1))
        self.health += rng.choice((-1, 0, 1))
        self.index += 1
        return {"Name": self.name, "Latitude": round(self.latitude, 6),
                "Longitude": round(self.longitude, 6), "Distance": distance,
                "MagicPoints": self.magic, "HealthPoints": self.health}


def make_record(values: dict[str, Any], t: float) -> dict[str, Any]:
    """A record in the workshop's field order, with StatusTime from epoch time ``t``.

    Example
    -------
    >>> list(make_record({"Name": "x", "Distance": 30.0}, 0.0))
    ['Name', 'StatusTime', 'Distance']
    """
    out = {"Name": values["Name"], "StatusTime": status_time(t)}
    out.update({k: v for k, v in values.items() if k != "Name"})
    return out
