"""moto behind one door: the local cloud's services run on a fake of it, and only
``local/moto_backends.py`` imports moto; the package's imports have no cycle; moto's own
per-record Kinesis trigger is unhooked by the patches.

No local cloud here: the fakes run in this process, and the moto test runs moto in-process
under ``mock_aws`` with everything it changes put back afterwards.
"""

from __future__ import annotations

import ast
import io
import json
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

import wildrydes_helpers
from wildrydes_helpers.local import moto_backends
from wildrydes_helpers.local.aws_errors import AwsApiError
from wildrydes_helpers.local.context import InvokeResult, LocalCloud
from wildrydes_helpers.local.esm.service import EventSourceMappingService
from wildrydes_helpers.local.lambda_.runtime import FunctionRuntime, InvalidInvocation
from wildrydes_helpers.local.moto_backends import (
    FunctionNotFound,
    FunctionSpec,
    InvalidFunctionReference,
    ShardCursor,
    ShardRecord,
    StreamNotFound,
)

REGION = "us-east-1"
ACCOUNT = "123456789012"
FUNCTION = "door-fn"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION}"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/door-role"
STREAM = "door-stream"
STREAM_ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{STREAM}"
SHARD = "shardId-000000000000"
PACKAGE = Path(wildrydes_helpers.__file__).parent


class FakeBackends:
    """The moto door's methods over one function and one single-shard stream, no moto."""

    def __init__(self) -> None:
        self.account_id = ACCOUNT
        self.lock = threading.RLock()
        self.records: list[ShardRecord] = []

    def function_spec(self, region: str, function: str,
                      qualifier: str | None = None) -> FunctionSpec:
        if qualifier == "bad":
            raise InvalidFunctionReference("Invalid qualifier bad")
        if region != REGION or function not in (FUNCTION, FUNCTION_ARN):
            raise FunctionNotFound(f"Function not found: {function}")
        return FunctionSpec(REGION, FUNCTION, "$LATEST", FUNCTION_ARN, "index.handler",
                            "python3.12", 3.0, 128, ROLE, (), "c2hh", "Zip", b"zip")

    def shard_ids(self, region: str, stream_name: str) -> list[str]:
        return [SHARD] if (region, stream_name) == (REGION, STREAM) else []

    def starting_cursors(self, region: str, stream_arn: str, position: str,
                         timestamp: float | None = None) -> dict[str, ShardCursor]:
        if (region, stream_arn) != (REGION, STREAM_ARN):
            raise StreamNotFound(stream_arn)
        count = len(self.records) if position == "LATEST" else 0
        return {SHARD: ShardCursor(count)}

    def read_shard(self, region: str, stream_name: str, shard_id: str, cursor: ShardCursor,
                   limit: int) -> tuple[list[ShardRecord], bool]:
        new = self.records[cursor.count:cursor.count + limit]
        cursor.count += len(new)
        return new, cursor.count == len(self.records)

    def queue_exists(self, region: str, name: str) -> bool:
        return False

    def topic_exists(self, region: str, arn: str) -> bool:
        return False


