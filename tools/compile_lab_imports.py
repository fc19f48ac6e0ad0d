"""Write the bytecode of what the lab's processes import, and of nothing else.

``make lab`` installs the lab with ``pip install --no-compile``: pip would otherwise compile
every module of every package to bytecode, about 150 MB, most of it test suites and modules
the lab never imports. Python writes a module's bytecode itself the first time it imports it,
but not when PYTHONDONTWRITEBYTECODE is set (some hosts set it), and the first start of
JupyterLab and of each kernel would pay for compiling. So this script imports, once, what each
of the lab's processes imports, with bytecode writing on:

- the notebook kernel: ipykernel, pandas, matplotlib's inline backend, tqdm, ipywidgets and
  every module of ``wildrydes_helpers``;
- the local cloud: its server, moto's backends for the services it serves, and its patches;
- a function's worker: the Lambda runtime and boto3;
- the JupyterLab server and its extensions.

A module imported later for the first time (a rarely used path) is compiled when it is.

Usage: .venv/bin/python tools/compile_lab_imports.py
"""

from __future__ import annotations

import os
import subprocess
import sys

KERNEL = """
import pkgutil, importlib
import ipykernel.kernelapp, ipykernel.ipkernel, IPython, matplotlib_inline.backend_inline
import pandas, matplotlib.pyplot, tqdm.auto, ipywidgets
import wildrydes_helpers
for found in pkgutil.walk_packages(wildrydes_helpers.__path__, "wildrydes_helpers."):
    if not found.name.endswith("__main__"):  # a command line, not a module to import
        importlib.import_module(found.name)
"""

LOCAL_CLOUD = """
import importlib
from wildrydes_helpers.local import process, router
from wildrydes_helpers.local.context import SERVED_SERVICES
from wildrydes_helpers.local.moto_backends import apply_patches
apply_patches()
import moto.backends
for service in sorted(SERVED_SERVICES):
    service = "awslambda" if service == "lambda" else service
    for part in ("models", "responses", "urls"):
        try:
            importlib.import_module(f"moto.{service}.{part}")
        except ImportError:
            pass
"""

WORKER = """
import boto3, botocore.client
from wildrydes_helpers.local.lambda_ import worker, zygote, forkserver
"""

JUPYTER_SERVER = """
import jupyterlab.labapp, jupyter_server.serverapp, jupyter_lsp, notebook_shim
import jupyterlab_server, ipywidgets, widgetsnbextension, jupyter_server_terminals
import jupyter_server.services.kernels.kernelmanager, jupyter_server.services.contents.filemanager
"""

PROCESSES = {"notebook kernel": KERNEL, "local cloud": LOCAL_CLOUD, "function worker": WORKER,
             "JupyterLab server": JUPYTER_SERVER}


def bytecode_environment(environ: dict[str, str]) -> dict[str, str]:
    """``environ`` with bytecode writing on.

    Example
    -------
    >>> bytecode_environment({"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/bin"})
    {'PATH': '/bin'}
    """
    return {name: value for name, value in environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def main() -> int:
    env = bytecode_environment(dict(os.environ))
    failed = []
    for name, code in PROCESSES.items():
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True)
        if done.returncode != 0:
            failed.append(f"{name}: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
    if failed:
        # Not fatal: the lab runs without the bytecode, only its first start is slower.
        print("compile_lab_imports: could not import everything of " + "; ".join(failed),
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
