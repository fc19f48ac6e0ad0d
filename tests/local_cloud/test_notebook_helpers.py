"""The notebooks' helpers that talk to the local cloud: fault injection, the steps before one.

The checks of the saved notebooks themselves are in tests/notebooks/test_notebooks.py.
"""

from __future__ import annotations

import pytest


def test_faults_round_trip_on_the_local_cloud(lab) -> None:
    from wildrydes_helpers.errors import WildRydesError
    from wildrydes_helpers.extra_credit import clear_faults, local_only, set_faults

    assert local_only("fault injection", lab) is True
    try:
        assert set_faults(lab, invoke_error_rate=0.25, seed=3)["invoke_error_rate"] == 0.25
        with pytest.raises(WildRydesError, match="invoke_error_rate=2.0 must be between 0 and 1"):
            set_faults(lab, invoke_error_rate=2.0)
    finally:
        cleared = clear_faults(lab)
    assert cleared["invoke_error_rate"] == 0.0


def test_ensure_steps_needs_nothing_before_the_introduction(lab) -> None:
    from wildrydes_helpers.prerequisites import ensure_steps

    assert repr(ensure_steps("00_introduction", lab)) == "No earlier step is needed."
