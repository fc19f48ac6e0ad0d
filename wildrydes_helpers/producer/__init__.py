"""The unicorn producer: one JSON record a second per unicorn into the lab's Kinesis stream.

``simulate`` makes the records, ``send`` puts them with retries, ``run`` runs the producer in
this process, ``background`` runs it as a process of its own from a notebook.

Example
-------
>>> from wildrydes_helpers.producer import start_producer, stop_producer
>>> start_producer(["Shadowfax", "Rocinante"], duration=200, seed=7)   # doctest: +SKIP
04_monitor: started. Producer started (pid 4321) for Shadowfax, Rocinante ...
"""

from __future__ import annotations

from .background import (
    ProducerStatus,
    producer_status,
    start_producer,
    state_path,
    stop_all_producers,
    stop_producer,
)
from .run import (
    ProducerResult,
    default_duration,
    next_window_start,
    run_producer,
    validate_args,
)
from .send import MAX_ATTEMPTS, Sender
from .simulate import DEFAULT_NAME, UnicornSimulator, make_record, status_time

__all__ = [
    "DEFAULT_NAME", "MAX_ATTEMPTS", "ProducerResult", "ProducerStatus", "Sender",
    "UnicornSimulator", "default_duration", "make_record", "next_window_start",
    "producer_status", "run_producer", "start_producer", "state_path", "status_time",
    "stop_all_producers", "stop_producer", "validate_args",
]