class FakeRunner:
    """Stands in for the runtime: records each invocation's event, answers ``null``."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def invoke(self, function: str, payload: bytes, region: str, *,
               invocation_type: str = "RequestResponse",
               qualifier: str | None = None) -> InvokeResult:
        self.events.append(json.loads(payload))
        return InvokeResult(200, b"null", None, "", f"r{len(self.events)}", 1.0)

    def forget(self, function_name: str) -> None:
        pass

    def shutdown(self) -> None:
        pass


def _fake_cloud() -> LocalCloud:
    return LocalCloud(port=0, backends=FakeBackends())  # type: ignore[arg-type]


# --------------------------------------------------------------------------- (a) on a fake


def test_mappings_are_created_read_listed_and_deleted_on_a_fake_moto() -> None:
    service = EventSourceMappingService(_fake_cloud())
    created = service.create(REGION, {"FunctionName": FUNCTION, "EventSourceArn": STREAM_ARN,
                                      "StartingPosition": "TRIM_HORIZON", "BatchSize": 5})
    assert created["State"] == "Creating" and created["FunctionArn"] == FUNCTION_ARN
    assert created["EventSourceArn"] == STREAM_ARN and created["BatchSize"] == 5
    assert json.loads(json.dumps(created)) == created  # the API JSON is plain strings
    uuid = created["UUID"]
    assert service.get(uuid) == created
    assert service.list(REGION) == [created]
    assert service.list(REGION, function_name=FUNCTION_ARN) == [created]
    assert service.list(REGION, function_name="other") == []
    assert service.list("eu-west-1") == []
    with pytest.raises(AwsApiError) as conflict:
        service.create(REGION, {"FunctionName": FUNCTION, "EventSourceArn": STREAM_ARN,
                                "StartingPosition": "LATEST"})
    assert conflict.value.status == 409
    updated = service.update(uuid, {"Enabled": False})
    assert updated["State"] == "Disabling"
    deleted = service.delete(uuid)
    assert deleted["State"] == "Deleting"
    with pytest.raises(AwsApiError) as gone:
        service.get(uuid)
    assert (gone.value.status, gone.value.code) == (404, "ResourceNotFoundException")
    assert service.list(REGION) == []


@pytest.mark.parametrize(("params", "status", "words"), [
    ({"FunctionName": "nobody"}, 400, "Function does not exist"),
    ({"EventSourceArn": STREAM_ARN.replace(STREAM, "nothing")}, 400, "Stream not found"),
    ({"DestinationConfig": {"OnFailure": {
        "Destination": f"arn:aws:sqs:{REGION}:{ACCOUNT}:missing"}}}, 400, "does not exist"),
])
def test_the_fake_moto_answers_missing_resources_with_aws_errors(
        params: dict[str, Any], status: int, words: str) -> None:
    service = EventSourceMappingService(_fake_cloud())
    request = {"FunctionName": FUNCTION, "EventSourceArn": STREAM_ARN,
               "StartingPosition": "LATEST", **params}
    with pytest.raises(AwsApiError) as err:
        service.create(REGION, request)
    assert err.value.status == status and words in err.value.message


def test_a_poller_reads_the_fake_stream_and_invokes_the_fake_runner() -> None:
    cloud = _fake_cloud()
    runner = FakeRunner()
    cloud.runtime = runner
    backends: FakeBackends = cloud.backends  # type: ignore[assignment]
    backends.records = [ShardRecord(i, "Shadowfax", "e30=", time.time()) for i in (1, 2, 3)]
    service = EventSourceMappingService(cloud, poll_interval=0.05)
    service.start()
    try:
        service.create(REGION, {"FunctionName": FUNCTION, "EventSourceArn": STREAM_ARN,
                                "StartingPosition": "TRIM_HORIZON"})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not runner.events:
            time.sleep(0.02)
    finally:
        service.shutdown()
    assert runner.events, "the poller never invoked the function"
    records = runner.events[0]["Records"]
    assert [r["kinesis"]["sequenceNumber"] for r in records] == ["1", "2", "3"]
    assert records[0]["eventSourceARN"] == STREAM_ARN and records[0]["invokeIdentityArn"] == ROLE


def test_the_runtime_finds_functions_through_the_fake_moto(tmp_path: Path) -> None:
    runtime = FunctionRuntime(_fake_cloud(), home=tmp_path, worker_start="spawn")  # no zygote
    try:
        spec = runtime.function_spec(FUNCTION, REGION)
        assert (spec.name, spec.handler, spec.role) == (FUNCTION, "index.handler", ROLE)
        with pytest.raises(FunctionNotFound):
            runtime.function_spec("nobody", REGION)
        with pytest.raises(FunctionNotFound):
            runtime.invoke("nobody", b"{}", REGION)
        with pytest.raises(InvalidInvocation):
            runtime.function_spec(FUNCTION, REGION, qualifier="bad")
        dry = runtime.invoke(FUNCTION, b"{}", REGION, invocation_type="DryRun")
        assert (dry.status_code, dry.payload) == (204, b"")
    finally:
        runtime.shutdown()


# --------------------------------------------------------------------------- (b) one door


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_names(path: Path) -> list[tuple[str, int, list[str]]]:
    """(module, level, imported names) of every import statement, at any depth."""
    found: list[tuple[str, int, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, 0, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module or "", node.level, [a.name for a in node.names]))
    return found


def _dynamic_imports(path: Path) -> list[str]:
    """String arguments of importlib.import_module(...) and __import__(...) calls."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                names.append(node.args[0].value)
    return names


