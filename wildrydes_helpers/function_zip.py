"""The function's deployment package: ``lambda/`` zipped reproducibly, and its CodeSha256.

The same code always gives the same zip, so the same CodeSha256, so a second run of step 3
changes nothing. Tests and benchmarks zip their own small functions with the same helper.

Example
-------
>>> code_sha256(build_zip(files={"index.py": "x = 1"}))[:8]
'vN5tpAjs'
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from collections.abc import Mapping
from pathlib import Path

from .errors import WildRydesError

ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can hold
_SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ipynb_checkpoints"}


def lambda_dir() -> Path:
    """The function's source folder: ``<repo>/lambda`` beside ``<repo>/wildrydes_helpers``.

    Example
    -------
    >>> lambda_dir().name
    'lambda'
    """
    return Path(__file__).resolve().parent.parent / "lambda"


def _folder_files(root: Path) -> dict[str, bytes]:
    paths = sorted(
        p for p in root.rglob("*")
        if p.is_file() and not any(part in _SKIP_DIRS or part.startswith(".")
                                   for part in p.relative_to(root).parts)
        and p.suffix not in (".pyc", ".pyo")
    ) if root.is_dir() else []
    if not any(p.name == "index.py" for p in paths):
        raise WildRydesError(
            f"The function's code is missing: expected {root / 'index.py'}. Run the lab from "
            "a complete copy of the repository.")
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in paths}


def build_zip(source: str | Path | None = None, *,
              files: Mapping[str, str | bytes] | None = None) -> bytes:
    """Zip a function reproducibly (fixed dates and modes, sorted entries).

    Zips the folder ``source`` (default: the lab's ``lambda/``, which must hold
    ``index.py``), or, when ``files`` is given, those files (name in the zip -> content).

    Example
    -------
    >>> code_sha256(build_zip()) == code_sha256(build_zip())
    True
    >>> import zipfile, io
    >>> zipfile.ZipFile(io.BytesIO(build_zip(files={"app.py": "x = 1"}))).namelist()
    ['app.py']
    """
    if files is None:
        files = _folder_files(Path(source) if source is not None else lambda_dir())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in sorted(files, key=lambda n: n.split("/")):  # the order of sorted Paths
            content = files[name]
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.external_attr = (0o100644 << 16)  # a regular file, rw-r--r--
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever machine builds it
            zf.writestr(info, content.encode() if isinstance(content, str) else content,
                        compresslevel=9)
    return buf.getvalue()


def code_sha256(zip_bytes: bytes) -> str:
    """The CodeSha256 Lambda reports for this zip: base64 of its SHA-256.

    Example
    -------
    >>> code_sha256(b"")
    '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='
    """
    return base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode()
