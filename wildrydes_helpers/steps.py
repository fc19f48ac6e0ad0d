"""What every lab helper shares: the session, the call record, and readable errors.

``@lab_step`` wraps a helper so that it

- resolves its session (``session=None`` means the shared default one),
- records the boto3 calls it made, for the notebook's "under the hood" section,
- turns botocore errors into :class:`~wildrydes_helpers.errors.WildRydesError` messages
  that say what to do, naming the notebook to run first when something is missing.

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
import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import botocore.exceptions

from .errors import CredentialsError, LocalCloudError, PrerequisiteError, WildRydesError
from .session import CallRecord, LabSession, get_session, mask_account, mask_accounts

# The notebook that creates each kind of resource, so a missing one names its step.
NB_STREAM = "00_introduction"
NB_TABLE = "01_create_table"
NB_ROLE = "02_create_role"
NB_FUNCTION = "03_create_function"
NB_MONITOR = "04_monitor"
NB_QUERY = "05_query"
NB_CLEANUP = "06_clean_up"

_MISSING_BY_SERVICE = {
    "kinesis": ("the Kinesis stream", NB_STREAM),
    "dynamodb": ("the DynamoDB table", NB_TABLE),
    "iam": ("the IAM role or policy", NB_ROLE),
    "lambda": ("the Lambda function or its trigger", NB_FUNCTION),
    "sqs": ("the failure queue", NB_FUNCTION),
    "logs": ("the function's log group (it appears once the function has run)", NB_MONITOR),
}
_NOT_FOUND_CODES = {"ResourceNotFoundException", "NoSuchEntity", "NoSuchEntityException",
                    "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}
_CREDENTIAL_CODES = {"UnrecognizedClientException", "InvalidClientTokenId",
                     "ExpiredToken", "ExpiredTokenException", "InvalidSignatureException",
                     "SignatureDoesNotMatch", "AccessDenied", "AccessDeniedException"}

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class StepResult:
    """What a lab step did: a one-line status, details to show, and the boto3 calls made.

    Example
    -------
    >>> StepResult("01_create_table", "created", "Created table UnicornAggregation.")
    01_create_table: created. Created table UnicornAggregation.
    """

    step: str
    status: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    calls: list[CallRecord] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when the step changed something (created, updated or deleted)."""
        return self.status not in ("already exists", "up to date", "nothing to delete",
                                   "already running")

    def __repr__(self) -> str:
        lines = [f"{self.step}: {self.status}. {self.message}"]
        lines += [f"  {key}: {value}" for key, value in self.details.items()]
        return mask_accounts("\n".join(lines))

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
            f"<td style='text-align:left'>{html.escape(str(v))}</td></tr>"
            for k, v in self.details.items()
        )
        return mask_accounts(
            f"<p><b>{html.escape(self.step)}</b>: {html.escape(self.status)}. "
            f"{html.escape(self.message)}</p>" + (f"<table>{rows}</table>" if rows else ""))

    def show_calls(self) -> str:
        """The boto3 calls of this step, one a line (what a notebook prints "under the hood").

        Example
        -------
        >>> print(StepResult("x", "created", "").show_calls())
        (no AWS calls)
        """
        return mask_accounts("\n".join(str(c) for c in self.calls)) or "(no AWS calls)"


def mask_arn(arn: str) -> str:
    """An ARN with its account id masked, fit to show in a notebook.

    Example
    -------
    >>> mask_arn("arn:aws:dynamodb:us-east-1:123456789012:table/T")
    'arn:aws:dynamodb:us-east-1:********9012:table/T'
    """
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[4].isdigit():
        parts[4] = mask_account(parts[4])
    return ":".join(parts)


def error_code(exc: BaseException) -> str:
    """The AWS error code of a ClientError, or "" for anything else.

    Example
    -------
    >>> error_code(ValueError())
    ''
    """
    if isinstance(exc, botocore.exceptions.ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def _restarted(lab: LabSession) -> bool:
    if not lab.is_local or lab.boot_id is None:
        return False
    from .local import process as server

    running = server.status(lab.config)
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
    if code in _NOT_FOUND_CODES:
        calls = lab.calls_since(mark)
        service = calls[-1].service if calls else ""
        what, notebook = _MISSING_BY_SERVICE.get(service, ("a resource of the lab", NB_STREAM))
        return PrerequisiteError(
            f"{what[0].upper()}{what[1:]} does not exist yet. Run {notebook} first, then "
            f"repeat this step. (AWS said: {code})")
    if code in _CREDENTIAL_CODES:
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
