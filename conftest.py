"""Doctest collection for ``make test``.

A docstring example that needs a running cloud is marked ``+SKIP``: it documents a call and
is not a test. Such docstrings are deselected (and counted as such), not reported as skipped
tests; every example that can run offline runs.
"""

from __future__ import annotations

import doctest

import pytest
from _pytest.doctest import DoctestItem


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    documentation_only = [
        item for item in items
        if isinstance(item, DoctestItem) and item.dtest is not None
        and all(example.options.get(doctest.SKIP) for example in item.dtest.examples)
    ]
    if documentation_only:
        config.hook.pytest_deselected(items=documentation_only)
        items[:] = [item for item in items if item not in documentation_only]
