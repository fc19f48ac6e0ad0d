"""``@lab_step``: what every lab helper shares around its AWS calls.

``@lab_step`` wraps a helper so that it

- resolves its session (``session=None`` means the shared default one),
- records the boto3 calls it made, for the notebook's "under the hood" section,
- turns botocore errors into :class:`~wildrydes_helpers.errors.WildRydesError` messages
  that say what to do, naming the notebook to run first when something is missing,
- notices a local cloud that was restarted (and so is empty) since the session connected.

Example
-------
>>> @lab_step("01_create_table")
... def table_names(session=None):
...     return session.client("dynamodb").list_tables()["TableNames"]
>>> table_names()  # doctest: +SKIP
['UnicornAggregation']
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any, TypeVar

import botocore.exceptions

from .errors import (
    CREDENTIAL_CODES,
    NOT_FOUND_CODES,
    CredentialsError,
    LocalCloudError,
    PrerequisiteError,
    WildRydesError,
    error_code,
)
from .local import process as local_cloud
from .notebook_names import NB_FUNCTION, NB_MONITOR, NB_ROLE, NB_STREAM, NB_TABLE
from .session import CallRecord, LabSession, get_session
from .step_result import StepResult

# What is missing when a call of this service says "not found", and the notebook creating it.
_MISSING_BY_SERVICE = {
    "kinesis": ("the Kinesis stream", NB_STREAM),
    "dynamodb": ("the DynamoDB table", NB_TABLE),
    "iam": ("the IAM role or policy", NB_ROLE),
    "lambda": ("the Lambda function or its trigger", NB_FUNCTION),
    "sqs": ("the failure queue", NB_FUNCTION),
    "logs": ("the function's log group (it appears once the function has run)", NB_MONITOR),
}

F = TypeVar("F", bound=Callable[..., Any])


def _restarted(lab: LabSession) -> bool:
    if not lab.is_local or lab.boot_id is None:
        return False
    running = local_cloud.status(lab.config)
    return running is not None and running.get("boot_id") != lab.boot_id


def _restart_message(step: str) -> str:
    which = f"{NB_STREAM}" if step == NB_STREAM else f"the notebooks from {NB_STREAM} up to {step}"
    return (f"The local cloud was restarted since this notebook connected to it, and a new "
            f"local cloud starts empty. Restart the kernel and run {which} again.")


def check_not_restarted(lab: LabSession, step: str) -> None:
    """Raise PrerequisiteError when the session's local cloud was replaced by a new, empty one.

    Without this a creating step would quietly succeed in the new local cloud while the rest
    of the lab is gone, and the student would only learn it steps later.

    Example
    -------
    >>> check_not_restarted(get_session(), "01_create_table")   # doctest: +SKIP
    """
    if _restarted(lab):
        raise PrerequisiteError(_restart_message(step))


def translate(exc: Exception, lab: LabSession, step: str, mark: int) -> WildRydesError | None:
    """A WildRydesError for a botocore error, or None if it is not one the lab explains.

    Example
    -------
    >>> translate(ValueError("x"), None, "01_create_table", 0) is None
    True
    """
    if isinstance(exc, botocore.exceptions.EndpointConnectionError | \
                  botocore.exceptions.ConnectionClosedError):
        if lab.is_local:
            return LocalCloudError(
                "The local cloud is not answering. Start it with `wildrydes local start` "
                "(or restart the kernel and run the notebook again), then repeat this step.")
        return WildRydesError(
            f"Could not reach AWS ({type(exc).__name__}). Check your network connection and "
            "region (AWS_REGION), then repeat this step.")
    if isinstance(exc, botocore.exceptions.NoCredentialsError | \
                  botocore.exceptions.PartialCredentialsError):
        return CredentialsError(
            "No usable AWS credentials were found. Run `aws configure` (or `aws sso login`), "
            "or unset WILDRYDES_BACKEND to use the local cloud.")
    code = error_code(exc)
    if not code:
        return None
    if lab.is_local and _restarted(lab):
        return PrerequisiteError(_restart_message(step))
    if code in NOT_FOUND_CODES:
        calls = lab.calls_since(mark)
        service = calls[-1].service if calls else ""
        what, notebook = _MISSING_BY_SERVICE.get(service, ("a resource of the lab", NB_STREAM))
        return PrerequisiteError(
            f"{what[0].upper()}{what[1:]} does not exist yet. Run {notebook} first, then "
            f"repeat this step. (AWS said: {code})")
    if code in CREDENTIAL_CODES:
        return CredentialsError(
            f"AWS refused the request ({code}). Check that your credentials are valid and "
            "allowed to manage the lab's resources, then repeat this step.")
    message = exc.response.get("Error", {}).get("Message", "")  # type: ignore[attr-defined]
    return WildRydesError(f"AWS said {code}: {message}")


def _attach_calls(result: Any, calls: list[CallRecord]) -> Any:
    if isinstance(result, StepResult):
        result.calls = calls
        return result
    attrs = getattr(result, "attrs", None)  # a pandas DataFrame
    if isinstance(attrs, dict):
        attrs["calls"] = calls
        return result
    if hasattr(result, "calls"):
        with contextlib.suppress(AttributeError):
            result.calls = calls
    return result


def lab_step(step: str) -> Callable[[F], F]:
    """Decorate a helper that takes ``session=None``: see the module docstring.

    Example
    -------
    >>> @lab_step("05_query")
    ... def nothing(session=None):
    ...     return StepResult("05_query", "up to date", "nothing to do")
    """

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, session: LabSession | None = None, **kwargs: Any) -> Any:
            lab = get_session(session)
            mark = lab.mark()
            check_not_restarted(lab, step)
            try:
                result = fn(*args, session=lab, **kwargs)
            except PrerequisiteError:
                if _restarted(lab):
                    raise PrerequisiteError(_restart_message(step)) from None
                raise
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
                better = translate(exc, lab, step, mark)
                if better is None:
                    raise
                raise better from None
            return _attach_calls(result, lab.calls_since(mark))

        return wrapper  # type: ignore[return-value]

    return decorate
