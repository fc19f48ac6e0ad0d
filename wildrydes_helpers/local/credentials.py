"""The local cloud's credentials: a random key pair for each home, readable by its owner only.

The first start of a home's local cloud creates them. The local cloud verifies every AWS
request's signature against them; the helpers' session, ``wildrydes local env`` and the
functions (as Lambda hands a function its role's credentials) read them from the home.

Example
-------
>>> import tempfile, pathlib
>>> home = pathlib.Path(tempfile.mkdtemp())
>>> made = ensure_credentials(home)
>>> made == read_credentials(home), made.access_key_id.startswith("LOCAL")
(True, True)
>>> len(made.secret_access_key)
40
"""

from __future__ import annotations

import os
import secrets
import string
from dataclasses import dataclass
from pathlib import Path

from ..statefile import read_state, write_state

CREDENTIALS_FILE = "credentials.json"
# AWS key ids are 20 upper-case letters and digits; "LOCAL" marks these as never AWS's own.
KEY_ID_PREFIX = "LOCAL"
_KEY_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "/+"


@dataclass(frozen=True)
class HomeCredentials:
    """One home's key pair. Its ``repr`` never shows the secret.

    Example
    -------
    >>> HomeCredentials("LOCALABC", "s3cret")
    HomeCredentials(access_key_id='LOCALABC', secret_access_key=***)
    """

    access_key_id: str
    secret_access_key: str

    def __repr__(self) -> str:
        return f"HomeCredentials(access_key_id={self.access_key_id!r}, secret_access_key=***)"


def credentials_path(home: Path) -> Path:
    """Where a home keeps its credentials.

    Example
    -------
    >>> credentials_path(Path("/h")).as_posix()
    '/h/credentials.json'
    """
    return home / CREDENTIALS_FILE


def read_credentials(home: Path) -> HomeCredentials | None:
    """The home's credentials, or None when it has none yet (or the file is not ours).

    Example
    -------
    >>> read_credentials(Path("/nonexistent")) is None
    True
    """
    data = read_state(credentials_path(home))
    if data is None:
        return None
    key, secret = data.get("access_key_id"), data.get("secret_access_key")
    if not (isinstance(key, str) and isinstance(secret, str) and key and secret):
        return None
    return HomeCredentials(key, secret)


def ensure_credentials(home: Path) -> HomeCredentials:
    """The home's credentials, made (random, ``0600``) on the first call.

    Example
    -------
    >>> import tempfile
    >>> home = Path(tempfile.mkdtemp())
    >>> ensure_credentials(home) == ensure_credentials(home)
    True
    """
    existing = read_credentials(home)
    if existing is not None:
        return existing
    made = HomeCredentials(
        KEY_ID_PREFIX + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(15)),
        "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40)),
    )
    # Two processes of one home may start at once: the first file to exist wins, and the
    # other reads it back, so every process of the home ends with the same pair.
    path = credentials_path(home)
    staging = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    write_state(staging, {"access_key_id": made.access_key_id,
                          "secret_access_key": made.secret_access_key})
    try:
        os.link(staging, path)
    except FileExistsError:
        if read_credentials(home) is None:  # a damaged file: replace it, lose nothing usable
            os.replace(staging, path)
    finally:
        staging.unlink(missing_ok=True)
    return read_credentials(home) or made
