"""Turn the local cloud's fault injection on and off (a teacher's or a test's tool).

The local cloud can make a share of function invocations fail, time out or lose their
worker, and slow down or fail the function's DynamoDB writes (``local/faults.py``). These
two helpers set and clear those settings through its control API. They are a shortcut of the
local cloud: on AWS they refuse, naming what works there (a failing version of the function,
``failure_lab.deploy_failing_version``, or AWS Fault Injection Service's Lambda actions).

Example
-------
>>> from wildrydes_helpers.faults_client import set_faults, clear_faults
>>> set_faults(invoke_error_rate=0.1, seed=7)["invoke_error_rate"]   # doctest: +SKIP
0.1
>>> clear_faults()["invoke_error_rate"]                              # doctest: +SKIP
0.0
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from .errors import ConfigError, LocalCloudError, WildRydesError
from .local.auth import sign_request
from .session import LabSession, get_session, local_credentials

FAULTS_PATH = "/_wildrydes/faults"
TIMEOUT_S = 10.0


def _endpoint(session: LabSession | None) -> str:
    lab = get_session(session)
    if not lab.is_local or not lab.endpoint:
        raise WildRydesError(
            "This fault switch exists only in the local cloud. On AWS, make the function "
            "fail with a failing version of its code: "
            "wildrydes_helpers.failure_lab.deploy_failing_version() (AWS Fault Injection "
            "Service also has Lambda actions). Or unset WILDRYDES_BACKEND (or set it to "
            "'local') to use the switch.")
    return lab.endpoint.rstrip("/")


def _put(endpoint: str, settings: dict[str, Any], lab: LabSession) -> dict[str, Any]:
    body = json.dumps(settings).encode()
    # The control routes answer only requests signed with the home's credentials.
    headers = sign_request("PUT", endpoint + FAULTS_PATH, body,
                           {"Content-Type": "application/json"},
                           local_credentials(lab.config), lab.config.region)
    request = urllib.request.Request(endpoint + FAULTS_PATH, data=body, method="PUT",
                                     headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as resp:
            return dict(json.loads(resp.read()))
    except urllib.error.HTTPError as exc:
        try:
            reason = json.loads(exc.read()).get("message", "")
        except ValueError:
            reason = f"HTTP {exc.code}"
        raise ConfigError(f"The local cloud refused these fault settings: {reason}.") from None
    except (urllib.error.URLError, OSError):
        raise LocalCloudError(
            f"The local cloud at {endpoint} is not answering. Start it with "
            "`wildrydes local start`, then set the faults again.") from None


def set_faults(session: LabSession | None = None, **settings: Any) -> dict[str, Any]:
    """Replace the local cloud's fault settings; returns them as the local cloud holds them.

    Parameters
    ----------
    session : LabSession, optional
        The lab session (default: the shared one); it must be a local one.
    **settings
        ``invoke_error_rate``, ``invoke_timeout_rate``, ``worker_kill_rate``,
        ``ddb_write_error_rate`` (shares 0..1), ``ddb_write_delay_s`` (seconds) and ``seed``.
        Settings left out go back to 0 (off).

    Example
    -------
    >>> set_faults(invoke_error_rate=0.1, seed=7)["seed"]   # doctest: +SKIP
    7
    """
    return _put(_endpoint(session), settings, get_session(session))


def clear_faults(session: LabSession | None = None) -> dict[str, Any] | None:
    """Switch every fault off; returns the (all zero) settings, or None on AWS.

    Unlike setting faults, clearing them is fine on AWS (there are none to clear), so a
    notebook's last cell can call it on both backends.

    Example
    -------
    >>> clear_faults()["worker_kill_rate"]   # doctest: +SKIP
    0.0
    """
    if not get_session(session).is_local:
        return None
    return _put(_endpoint(session), {}, get_session(session))
