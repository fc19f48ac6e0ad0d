"""Each home's local-cloud credentials: private, random, and one pair however many start."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from wildrydes_helpers.local.credentials import (
    credentials_path,
    ensure_credentials,
    read_credentials,
)


def test_processes_starting_together_all_end_with_the_same_pair(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with ThreadPoolExecutor(max_workers=16) as pool:
        pairs = list(pool.map(lambda _: ensure_credentials(home), range(64)))
    assert len(set(pairs)) == 1
    assert read_credentials(home) == pairs[0]
    assert [p.name for p in home.iterdir()] == ["credentials.json"]  # no staging file left


def test_the_file_is_0600_in_a_0700_home_and_the_secret_never_printed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    made = ensure_credentials(home)
    assert stat.S_IMODE(credentials_path(home).stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert made.secret_access_key not in repr(made)


def test_two_homes_get_different_pairs(tmp_path: Path) -> None:
    first, second = ensure_credentials(tmp_path / "a"), ensure_credentials(tmp_path / "b")
    assert first.access_key_id != second.access_key_id
    assert first.secret_access_key != second.secret_access_key


def test_a_damaged_file_reads_as_none(tmp_path: Path) -> None:
    credentials_path(tmp_path).write_text('{"access_key_id": 7}')
    assert read_credentials(tmp_path) is None


def test_a_damaged_file_is_replaced_by_a_working_pair(tmp_path: Path) -> None:
    credentials_path(tmp_path).write_text("not json")
    made = ensure_credentials(tmp_path)
    assert read_credentials(tmp_path) == made
