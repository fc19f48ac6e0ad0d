"""The lab's settings: defaults, every bad value rejected with a message a student can act on."""

from __future__ import annotations

import random
import re
import string

import pytest

from wildrydes_helpers import config as config_module
from wildrydes_helpers.config import Config, load_config, validate_prefix
from wildrydes_helpers.errors import ConfigError

# Each name and the length limit of the AWS service it goes to.
NAME_LIMITS = {"stream_name": 128, "table_name": 255, "role_name": 64,
               "write_policy_name": 128, "function_name": 64, "failure_queue_name": 80}
NAME_PROPERTIES = tuple(NAME_LIMITS)
# Characters every one of those services accepts.
SAFE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def _legal(prop: str, name: str) -> bool:
    return bool(SAFE_NAME.match(name)) and len(name) <= NAME_LIMITS[prop]


def _error(env: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(env)
    return str(info.value)


def test_defaults_are_the_labs():
    cfg = load_config({})
    assert cfg.backend == "local"
    assert cfg.window_seconds == 60
    assert cfg.prefix == ""
    assert cfg.local_port == 4599
    assert cfg.region == "us-east-1"
    assert cfg.stream_name == "wildrydes"
    assert cfg.table_name == "UnicornAggregation"
    assert cfg.role_name == "unicorn-aggregation-role"
    assert cfg.write_policy_name == "unicorn-aggregation-ddb-write-policy"
    assert cfg.function_name == "WildRydesAggregator"
    assert cfg.log_group_name == "/aws/lambda/WildRydesAggregator"
    assert cfg.local_endpoint == "http://127.0.0.1:4599"


def test_good_values_are_read():
    cfg = load_config({"WILDRYDES_BACKEND": " AWS ", "WILDRYDES_WINDOW_SECONDS": "900",
                       "WILDRYDES_PREFIX": "team_3-b", "WILDRYDES_LOCAL_PORT": "1024",
                       "AWS_DEFAULT_REGION": "eu-west-1", "WILDRYDES_HOME": "/tmp/x"})
    assert (cfg.backend, cfg.window_seconds, cfg.prefix, cfg.local_port, cfg.region) == (
        "aws", 900, "team_3-b", 1024, "eu-west-1")
    assert str(cfg.home) == "/tmp/x"


def test_aws_region_wins_over_aws_default_region():
    env = {"AWS_REGION": "eu-central-1", "AWS_DEFAULT_REGION": "us-west-2"}
    assert load_config(env).region == "eu-central-1"


def test_unknown_backend_names_the_variable_value_and_choices():
    message = _error({"WILDRYDES_BACKEND": "azure"})
    assert "WILDRYDES_BACKEND" in message and "'azure'" in message
    assert "'local'" in message and "'aws'" in message


@pytest.mark.parametrize("value", ["0", "901", "abc", "-5", "1.5"])
def test_bad_window_seconds(value):
    message = _error({"WILDRYDES_WINDOW_SECONDS": value})
    assert "WILDRYDES_WINDOW_SECONDS" in message
    assert value in message
    assert "1..900" in message


@pytest.mark.parametrize("value", ["a b", "s07!", "café", "x/y", "a.b", "-lead", "_lead",
                                   "x" * 33])
def test_bad_prefix(value):
    message = _error({"WILDRYDES_PREFIX": value})
    assert "WILDRYDES_PREFIX" in message
    assert repr(value) in message
    assert "letters, digits, '-' and '_'" in message and "32" in message


@pytest.mark.parametrize("value", ["80", "0", "65536", "-1", "port"])
def test_bad_local_port(value):
    message = _error({"WILDRYDES_LOCAL_PORT": value})
    assert "WILDRYDES_LOCAL_PORT" in message and value in message
    assert "1024..65535" in message


@pytest.mark.parametrize("value", ["mars", "US-EAST-1", "us-east", "us_east_1"])
def test_bad_region(value):
    message = _error({"AWS_REGION": value})
    assert "AWS_REGION" in message and repr(value) in message and "us-east-1" in message


def test_prefix_goes_on_every_name():
    cfg = load_config({"WILDRYDES_PREFIX": "s07"})
    for prop in NAME_PROPERTIES:
        base = getattr(Config(), prop)
        assert getattr(cfg, prop) == f"s07-{base}"
    assert cfg.log_group_name == "/aws/lambda/s07-WildRydesAggregator"


def _random_strings(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    alphabet = string.ascii_letters + string.digits + "-_ ./:@!*éß\t\n'\"\\"
    out = []
    for _ in range(count):
        out.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))))
    return out


def test_no_prefix_can_put_a_bad_character_into_a_name():
    accepted = 0
    for candidate in _random_strings(3000):
        try:
            cfg = load_config({"WILDRYDES_PREFIX": candidate})
        except ConfigError:
            continue
        accepted += 1
        for prop in NAME_PROPERTIES:
            assert _legal(prop, getattr(cfg, prop)), (candidate, prop)
    assert accepted > 50  # the loop really exercised accepted prefixes, not only rejections


def test_longest_prefix_fits_every_name():
    prefix = "a" * config_module.PREFIX_MAX_LENGTH
    assert validate_prefix(prefix) == prefix
    cfg = load_config({"WILDRYDES_PREFIX": prefix})
    for prop in NAME_PROPERTIES:
        assert _legal(prop, getattr(cfg, prop)), prop


def test_the_port_is_fixed_only_when_the_student_names_it():
    assert load_config({}).local_port_fixed is False
    assert load_config({"WILDRYDES_LOCAL_PORT": "4600"}).local_port_fixed is True
