"""The docs stay honest: docs/semantics.md and docs/moto.md against the code and the tests.

- every test the docs name (``tests/...py::test_name``) is defined in that file (read with
  ``ast``, nothing is imported or run);
- every rule of docs/semantics.md is numbered in order, has a source line (an AWS page with
  a quote, or ``assumed: AWS documents nothing``) and a test line, and the closing list of
  rules with no test matches the rules that say so;
- no file of the repository points at the planning files that lived outside it, or at a
  path outside the repository.
"""

from __future__ import annotations

import ast
import re
import subprocess
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SEMANTICS = REPO / "docs" / "semantics.md"
DOCS = (SEMANTICS, REPO / "docs" / "moto.md")

NODE_ID = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")
RULE = re.compile(r"^### (\d+)\. ", re.MULTILINE)
AWS_LINK = re.compile(r"\]\(https://docs\.(aws\.amazon\.com|amazonaws\.cn)/[^)\s]+\)")
QUOTED = re.compile(r'"[^"]{8,}"')
ASSUMED = "- Source: assumed: AWS documents nothing"
NO_TEST = "- Test: no test yet"

# Built from pieces so that this file does not name them itself.
FORBIDDEN = ("SEMANTICS" + ".md", "DESIGN" + ".md", "../" + "shared", "/work" + "/shared")
SKIPPED_DIRS = {".git", ".venv", "node_modules", "__pycache__", ".ipynb_checkpoints"}


@cache
def defined_tests(path: str) -> frozenset[str]:
    """Names of the test functions defined at any depth of a test file."""
    tree = ast.parse((REPO / path).read_text(encoding="utf-8"), filename=path)
    return frozenset(node.name for node in ast.walk(tree)
                     if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                     and node.name.startswith("test_"))


def rules() -> dict[int, str]:
    """Each rule's number and its text, up to the next heading of level 2 or 3."""
    text = SEMANTICS.read_text(encoding="utf-8")
    found: dict[int, str] = {}
    for match in RULE.finditer(text):
        rest = text[match.end():]
        end = re.search(r"^##", rest, re.MULTILINE)
        found[int(match.group(1))] = rest[:end.start()] if end else rest
    return found


def repository_files() -> list[Path]:
    """The repository's files as git knows them, or every file when there is no git."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], cwd=REPO, capture_output=True,
                             check=True, timeout=30).stdout
        return [REPO / name for name in out.decode().split("\0") if name]
    except (OSError, subprocess.SubprocessError):
        return [path for path in REPO.rglob("*") if path.is_file()
                and not SKIPPED_DIRS.intersection(path.relative_to(REPO).parts)]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_test_the_docs_name_exists(doc: Path) -> None:
    named = NODE_ID.findall(doc.read_text(encoding="utf-8"))
    assert named, f"{doc.name} names no test"
    missing = [f"{path}::{name}" for path, name in named
               if not (REPO / path).is_file() or name not in defined_tests(path)]
    assert not missing, f"{doc.name} names tests that do not exist: {missing}"


def test_rules_are_numbered_in_order() -> None:
    numbers = list(rules())
    assert numbers == list(range(1, len(numbers) + 1)), numbers
    assert len(numbers) >= 19  # the numbers the code and the test names cite


def test_every_rule_has_a_source_and_a_test_line() -> None:
    problems = []
    for number, text in rules().items():
        sources = [line for line in text.splitlines() if line.startswith("- Source:")]
        if not sources:
            problems.append(f"rule {number}: no source line")
        for line in sources:
            if not (line.startswith(ASSUMED) or (AWS_LINK.search(line) and QUOTED.search(line))):
                problems.append(f"rule {number}: a source line is neither an AWS page with a "
                                f"quote nor '{ASSUMED[2:]}': {line[:80]}")
        tests = [line for line in text.splitlines() if line.startswith("- Test:")]
        if len(tests) != 1:
            problems.append(f"rule {number}: {len(tests)} test lines, not 1")
        elif tests[0] != NO_TEST and not NODE_ID.search(tests[0]):
            problems.append(f"rule {number}: the test line names no test: {tests[0][:80]}")
    assert not problems, "\n".join(problems)


def test_the_list_of_untested_rules_is_complete() -> None:
    untested = {number for number, text in rules().items() if NO_TEST in text.splitlines()}
    text = SEMANTICS.read_text(encoding="utf-8")
    listed_part = text.split("## Rules with no test yet", 1)
    assert len(listed_part) == 2, "docs/semantics.md has no 'Rules with no test yet' section"
    listed = {int(n) for n in re.findall(r"^- Rule (\d+)\b", listed_part[1], re.MULTILINE)}
    assert listed == untested


def test_no_file_points_outside_the_repository() -> None:
    offenders = []
    for path in repository_files():
        try:
            data = path.read_bytes()
        except OSError:  # listed by git but not checked out (a deleted file, say)
            continue
        for needle in FORBIDDEN:
            if needle.encode() in data:
                offenders.append(f"{path.relative_to(REPO)}: {needle}")
    assert not offenders, ("these files refer to planning files outside the repository; "
                           "point them at docs/ instead:\n" + "\n".join(offenders))
