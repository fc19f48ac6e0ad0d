"""The one switch of 03's exercise: deploy the student's handler, or the lab's again.

``deploy_my_handler(handler)`` packages the handler's cell, checks that package on the
recorded window, and only if every check passes makes it step 3's code and runs step 3
(``create_function``). Until then, and after ``deploy_reference_handler()``, the function
runs the lab's ``lambda/index.py``. Neither raises for an unsolved exercise: they print why.

Example
-------
>>> deploy_my_handler(lambda event, context: {"state": {}})   # doctest: +SKIP
Not deployed: your handler does not pass the check yet ...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..config import load_config
from ..display import Shown
from ..errors import WildRydesError
from ..function import create_function
from ..session import LabSession, get_session
from .handler_check import check_handler
from .package import load_package, package_files
from .source import choose_mine, choose_reference


def _not_deployed(reason: str) -> Shown:
    return Shown(f"Not deployed: {reason}\nThe function keeps the code it has "
                 "(the lab's, unless you deployed yours before).")


def deploy_my_handler(handler: Callable[..., Any], *,
                      session: LabSession | None = None) -> Any:
    """Check ``handler`` as it will be deployed; if it passes, make it the function's code.

    Returns step 3's result (``show_calls`` works on it) or a note saying why not.
    """
    try:
        files = package_files(handler)
    except WildRydesError as exc:
        return _not_deployed(str(exc))
    try:
        packaged, modules = load_package(files)
    except Exception as exc:  # the packaged text is the student's: say what broke
        return _not_deployed(
            f"the packaged index.py does not load ({type(exc).__name__}: {exc}). Keep "
            "everything your handler needs inside it, or use only json, os, boto3 and "
            "lab_tools' helpers.")
    report = check_handler(packaged, modules)
    if not report.passed:
        return _not_deployed("your handler does not pass the check yet, as packaged for "
                             f"Lambda:\n{report!r}")
    lab = get_session(session)
    choose_mine(lab.config, files)
    return create_function(session=lab)


def deploy_reference_handler(*, session: LabSession | None = None) -> Any:
    """Make the lab's ``lambda/index.py`` the function's code again and deploy it.

    Example
    -------
    >>> deploy_reference_handler().details["code"]          # doctest: +SKIP
    "lambda/index.py (the lab's function)"
    """
    lab = get_session(session)
    choose_reference(lab.config or load_config())
    return create_function(session=lab)
