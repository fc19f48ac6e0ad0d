"""Checks that the lab can run here: Python, packages, and the local cloud or AWS access.

Each check returns a ``CheckResult``; ``run_checks`` picks the checks for the chosen backend.
In ``local`` mode nothing here reads AWS credentials. The local cloud check starts the local
cloud when it is not running and leaves it running, because the notebooks use it next
(``wildrydes local stop`` stops it).

Example
-------
>>> from wildrydes_helpers.doctor import check_python
>>> print(check_python((3, 11, 7)).line())
ok   python 3.11.7
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import botocore.config
import botocore.exceptions
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from .config import Config
from .errors import WildRydesError
from .local import process as local_cloud
from .platforms import platform_support
from .session import get_session, local_boto3_session, mask_account

MIN_PYTHON = (3, 11)
DISTRIBUTION = "wildrydes"
# The packages a student's lab needs, with the pins of pyproject.toml; used when the lab's
# own package metadata is not installed (e.g. running from a source folder).
REQUIRED_PACKAGES: dict[str, str] = {
    "boto3": ">=1.35",
    "moto": "==5.2.5",
    "pandas": ">=2.1",
    "matplotlib": ">=3.8",
    "jupyterlab": ">=4.1",
    "ipywidgets": ">=8.1",
    "tqdm": ">=4.66",
    "psutil": ">=5.9",
}
OPTIONAL_PACKAGES: dict[str, str] = {"nbval": ">=0.11"}
INSTALL_HINT = "run `make install` (or `pip install -e '.[test]'`) in the lab's folder"

VersionOf = Callable[[str], str]


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: ``detail`` is what was found, or what to do when it failed.

    Example
    -------
    >>> CheckResult("tqdm", False, "not installed").line()
    'FAIL tqdm: not installed'
    """

    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        """One line for the terminal: ``ok   NAME DETAIL`` or ``FAIL NAME: DETAIL``.

        Example
        -------
        >>> CheckResult("python", True, "3.12.1").line()
        'ok   python 3.12.1'
        """
        return f"ok   {self.name} {self.detail}" if self.ok else f"FAIL {self.name}: {self.detail}"


def check_python(version_info: Sequence[int] = tuple(sys.version_info[:3])) -> CheckResult:
    """Python must be 3.11 or newer.

    Example
    -------
    >>> check_python((3, 10, 4)).ok
    False
    """
    shown = ".".join(str(part) for part in version_info[:3])
    if tuple(version_info[:2]) >= MIN_PYTHON:
        return CheckResult("python", True, shown)
    return CheckResult(
        "python", False,
        f"{shown} is too old; the lab needs Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer. "
        "Install it (python.org or conda) and create the lab's environment again.",
    )


