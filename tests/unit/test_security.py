"""No secret and no real account id in the repository or in any notebook output."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from wildrydes_helpers.config import Config, load_config
from wildrydes_helpers.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
LOCAL_ACCOUNT = "123456789012"  # the local cloud's own account (moto's default)

ACCESS_KEY = re.compile(r"\b(AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}\b")
SECRET_ASSIGNMENT = re.compile(
    r"(?i)(aws_secret_access_key|secret_key|secretaccesskey)\W{1,4}[A-Za-z0-9/+=]{40}\b"
)
SESSION_TOKEN = re.compile(r"(?i)(aws_session_token|sessiontoken)\W{1,4}[A-Za-z0-9/+=]{100,}")
# A 12-digit number in an account position: an ARN, or next to the word "account".
ACCOUNT_IN_ARN = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):")
ACCOUNT_WORD = re.compile(r"(?i)account(?:[ _-]?id)?\W{1,4}(\d{12})\b")


def _tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    return [REPO / line for line in out.splitlines() if (REPO / line).is_file()]


def _texts() -> list[tuple[str, str]]:
    texts = []
    for path in _tracked_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if path.suffix == ".ipynb":
            outputs = []
            for cell in json.loads(text).get("cells", []):
                for output in cell.get("outputs", []):
                    outputs.append(json.dumps(output))
            texts.append((f"{path.relative_to(REPO)} (outputs)", "\n".join(outputs)))
        texts.append((str(path.relative_to(REPO)), text))
    return texts


def find_secrets(text: str) -> list[str]:
    """Every secret-looking string in ``text``, and every account id other than the local one."""
    found = [m.group(0) for m in ACCESS_KEY.finditer(text)]
    found += [m.group(0)[:30] + "..." for m in SECRET_ASSIGNMENT.finditer(text)]
    found += [m.group(0)[:30] + "..." for m in SESSION_TOKEN.finditer(text)]
    for pattern in (ACCOUNT_IN_ARN, ACCOUNT_WORD):
        found += [m.group(1) for m in pattern.finditer(text) if m.group(1) != LOCAL_ACCOUNT]
    return found


def test_the_scanner_finds_what_it_looks_for() -> None:
    fake_key = "AKIA" + "ABCDEFGHIJKLMNOP"
    assert find_secrets(f"key {fake_key}") == [fake_key]
    assert find_secrets("arn:aws:iam::" + "210987654321" + ":role/x") == ["210987654321"]
    assert find_secrets("arn:aws:iam::123456789012:role/x") == []
    assert find_secrets("aws_secret_access_key = " + "a" * 40)


def test_no_committed_file_or_notebook_output_holds_a_secret_or_account() -> None:
    leaks = {name: hits for name, text in _texts() if (hits := find_secrets(text))}
    assert leaks == {}


@pytest.mark.parametrize("prefix", ["a/b", "x y", "arn:aws", "-lead", "ü", "a" * 33, "a*",
                                    "a\nb", "a:b", "a.b", "a@b"])
def test_prefix_cannot_put_other_characters_into_names(prefix: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config({"WILDRYDES_PREFIX": prefix})
    assert "WILDRYDES_PREFIX" in str(err.value)


def test_every_prefixed_name_and_arn_uses_only_allowed_characters() -> None:
    cfg = Config(prefix="Team_7-b")
    names = [cfg.stream_name, cfg.table_name, cfg.role_name, cfg.write_policy_name,
             cfg.function_name, cfg.failure_queue_name]
    for name in names:
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name), name
        assert name.startswith("Team_7-b-")
