"""``wildrydes doctor``'s checks on their own: line format, Python version, packages, pins.

Running the command against a local cloud is in tests/local_cloud/test_doctor.py.
"""

from __future__ import annotations

import importlib.metadata

import pytest

from wildrydes_helpers import doctor
from wildrydes_helpers.doctor import CheckResult, check_package, check_python


def test_line_format():
    assert CheckResult("python", True, "3.11.7").line() == "ok   python 3.11.7"
    assert CheckResult("local cloud", False, "do X").line() == "FAIL local cloud: do X"


@pytest.mark.parametrize("version, ok", [((3, 11, 0), True), ((3, 13, 2), True),
                                         ((3, 10, 14), False), ((2, 7, 18), False)])
def test_python_version(version, ok):
    result = check_python(version)
    assert result.ok is ok
    if not ok:
        assert "3.11 or newer" in result.detail


def test_package_checks():
    def versions(name: str) -> str:
        table = {"moto": "5.1.0", "boto3": "1.40.0"}
        if name not in table:
            raise importlib.metadata.PackageNotFoundError(name)
        return table[name]

    assert check_package("boto3", ">=1.35", versions).ok
    wrong = check_package("moto", "==5.2.5", versions)
    assert not wrong.ok and "5.1.0" in wrong.detail and "moto==5.2.5" in wrong.detail
    assert "make install" in wrong.detail
    missing = check_package("tqdm", ">=4.66", versions)
    assert not missing.ok and "not installed" in missing.detail
    assert check_package("nbval", ">=0.11", versions, optional=True) is None


def test_pins_come_from_the_installed_metadata():
    pins = doctor.pinned_requirements(lambda _: ["moto[iam]==9.9.9", "tqdm>=1; extra == 'x'"])
    assert pins["moto"] == "==9.9.9" and pins["tqdm"] == ">=1"
    assert doctor.pinned_requirements()["moto"] == "==5.2.5"
