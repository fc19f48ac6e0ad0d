"""03's deploy switch, under in-process moto: the student's handler, then the lab's again."""

from __future__ import annotations

import importlib.util
import io
import zipfile
from pathlib import Path

import pytest

import wildrydes_helpers as wr
from tests.kit.moto_lab import moto_lab
from wildrydes_helpers.config import Config
from wildrydes_helpers.exercises import deploy_my_handler, deploy_reference_handler
from wildrydes_helpers.exercises.source import chosen_source, student_dir
from wildrydes_helpers.function_zip import build_zip, code_sha256
from wildrydes_helpers.session import LabSession

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def aws_lab(monkeypatch, tmp_path):
    with moto_lab(monkeypatch, tmp_path, managed_policies=True) as lab:  # the role attaches one
        for step in (wr.create_stream, wr.create_table, wr.create_role):
            step(session=lab)
        yield lab


def _answer():
    spec = importlib.util.spec_from_file_location("answer_03_deploy",
                                                  REPO / "teacher" / "answers" / "03_handler.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler


def _deployed_sha(lab: LabSession) -> str:
    conf = lab.client("lambda").get_function_configuration(FunctionName=lab.config.function_name)
    return str(conf["CodeSha256"])


def test_the_reference_is_the_default_and_the_switch_goes_both_ways(aws_lab):
    first = wr.create_function(session=aws_lab)
    assert first.details["code"] == "lambda/index.py (the lab's function)"
    assert _deployed_sha(aws_lab) == code_sha256(build_zip())

    mine = deploy_my_handler(_answer(), session=aws_lab)
    assert mine.details["code"].startswith("your handler (from deploy_my_handler")
    folder = chosen_source(aws_lab.config)
    assert folder == student_dir(aws_lab.config)
    assert _deployed_sha(aws_lab) == code_sha256(build_zip(folder))
    names = zipfile.ZipFile(io.BytesIO(build_zip(folder))).namelist()
    assert names == ["index.py", "lab_tools.py"]

    # Step 3 again (as 04's ensure_steps runs it) keeps the student's handler.
    again = wr.create_function(session=aws_lab)
    assert again.status == "up to date"
    assert _deployed_sha(aws_lab) == code_sha256(build_zip(folder))

    back = deploy_reference_handler(session=aws_lab)
    assert back.details["code"] == "lambda/index.py (the lab's function)"
    assert chosen_source(aws_lab.config) is None
    assert _deployed_sha(aws_lab) == code_sha256(build_zip())


def test_an_unsolved_handler_is_not_deployed_and_nothing_is_chosen(tmp_path):
    cfg = Config(backend="aws", region="us-east-1", home=tmp_path)

    def handler(event, context):
        return {"state": event.get("state") or {}}

    # No session is needed: the check comes first, and a failing one stops before AWS.
    shown = repr(deploy_my_handler(handler, session=LabSession(config=cfg, boto=None)))
    assert shown.startswith("Not deployed:")
    assert chosen_source(cfg) is None
    assert not student_dir(cfg).exists()
