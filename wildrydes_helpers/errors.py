"""The lab's own exceptions (each carries a message a student can act on) and the AWS error
codes the helpers tell apart.

Example
-------
>>> raise PrerequisiteError("Run step 1 (01_create_table) first.")
Traceback (most recent call last):
...
wildrydes_helpers.errors.PrerequisiteError: Run step 1 (01_create_table) first.
"""

from __future__ import annotations

import botocore.exceptions

# A resource that does not exist (or no longer exists), in every service the lab uses.
NOT_FOUND_CODES = frozenset({
    "ResourceNotFoundException", "NoSuchEntity", "NoSuchEntityException",
    "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"})
# Credentials that are missing, wrong, expired or not allowed.
CREDENTIAL_CODES = frozenset({
    "UnrecognizedClientException", "InvalidClientTokenId", "ExpiredToken",
    "ExpiredTokenException", "InvalidSignatureException", "SignatureDoesNotMatch",
    "AccessDenied", "AccessDeniedException"})
# Throttled or briefly failing: the same request may succeed when sent again.
RETRYABLE_CODES = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException",
    "LimitExceededException", "InternalFailure", "ServiceUnavailable",
    "KMSThrottlingException"})
# Still being created or deleted.
IN_USE_CODE = "ResourceInUseException"


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


def is_not_found(exc: BaseException) -> bool:
    """True when ``exc`` says the resource does not exist.

    Example
    -------
    >>> is_not_found(ValueError())
    False
    """
    return error_code(exc) in NOT_FOUND_CODES


class WildRydesError(Exception):
    """Base class: the message says what went wrong and what to do."""

    def _render_traceback_(self) -> list[str]:
        # IPython's hook: in a notebook the student sees this one message, not a stack trace
        # through the helpers' internals.
        return [f"\x1b[1;31m{type(self).__name__}\x1b[0m: {self}"]


class ConfigError(WildRydesError, ValueError):
    """An environment setting has a value the lab cannot use."""


class LocalCloudError(WildRydesError):
    """The local cloud could not be started, reached or stopped."""


class CredentialsError(WildRydesError):
    """aws mode without usable credentials or region."""


class PrerequisiteError(WildRydesError):
    """A lab step was called before the step it needs."""


class ResourceMismatchError(WildRydesError):
    """A resource exists under the lab's name but with other settings."""


class LedgerError(WildRydesError):
    """The producer's ledger file is missing or unreadable."""


class StreamGoneError(PrerequisiteError):
    """The stream a check needs to read no longer exists (06_clean_up deleted it)."""


class StreamReadError(WildRydesError):
    """Reading the stream's records back failed part way (e.g. an expired iterator)."""
