"""The local Kinesis's sequence numbers: 56-digit decimals, like the ones AWS hands out.

AWS's sequence numbers are decimal strings of 56 digits (for example
``49590338271490256608559692538361571095921575989136588898``); their inner layout is not
documented. Being of one width, they sort the same as strings and as numbers, and code
written against AWS may compare them either way. moto's own counter ("1", "2", ... "10")
does not: "10" < "9" as strings. The local cloud therefore numbers records like this::

    49 SSSSSSSSSSSS NNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNN
    |  |            |
    |  |            the record's place in its shard, from 1 (42 digits)
    |  the shard's number, as in shardId-000000000003 (12 digits)
    a fixed lead, "49" as in AWS's examples, so every number has 56 digits

So within a shard the numbers increase by one per record; no two shards of a stream share a
number; and string order is numeric order. Kinesis guarantees nothing about the order of
two shards' numbers, and neither does this layout (a later shard's numbers are simply
higher). ``moto_backends.apply_patches`` makes moto's shards use it.

Example
-------
>>> first = sequence_number(0, 1)
>>> len(str(first)), str(first)[:16]
(56, '4900000000000000')
>>> shard_of(sequence_number(3, 10)), position_in_shard(sequence_number(3, 10))
(3, 10)
"""

from __future__ import annotations

SEQUENCE_DIGITS = 56
LEAD = 49
SHARD_DIGITS = 12
POSITION_DIGITS = SEQUENCE_DIGITS - 2 - SHARD_DIGITS  # 42
_POSITION_SPAN = 10 ** POSITION_DIGITS
_SHARD_SPAN = 10 ** SHARD_DIGITS


def sequence_number(shard_index: int, position: int) -> int:
    """The sequence number of the ``position``-th record (from 1) of shard ``shard_index``.

    Example
    -------
    >>> str(sequence_number(1, 2))
    '49000000000001000000000000000000000000000000000000000002'
    """
    if not 0 <= shard_index < _SHARD_SPAN:
        raise ValueError(f"shard index {shard_index} does not fit {SHARD_DIGITS} digits")
    if not 0 <= position < _POSITION_SPAN:
        raise ValueError(f"position {position} does not fit {POSITION_DIGITS} digits")
    return (LEAD * _SHARD_SPAN + shard_index) * _POSITION_SPAN + position


def first_sequence_number(shard_index: int) -> int:
    """The number the first record of shard ``shard_index`` gets.

    Example
    -------
    >>> first_sequence_number(0) == sequence_number(0, 1)
    True
    """
    return sequence_number(shard_index, 1)


def shard_of(number: int | str) -> int:
    """The shard number inside a sequence number of this layout.

    Example
    -------
    >>> shard_of("49000000000007000000000000000000000000000000000000000001")
    7
    """
    return int(number) // _POSITION_SPAN % _SHARD_SPAN


def position_in_shard(number: int | str) -> int:
    """The record's place in its shard (from 1) inside a sequence number of this layout.

    Example
    -------
    >>> position_in_shard("49000000000007000000000000000000000000000000000000000012")
    12
    """
    return int(number) % _POSITION_SPAN