def test_only_moto_backends_imports_moto() -> None:
    offenders = []
    for path in sorted((PACKAGE / "local").rglob("*.py")):
        modules = [m for m, level, _ in _imported_names(path) if level == 0]
        modules += _dynamic_imports(path)
        if any(m == "moto" or m.startswith("moto.") for m in modules) \
                and path.name != "moto_backends.py":
            offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []
    door = _imported_names(PACKAGE / "local" / "moto_backends.py")
    assert any(m.startswith("moto.") for m, level, _ in door if level == 0)


# --------------------------------------------------------------------------- (c) no cycle


def _import_graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for module, level, names in _imported_names(path):
            if level:
                base = package
                for _ in range(level - 1):
                    base = base.rpartition(".")[0]
                target = f"{base}.{module}" if module else base
            else:
                target = module
            if target not in files:
                continue
            graph[name].add(target)
            for imported in names:  # `from .pkg import module` imports that module too
                if f"{target}.{imported}" in files:
                    graph[name].add(f"{target}.{imported}")
        graph[name].discard(name)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_import_graph_has_no_cycle() -> None:
    graph = _import_graph()
    assert "wildrydes_helpers.local.router" in graph
    assert "wildrydes_helpers.local.lambda_.invoke_api" in graph["wildrydes_helpers.local.router"]
    cycle = _cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


# --------------------------------------------------------------------------- moto's trigger


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", source)
    return buffer.getvalue()


