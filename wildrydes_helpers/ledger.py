"""The producer's ledger: what Kinesis accepted, per unicorn, kept on disk as JSON.

Each accepted record is noted by its shard id and sequence number, the key the
reconciliation looks it up by in the stream (reconciliation.py). Kinesis sets each record's
ApproximateArrivalTimestamp, but PutRecord does not return it: the ledger's own windows use
the client's clock right after Kinesis accepted the record, a little later than the true
arrival, so they are only a progress guide. The reconciliation takes each record's window
from the stream itself.

Example
-------
>>> led = Ledger(stream="wildrydes", window_seconds=60)
>>> led.add("Shadowfax", 30.5, "4960", "shardId-000000000000", 1700000000.25)
>>> led.unicorns["Shadowfax"].windows
{'2023-11-14T22:13:00Z': 1}
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .config import Config
from .errors import LedgerError
from .statefile import write_private

LEDGER_VERSION = 2  # 2: each record's shard id and sequence number


def window_start(t: float, window_seconds: int) -> str:
    """The start of the tumbling window holding epoch time ``t``, as Lambda formats it.

    Example
    -------
    >>> window_start(59.999, 60), window_start(60.0, 60)
    ('1970-01-01T00:00:00Z', '1970-01-01T00:01:00Z')
    """
    start = int(t // window_seconds) * window_seconds
    return datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class UnicornLedger:
    """One unicorn's accepted records: count, distance, sequence numbers and times.

    ``sequences`` maps a shard id to the sequence numbers Kinesis gave this unicorn's records
    there, in the order they were accepted (a ledger of version 1 has none).
    """

    records: int = 0
    distance: float = 0.0
    first_sequence: str | None = None
    last_sequence: str | None = None
    first_arrival: float | None = None
    last_arrival: float | None = None
    windows: dict[str, int] = field(default_factory=dict)
    window_distance: dict[str, float] = field(default_factory=dict)
    sequences: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Ledger:
    """What Kinesis accepted during one producer run (see the module docstring).

    Example
    -------
    >>> Ledger(stream="wildrydes", window_seconds=60).total_records
    0
    """

    stream: str
    window_seconds: int
    unicorns: dict[str, UnicornLedger] = field(default_factory=dict)
    shard_ids: list[str] = field(default_factory=list)
    failed: int = 0
    started_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    finished: bool = False
    seed: int | None = None
    path: str | None = None

    def add(self, name: str, distance: float, sequence: str, shard_id: str,
            arrival: float) -> None:
        """Count one record Kinesis accepted (``arrival``: client epoch seconds after it).

        Example
        -------
        >>> led = Ledger(stream="s", window_seconds=1)
        >>> led.add("a", 1.0, "1", "shardId-0", 5.5); led.total_records
        1
        """
        u = self.unicorns.setdefault(name, UnicornLedger())
        u.records += 1
        u.distance += distance
        if u.first_sequence is None:
            u.first_sequence, u.first_arrival = sequence, arrival
        u.last_sequence, u.last_arrival = sequence, arrival
        key = window_start(arrival, self.window_seconds)
        u.windows[key] = u.windows.get(key, 0) + 1
        u.window_distance[key] = u.window_distance.get(key, 0.0) + distance
        u.sequences.setdefault(shard_id, []).append(sequence)
        if shard_id not in self.shard_ids:
            self.shard_ids.append(shard_id)
            self.shard_ids.sort()
        self.updated_at = time.time()

    @property
    def total_records(self) -> int:
        return sum(u.records for u in self.unicorns.values())

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("path", None)
        data["version"] = LEDGER_VERSION
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ledger:
        """Build a ledger from its JSON form; KeyError/TypeError/ValueError if malformed.

        Example
        -------
        >>> Ledger.from_dict(Ledger(stream="s", window_seconds=2).to_dict()).window_seconds
        2
        """
        if not isinstance(data, dict):
            raise TypeError("a ledger is a JSON object")
        unicorns = {str(n): UnicornLedger(**u) for n, u in data["unicorns"].items()}
        for u in unicorns.values():
            if not isinstance(u.records, int) or not isinstance(u.windows, dict) \
                    or not isinstance(u.sequences, dict):
                raise ValueError("bad unicorn entry")
        return cls(
            stream=str(data["stream"]), window_seconds=int(data["window_seconds"]),
            unicorns=unicorns, shard_ids=list(data.get("shard_ids", [])),
            failed=int(data.get("failed", 0)), started_at=float(data["started_at"]),
            updated_at=float(data["updated_at"]), finished=bool(data.get("finished")),
            seed=data.get("seed"),
        )

    def summary(self) -> str:
        """One line per unicorn: records and distance accepted by Kinesis.

        Example
        -------
        >>> Ledger(stream="s", window_seconds=2).summary()
        'ledger: no records yet'
        """
        if not self.unicorns:
            return "ledger: no records yet"
        return "\n".join(
            f"{n}: {u.records} records, {u.distance:.1f} m, {len(u.windows)} window(s)"
            for n, u in sorted(self.unicorns.items()))


def default_ledger_path(cfg: Config) -> Path:
    """Where the producer keeps its ledger unless told otherwise.

    Example
    -------
    >>> default_ledger_path(Config(home=Path("/tmp/h")))
    PosixPath('/tmp/h/ledger.json')
    """
    return cfg.home / "ledger.json"


def write_ledger(ledger: Ledger, path: str | Path) -> Path:
    """Write the ledger atomically and durably, as a ``0600`` file (``statefile.write_private``).

    A reader never sees half a file. Each write is fsynced before it replaces the last one,
    and the producer writes at least once a second, so a producer killed with ``kill -9`` (or
    a machine that loses power) loses at most the records of its last second; the file is
    never left half written. A symlink planted where the temporary file or the ledger goes is
    never followed.

    Example
    -------
    >>> write_ledger(Ledger(stream="s", window_seconds=2), "/tmp/ledger-doc.json").name
    'ledger-doc.json'
    """
    path = Path(path)
    write_private(path, json.dumps(ledger.to_dict(), indent=1, sort_keys=True),
                  private_parent=False)
    ledger.path = str(path)
    return path


def read_ledger(path: str | Path) -> Ledger:
    """Read a ledger; LedgerError naming the file and what to do if missing or corrupt.

    Example
    -------
    >>> read_ledger("/tmp/ledger-doc.json").stream   # doctest: +SKIP
    's'
    """
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise LedgerError(
            f"There is no producer ledger at {path}. Run the producer first (04_monitor, "
            "start_producer(), or `wildrydes produce`).") from None
    except OSError as exc:
        raise LedgerError(f"Cannot read the producer ledger {path}: {exc.strerror}.") from None
    try:
        ledger = Ledger.from_dict(json.loads(text))
    except (ValueError, KeyError, TypeError):
        raise LedgerError(
            f"The producer ledger {path} is corrupt (not a ledger this lab wrote). Delete it "
            "and run the producer again (start_producer() or `wildrydes produce`).") from None
    ledger.path = str(path)
    return ledger
