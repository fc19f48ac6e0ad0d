"""A home's files are private and written safely (issue 11, item 7).

Each test is one probe of the issue: a symlink planted at the temporary name the old writers
used (``<name>.tmp``, ``.<name>.<pid>.tmp``), a file left ``0644``, a write that could be
lost by ``kill -9``, a state file with the wrong types.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from wildrydes_helpers import statefile
from wildrydes_helpers.ledger import Ledger, read_ledger, write_ledger
from wildrydes_helpers.statefile import (
    int_field,
    open_private_append,
    private_dir,
    str_field,
    write_private,
    write_state,
)

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes and symlinks: POSIX")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _plant(link: Path, victim: Path) -> None:
    victim.write_text("untouched")
    link.symlink_to(victim)


@posix_only
@pytest.mark.parametrize("tmp_name", ["state.json.tmp", f".state.json.{os.getpid()}.tmp"])
def test_a_state_write_never_follows_a_symlink_at_an_old_temp_name(tmp_path: Path,
                                                                   tmp_name: str) -> None:
    home, victim = tmp_path / "home", tmp_path / "victim.txt"
    private_dir(home)
    _plant(home / tmp_name, victim)
    write_state(home / "state.json", {"pid": 1})
    assert victim.read_text() == "untouched"
    assert json.loads((home / "state.json").read_text()) == {"pid": 1}


@posix_only
def test_a_symlink_planted_at_the_file_itself_is_replaced_not_followed(tmp_path: Path) -> None:
    home, victim = tmp_path / "home", tmp_path / "victim.txt"
    private_dir(home)
    _plant(home / "state.json", victim)
    write_state(home / "state.json", {"pid": 2})
    assert victim.read_text() == "untouched"
    assert not (home / "state.json").is_symlink()


@posix_only
def test_state_files_are_0600_in_a_0700_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    os.chmod(home, 0o755)
    write_state(home / "state.json", {"pid": 3})
    assert _mode(home) == 0o700
    assert _mode(home / "state.json") == 0o600
    assert [p.name for p in home.iterdir()] == ["state.json"]  # no temp file left behind


def test_each_write_is_fsynced_before_it_replaces_the_last(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(statefile.os, "fsync",
                        lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(statefile.os, "replace",
                        lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    write_private(tmp_path / "x.json", "{}")
    assert events == ["fsync", "replace"]


@posix_only
def test_a_folder_the_student_named_is_left_alone_a_missing_one_is_made_private(
        tmp_path: Path) -> None:
    named = tmp_path / "named"
    named.mkdir()
    os.chmod(named, 0o755)
    write_private(named / "ledger.json", "{}", private_parent=False)
    assert _mode(named) == 0o755
    assert _mode(named / "ledger.json") == 0o600
    write_private(tmp_path / "new" / "ledger.json", "{}", private_parent=False)
    assert _mode(tmp_path / "new") == 0o700


@posix_only
def test_a_log_is_opened_0600_and_an_old_0644_log_is_tightened(tmp_path: Path) -> None:
    fresh, old = tmp_path / "fresh.log", tmp_path / "old.log"
    with open_private_append(fresh) as handle:
        handle.write(b"one\n")
    old.write_bytes(b"before\n")
    os.chmod(old, 0o644)
    with open_private_append(old) as handle:
        handle.write(b"after\n")
    assert _mode(fresh) == 0o600 and _mode(old) == 0o600
    assert old.read_bytes() == b"before\nafter\n"  # appended, never truncated


@posix_only
def test_a_log_never_writes_through_a_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    _plant(tmp_path / "local-cloud.log", victim)
    with pytest.raises(OSError):
        open_private_append(tmp_path / "local-cloud.log")
    assert victim.read_text() == "untouched"


@posix_only
def test_the_ledger_is_private_and_never_follows_its_old_temp_name(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    _plant(tmp_path / f".ledger.json.{os.getpid()}.tmp", victim)
    ledger = Ledger(stream="s", window_seconds=60)
    ledger.add("Shadowfax", 30.0, "49", "shardId-000000000000", 1700000000.0)
    write_ledger(ledger, tmp_path / "ledger.json")
    assert victim.read_text() == "untouched"
    assert _mode(tmp_path / "ledger.json") == 0o600
    assert read_ledger(tmp_path / "ledger.json").total_records == 1


def test_each_ledger_flush_is_fsynced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(statefile.os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    ledger = Ledger(stream="s", window_seconds=60)
    for i in range(3):
        ledger.add("Shadowfax", 1.0, str(i), "shardId-000000000000", 1700000000.0 + i)
        write_ledger(ledger, tmp_path / "ledger.json")
    assert len(synced) == 3


@pytest.mark.parametrize("value", ["abc", "42", True, 1.5, None, [], {}, -1, 0])
def test_a_pid_of_the_wrong_type_or_range_reads_as_missing(value: object) -> None:
    assert int_field({"pid": value}, "pid") is None


def test_ports_and_strings_are_checked_too() -> None:
    assert int_field({"port": 4599}, "port", 1, 65535) == 4599
    assert int_field({"port": 70000}, "port", 1, 65535) is None
    assert str_field({"boot_id": ""}, "boot_id") is None
    assert str_field({"boot_id": ["x"]}, "boot_id") is None