def pinned_requirements(
    requires: Callable[[str], list[str] | None] = importlib.metadata.requires,
) -> dict[str, str]:
    """The version specifiers of the checked packages, from the lab's installed metadata.

    Example
    -------
    >>> pinned_requirements(lambda _: ["moto[iam]==5.2.5", "pytest>=8; extra == 'test'"])["moto"]
    '==5.2.5'
    """
    pins = dict(REQUIRED_PACKAGES) | dict(OPTIONAL_PACKAGES)
    try:
        lines = requires(DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:
        return pins
    for text in lines:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        name = req.name.lower()
        if name in pins:
            pins[name] = str(req.specifier)
    return pins


def check_package(name: str, specifier: str, version_of: VersionOf = importlib.metadata.version,
                  optional: bool = False) -> CheckResult | None:
    """Is ``name`` installed in a version that ``specifier`` allows? None: optional and absent.

    Example
    -------
    >>> check_package("moto", "==5.2.5", version_of=lambda _: "5.1.0").line()[:21]
    'FAIL moto: 5.1.0 is i'
    """
    try:
        found = version_of(name)
    except importlib.metadata.PackageNotFoundError:
        if optional:
            return None
        return CheckResult(name, False, f"not installed; {INSTALL_HINT}")
    try:
        allowed = SpecifierSet(specifier).contains(Version(found), prereleases=True)
    except InvalidVersion:
        allowed = False
    if allowed:
        return CheckResult(name, True, found)
    return CheckResult(
        name, False, f"{found} is installed, the lab needs {name}{specifier}; {INSTALL_HINT}"
    )


def check_packages(version_of: VersionOf = importlib.metadata.version,
                   pins: dict[str, str] | None = None) -> list[CheckResult]:
    """One result per required package, plus the optional ones that are installed.

    Example
    -------
    >>> [r.ok for r in check_packages(lambda _: "99.0", {"boto3": ">=1.35"})]
    [True]
    """
    pins = pinned_requirements() if pins is None else pins
    results = []
    for name, spec in pins.items():
        result = check_package(name, spec, version_of, optional=name in OPTIONAL_PACKAGES)
        if result is not None:
            results.append(result)
    return results


def _list_tables(endpoint: str, cfg: Config) -> int:
    client = local_boto3_session(cfg).client(
        "dynamodb", endpoint_url=endpoint, config=botocore.config.Config(
            retries={"max_attempts": 1}, connect_timeout=3, read_timeout=10))
    return len(client.list_tables().get("TableNames", []))


def check_local_cloud(cfg: Config) -> CheckResult:
    """The local cloud runs (it is started if needed) and answers a DynamoDB ListTables.

    Example
    -------
    >>> check_local_cloud(load_config()).line()  # doctest: +SKIP
    'ok   local cloud http://127.0.0.1:4599 (already running; 0 tables)'
    """
    was_running = local_cloud.status(cfg) is not None
    try:
        endpoint = local_cloud.start(cfg)
    except WildRydesError as exc:
        return CheckResult("local cloud", False, str(exc))
    try:
        tables = _list_tables(endpoint, cfg)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        return CheckResult(
            "local cloud", False,
            f"{endpoint} does not answer DynamoDB ListTables ({type(exc).__name__}). Restart it "
            f"with `wildrydes local stop` and `wildrydes local start`; its log is "
            f"{local_cloud.log_path(cfg)}.",
        )
    how = "already running" if was_running else "started; `wildrydes local stop` stops it"
    return CheckResult("local cloud", True, f"{endpoint} ({how}; {tables} tables)")


def check_region(cfg: Config, env: Mapping[str, str] | None = None) -> CheckResult:
    """aws mode: say which region the lab uses and where that choice came from.

    Example
    -------
    >>> check_region(Config(backend="aws", region="eu-west-1"), {"AWS_REGION": "eu-west-1"}).line()
    'ok   aws region eu-west-1 (from AWS_REGION)'
    """
    env = os.environ if env is None else env
    source = next((var for var in ("AWS_REGION", "AWS_DEFAULT_REGION") if env.get(var)), None)
    how = f"from {source}" if source else "the lab's default; `export AWS_REGION=...` to change"
    return CheckResult("aws region", True, f"{cfg.region} ({how})")


def check_aws(cfg: Config) -> CheckResult:
    """aws mode: the standard credential chain works (checked with STS) in the chosen region.

    Example
    -------
    >>> check_aws(load_config({"WILDRYDES_BACKEND": "aws"})).line()  # doctest: +SKIP
    'ok   aws credentials account ********3333, region eu-west-1'
    """
    try:
        lab = get_session(config=cfg)
    except WildRydesError as exc:
        return CheckResult("aws credentials", False, str(exc))
    return CheckResult("aws credentials", True,
                       f"account {mask_account(lab.account_id)}, region {cfg.region}")


def check_platform(cfg: Config, platform: str | None = None) -> CheckResult:
    """The operating system, and whether the lab runs on it with the chosen backend.

    Example
    -------
    >>> check_platform(Config(backend="local"), "windows").ok
    False
    >>> check_platform(Config(backend="local"), "linux").line()[:32]
    'ok   platform linux: tested (the'
    """
    support = platform_support(cfg.backend, platform)
    if support.supported:
        return CheckResult("platform", True, support.line())
    return CheckResult("platform", False, f"{support.platform}: {support.detail}")


def run_checks(cfg: Config, version_of: VersionOf = importlib.metadata.version
               ) -> list[CheckResult]:
    """Every check for ``cfg``'s backend, in the order a student should fix them.

    Example
    -------
    >>> all(r.ok for r in run_checks(load_config()))  # doctest: +SKIP
    True
    """
    results = [check_platform(cfg), check_python(), *check_packages(version_of)]
    if not results[0].ok:
        return results  # the local cloud cannot start here: say so once, and how
    if cfg.is_local:
        results.append(check_local_cloud(cfg))
    else:
        results += [check_region(cfg), check_aws(cfg)]
    return results
