"""The Content-Length check answers a malformed length with a 400, never a 500."""

from __future__ import annotations

import pytest

from wildrydes_helpers.local.aws_errors import Refusal
from wildrydes_helpers.local.limits import check_body_size


@pytest.mark.parametrize("raw", ["²", "1²", "١٢", "-1", "1e3", "0x10"])
def test_a_length_that_is_not_ascii_digits_is_refused_as_malformed(raw: str) -> None:
    with pytest.raises(Refusal) as refused:
        check_body_size({"CONTENT_LENGTH": raw, "PATH_INFO": "/"}, "kinesis")
    assert refused.value.status == 400


def test_a_plain_length_is_read() -> None:
    assert check_body_size({"CONTENT_LENGTH": " 42 ", "PATH_INFO": "/"}, "kinesis") == 42