def test_moto_own_kinesis_trigger_is_unhooked(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    from moto import mock_aws
    from moto.awslambda.models import LambdaBackend, LambdaFunction
    from moto.dynamodb.responses import DynamoHandler
    from moto.kinesis.models import Shard
    from moto.sqs.models import Queue

    original = vars(LambdaBackend)["send_kinesis_message"]
    assert original is not moto_backends._no_per_record_trigger, \
        "moto was already patched in this process: run this test in a fresh one"
    # Whatever apply_patches changes is put back when the test ends.
    monkeypatch.setattr(moto_backends, "_applied", False)
    monkeypatch.setattr(LambdaBackend, "send_kinesis_message", original)
    monkeypatch.setattr(DynamoHandler, "serialized", DynamoHandler.serialized)
    for name in ("put_record", "get_min_sequence_number", "get_max_sequence_number"):
        monkeypatch.setattr(Shard, name, vars(Shard)[name])
    monkeypatch.setattr(Queue, "wait_for_messages", vars(Queue)["wait_for_messages"])
    monkeypatch.delenv("MOTO_IAM_LOAD_MANAGED_POLICIES", raising=False)
    monkeypatch.delenv("MOTO_ACCOUNT_ID", raising=False)
    _restore_loaders_and_policies(monkeypatch)
    _restore_dispatch(monkeypatch)
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(var, "testing")
    invoked: list[str] = []
    # LambdaFunction.invoke is where moto would start Docker: record the call instead.
    monkeypatch.setattr(LambdaFunction, "invoke",
                        lambda self, body, *args, **kwargs: invoked.append(body))

    with mock_aws():
        kw = {"region_name": REGION}
        kinesis = boto3.client("kinesis", **kw)
        kinesis.create_stream(StreamName=STREAM, ShardCount=1)
        role = boto3.client("iam", **kw).create_role(
            RoleName="door-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        lam = boto3.client("lambda", **kw)
        lam.create_function(FunctionName=FUNCTION, Runtime="python3.12", Role=role,
                            Handler="index.handler",
                            Code={"ZipFile": _zip("def handler(e, c):\n    return e\n")})
        stream_arn = kinesis.describe_stream(StreamName=STREAM)["StreamDescription"]["StreamARN"]
        # Straight into moto's own Lambda API: the local cloud's router never sees it.
        lam.create_event_source_mapping(FunctionName=FUNCTION, EventSourceArn=stream_arn,
                                        StartingPosition="TRIM_HORIZON")

        # Unpatched, moto runs the function inside PutRecord, once per record.
        kinesis.put_record(StreamName=STREAM, Data=b"before", PartitionKey="k")
        assert len(invoked) == 1
        assert json.loads(invoked[0])["Records"][0]["eventSourceARN"] == stream_arn

        moto_backends.apply_patches()
        assert LambdaBackend.send_kinesis_message is moto_backends._no_per_record_trigger
        kinesis.put_record(StreamName=STREAM, Data=b"after", PartitionKey="k")
        kinesis.put_record(StreamName=STREAM, Data=b"again", PartitionKey="k")
        assert len(invoked) == 1, "moto invoked the function despite the patch"
        shard = kinesis.describe_stream(StreamName=STREAM)["StreamDescription"]["Shards"][0]
        iterator = kinesis.get_shard_iterator(StreamName=STREAM, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        stored = kinesis.get_records(ShardIterator=iterator)["Records"]
        assert [r["Data"] for r in stored] == [b"before", b"after", b"again"]


def test_a_long_poll_lets_a_message_in_while_it_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.sqs.models import Queue, SQSBackend

    # A backend of its own, outside mock_aws: nothing global of moto's is touched.
    sqs = SQSBackend(region_name=REGION, account_id=ACCOUNT)
    sqs.create_queue("door-failures")
    monkeypatch.setattr(Queue, "wait_for_messages", vars(Queue)["wait_for_messages"])
    moto_backends._long_polls_wait_unlocked()
    patched = Queue.wait_for_messages
    waiting = threading.Event()

    def wait_and_say_so(self: Any, timeout: int) -> None:
        waiting.set()
        patched(self, timeout)

    monkeypatch.setattr(Queue, "wait_for_messages", wait_and_say_so)
    got: list[Any] = []

    def long_poll() -> None:
        with moto_backends.MOTO_LOCK:  # as handle_request holds it around every request
            got.extend(sqs.receive_message("door-failures", 10, wait_seconds_timeout=5,
                                           visibility_timeout=30))

    poll = threading.Thread(target=long_poll)
    poll.start()
    waiting.wait()  # the poll found the queue empty and waits
    # Unpatched, this send would wait for the lock until the poll had returned empty-handed.
    with moto_backends.MOTO_LOCK:
        sqs.send_message("door-failures", "a failure record")
    poll.join()
    assert [m.body for m in got] == ["a failure record"]
    assert moto_backends.MOTO_LOCK.acquire(blocking=False), "the poll kept the lock"
    moto_backends.MOTO_LOCK.release()


# ----------------------------------------------------------- what the local cloud keeps in memory


def _restore_loaders_and_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever ``_one_model_loader`` and ``_lab_managed_policies`` change, put back at the end."""
    import botocore.loaders
    import botocore.session
    import moto.core.utils
    import moto.iam.aws_managed_policies as catalogue
    import moto.iam.models as iam_models

    for module in (botocore.loaders, botocore.session, moto.core.utils):
        monkeypatch.setattr(module, "create_loader", module.create_loader)
    for module in (catalogue, iam_models):
        monkeypatch.setattr(module, "aws_managed_policies_data", module.aws_managed_policies_data)
    monkeypatch.setattr(iam_models.IAMBackend, "_init_aws_policies",
                        iam_models.IAMBackend._init_aws_policies)


def test_iam_knows_the_lab_managed_policies_and_drops_the_rest(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import moto.iam.aws_managed_policies as catalogue
    from moto.iam.models import IAMBackend

    _restore_loaders_and_policies(monkeypatch)
    monkeypatch.delenv("MOTO_IAM_LOAD_MANAGED_POLICIES", raising=False)
    assert len(catalogue.aws_managed_policies_data) > 1_000_000  # moto's whole catalogue
    moto_backends._lab_managed_policies()

    iam = IAMBackend(region_name="global", account_id="123456789012")
    names = sorted(p.name for p in iam.managed_policies.values())
    assert names == sorted(moto_backends.LAB_MANAGED_POLICIES)
    arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole"
    document = json.loads(iam.get_policy(arn).versions[0].document)
    assert "kinesis:GetRecords" in document["Statement"][0]["Action"]
    assert len(catalogue.aws_managed_policies_data) < 10_000, "the catalogue is still held"


def test_every_botocore_session_shares_one_parsed_model(monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore.session
    import moto.core.utils

    _restore_loaders_and_policies(monkeypatch)
    moto_backends._one_model_loader()

    first, second = botocore.session.get_session(), botocore.session.get_session()
    loader = first.get_component("data_loader")
    assert second.get_component("data_loader") is loader
    assert moto.core.utils.create_loader() is loader
    assert first.get_service_model("sqs")._service_description is \
        second.get_service_model("sqs")._service_description


# ------------------------------------------------------------- moto's handlers, without Flask

JSON_10, JSON_11 = "application/x-amz-json-1.0", "application/x-amz-json-1.1"
FORM = "application/x-www-form-urlencoded; charset=utf-8"
DIRECT_CASES = [  # (service, content type, X-Amz-Target or None, body)
    ("dynamodb", JSON_10, "DynamoDB_20120810.ListTables", b"{}"),
    ("dynamodb", JSON_10, "DynamoDB_20120810.PutItem",
     b'{"TableName": "door", "Item": {"k": {"S": "a"}, "n": {"N": "1.5"}}}'),
    ("dynamodb", JSON_10, "DynamoDB_20120810.PutItem",
     b'{"TableName": "door", "Item": {"k": {"S": "a"}, "n": {"N": "1.5"}}, '
     b'"ReturnValues": "ALL_OLD", "ReturnConsumedCapacity": "TOTAL"}'),
    ("dynamodb", JSON_10, "DynamoDB_20120810.DescribeTable", b'{"TableName": "nothing"}'),
    ("kinesis", JSON_11, "Kinesis_20131202.ListStreams", b"{}"),
    ("kinesis", JSON_11, "Kinesis_20131202.DescribeStreamSummary", b'{"StreamName": "nothing"}'),
    ("logs", JSON_11, "Logs_20140328.DescribeLogGroups", b"{}"),
    ("sqs", JSON_10, "AmazonSQS.ListQueues", b"{}"),
    ("sts", FORM, None, b"Action=GetCallerIdentity&Version=2011-06-15"),
    ("iam", FORM, None, b"Action=ListRoles&Version=2010-05-08"),
    ("iam", FORM, None, b"Action=GetRole&RoleName=nobody&Version=2010-05-08"),
]


def _moto_environ(service: str, content_type: str, target: str | None, body: bytes,
                  method: str = "POST", path: str = "/") -> dict[str, Any]:
    from werkzeug.test import EnvironBuilder

    headers = {"Content-Type": content_type, "Host": "127.0.0.1:4599",
               # moto reads the region (and nothing else) from the signature's scope.
               "Authorization": f"AWS4-HMAC-SHA256 Credential=LOCALKEY/20260101/{REGION}/"
                                f"{service}/aws4_request, SignedHeaders=host, Signature=00"}
    if target is not None:
        headers["X-Amz-Target"] = target
    builder = EnvironBuilder(method=method, path=path, headers=headers, data=body)
    try:
        return builder.get_environ()
    finally:
        builder.close()


def _comparable(answer: tuple[str, list[tuple[str, str]], bytes]) -> tuple[Any, ...]:
    """An answer without what differs on every call: its request id, and the body's CRC."""
    status, headers, body = answer
    request_id = dict(headers).get("x-amzn-requestid", "")
    kept = [(k, v) for k, v in headers if k not in ("x-amzn-requestid", "x-amz-crc32")]
    return status, kept, body.replace(request_id.encode(), b"ID") if request_id else body


def test_moto_handlers_answer_without_flask_as_through_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import mock_aws

    monkeypatch.delenv("MOTO_ACCOUNT_ID", raising=False)
    with mock_aws():
        backends = moto_backends.MotoBackends()
        through_flask = moto_backends.MotoBackends()
        monkeypatch.setattr(through_flask, "_direct_app", lambda environ, service: None)
        backends.handle_request(_moto_environ(
            "dynamodb", JSON_10, "DynamoDB_20120810.CreateTable",
            b'{"TableName": "door", "BillingMode": "PAY_PER_REQUEST", "AttributeDefinitions": '
            b'[{"AttributeName": "k", "AttributeType": "S"}], "KeySchema": '
            b'[{"AttributeName": "k", "KeyType": "HASH"}]}'), "dynamodb")
        for service, content_type, target, body in DIRECT_CASES:
            direct = backends.handle_request(
                _moto_environ(service, content_type, target, body), service)
            flask = through_flask.handle_request(
                _moto_environ(service, content_type, target, body), service)
            assert _comparable(direct) == _comparable(flask), (service, target, body)
            assert backends._direct[service] is not None, f"{service} went through Flask"
    statuses = {answer[0] for answer in (direct, flask)}
    assert statuses == {"404 NOT FOUND"}  # the last case, an IAM error, reached moto's answer


def test_only_a_post_to_a_services_one_root_route_skips_flask() -> None:
    backends = moto_backends.MotoBackends()
    assert backends._direct_app(_moto_environ(
        "dynamodb", JSON_10, None, b"", method="GET"), "dynamodb") is None
    assert backends._direct_app(_moto_environ(
        "sqs", JSON_10, None, b"", path="/123456789012/queue"), "sqs") is None
    # Lambda's REST API has no route at "/": its requests always go through Flask.
    assert backends._direct_app(_moto_environ(
        "lambda", "application/json", None, b"{}"), "lambda") is None
    assert backends._direct["lambda"] is None
    assert backends._direct_app(_moto_environ(
        "kinesis", JSON_11, "Kinesis_20131202.ListStreams", b"{}"), "kinesis") is not None


def _restore_dispatch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever ``_lighter_dispatch`` changes, put back at the end."""
    import moto.core.responses
    from moto.moto_api._internal.moto_random import MotoRandom

    monkeypatch.setattr(moto.core.responses, "method_names_from_class",
                        moto.core.responses.method_names_from_class)
    monkeypatch.setattr(MotoRandom, "get_random_string", MotoRandom.get_random_string)


def test_lighter_dispatch_keeps_the_action_list_and_the_request_id_shape(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    import moto.core.responses
    from moto.dynamodb.responses import DynamoHandler
    from moto.moto_api._internal import mock_random

    _restore_dispatch(monkeypatch)
    listed = set(moto.core.responses.method_names_from_class(DynamoHandler))
    moto_backends._lighter_dispatch()

    cached = moto.core.responses.method_names_from_class(DynamoHandler)
    assert cached == listed and "put_item" in cached
    assert moto.core.responses.method_names_from_class(DynamoHandler) is cached
    assert re.fullmatch(r"[A-Za-z0-9]{52}", mock_random.get_random_string(length=52))
    assert re.fullmatch(r"[a-z]{20}", mock_random.get_random_string(include_digits=False,
                                                                    lower_case=True))
    assert len({mock_random.get_random_string() for _ in range(50)}) == 50


def test_put_item_answers_are_what_motos_serializer_makes(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    from moto import mock_aws
    from moto.dynamodb.responses import DynamoHandler

    generic = DynamoHandler.serialized
    monkeypatch.setattr(DynamoHandler, "serialized", generic)
    moto_backends._fast_dynamodb_reads()
    fast = DynamoHandler.serialized
    answers: list[tuple[str, str]] = []

    def both(self: Any, action_result: Any) -> Any:
        if self._get_action() == "PutItem":
            answers.append((fast(self, action_result)[2], generic(self, action_result)[2]))
        return fast(self, action_result)

    monkeypatch.setattr(DynamoHandler, "serialized", both)
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(var, "testing")
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        ddb.create_table(TableName="door", BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}])
        item = {"k": {"S": "a"}, "n": {"N": "1.50"}, "ss": {"SS": ["x", "y"]},
                "m": {"M": {"l": {"L": [{"S": "z"}, {"NULL": True}, {"BOOL": False}]}}}}
        ddb.put_item(TableName="door", Item=item)
        ddb.put_item(TableName="door", Item=item, ReturnValues="ALL_OLD")
        ddb.put_item(TableName="door", Item={"k": {"S": "b"}}, ReturnValues="ALL_OLD",
                     ReturnConsumedCapacity="INDEXES")
        ddb.put_item(TableName="door", Item={"k": {"S": "c"}, "b": {"B": b"\x00"}},
                     ReturnConsumedCapacity="TOTAL")
    assert len(answers) == 4
    assert all(json.loads(mine) == json.loads(moto) for mine, moto in answers), answers
    assert "Attributes" in json.loads(answers[1][0])
    assert answers[1][0] != answers[1][1], "moto's own serializer answered, not the fast one"
