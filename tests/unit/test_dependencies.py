"""environment.yml and pyproject.toml ask for the same packages with the same pins, and the
lab's install holds none of the test tools."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from wildrydes_helpers import doctor

ROOT = Path(__file__).resolve().parents[2]
# Entries of environment.yml that are tools of conda itself, not the lab's dependencies.
CONDA_ONLY = {"python", "pip"}
_CONDA_SPEC = re.compile(r"^([A-Za-z0-9_.\-]+)\s*(.*)$")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


# Test tools: `make test` installs them (pyproject's `test` extra); `make lab` never does.
TEST_TOOLS = {"pytest", "pytest-timeout", "nbval", "awscli", "playwright", "ruff", "pyyaml"}


def _requirements(lines: list[str]) -> dict[str, Requirement]:
    reqs = [Requirement(line) for line in lines]
    return {_norm(r.name): r for r in reqs}


def _lab_requirements() -> dict[str, Requirement]:
    return _requirements(_pyproject()["project"]["dependencies"])


def _test_requirements() -> dict[str, Requirement]:
    return _requirements(_pyproject()["project"]["optional-dependencies"]["test"])


def _pyproject_requirements() -> dict[str, Requirement]:
    return {**_lab_requirements(), **_test_requirements()}


def _environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def _environment_requirements() -> tuple[dict[str, Requirement], list[str], list[str]]:
    """(requirements by name, the conda entries, the pip entries)."""
    conda, pip = [], []
    for entry in _environment()["dependencies"]:
        if isinstance(entry, dict):
            pip += entry["pip"]
        else:
            conda.append(entry)
    reqs: dict[str, Requirement] = {}
    for entry in conda:
        name, spec = _CONDA_SPEC.match(entry).groups()
        if _norm(name) not in CONDA_ONLY:
            reqs[_norm(name)] = Requirement(f"{name}{spec.replace(' ', '')}")
    for entry in pip:
        if not entry.startswith("-"):
            req = Requirement(entry)
            reqs[_norm(req.name)] = req
    return reqs, conda, pip


def test_environment_file_basics():
    env = _environment()
    assert env["name"] == "wildrydes"
    assert env["channels"] == ["conda-forge"]
    _, conda, pip = _environment_requirements()
    assert "pip" in conda
    python = next(entry for entry in conda if entry.startswith("python"))
    requires_python = _pyproject()["project"]["requires-python"]
    assert SpecifierSet(python[len("python"):]) == SpecifierSet(requires_python)
    # The lab's own package (and its `wildrydes` command) is installed from the file's folder.
    assert "-e ." in pip


def test_same_packages_in_both_files():
    # environment.yml is the lab's environment: the lab's dependencies, no test tools.
    env_reqs, _, _ = _environment_requirements()
    assert set(env_reqs) == set(_lab_requirements())


def test_test_tools_only_in_the_test_extra():
    lab, test = set(_lab_requirements()), set(_test_requirements())
    assert test == TEST_TOOLS
    assert not lab & TEST_TOOLS
    env_reqs, _, _ = _environment_requirements()
    assert not set(env_reqs) & TEST_TOOLS


def test_make_lab_installs_the_lab_alone():
    makefile = (ROOT / "Makefile").read_text()
    lab_install = makefile.split("$(LAB_STAMP): pyproject.toml", 1)[1].split("\n\n", 1)[0]
    assert "pip install --quiet --no-compile -e ." in lab_install
    assert "tools/compile_lab_imports.py" in lab_install
    assert "[test]" not in lab_install
    test_install = makefile.split("$(TEST_STAMP):", 1)[1].split("\n\n", 1)[0]
    assert "-e '.[test]'" in test_install
    assert re.search(r"^lab: install$", makefile, re.MULTILINE)
    assert re.search(r"^test: install-test$", makefile, re.MULTILINE)


@pytest.mark.parametrize("name", sorted(_lab_requirements()))
def test_same_pins_and_extras(name):
    env_reqs, _, _ = _environment_requirements()
    ours, theirs = _lab_requirements()[name], env_reqs[name]
    assert ours.specifier == theirs.specifier, name
    assert ours.extras == theirs.extras, name


def test_packages_with_extras_go_through_pip():
    # conda's match specs have no extras: `moto[dynamodb,...]` only works under `pip:`.
    _, conda, pip = _environment_requirements()
    assert not any("[" in entry for entry in conda)
    pip_names = {_norm(Requirement(e).name) for e in pip if not e.startswith("-")}
    for name, req in _pyproject_requirements().items():
        if req.extras:
            assert name in pip_names, name


def test_doctors_fallback_pins_match_pyproject():
    reqs = _pyproject_requirements()
    for name, spec in {**doctor.REQUIRED_PACKAGES, **doctor.OPTIONAL_PACKAGES}.items():
        assert SpecifierSet(spec) == reqs[name].specifier, name
