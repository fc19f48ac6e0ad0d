"""The local cloud's one door to moto: its backends, its lock and the patches it needs.

No other module of the local cloud imports moto or touches its internals. The runtime and
the event source mappings reach moto only through a ``MotoBackends`` (``cloud.backends``),
whose methods take and give plain values and raise this module's exceptions, never moto's;
a test can hand them a fake with the same methods.

moto is a test double; the local cloud is a teaching cloud. ``apply_patches`` closes the
gaps listed in docs/moto.md (the traps of moto 5.2.5). moto takes about a second to
import, so it is imported on first use: the CLI and the notebooks never load it.

Example
-------
>>> backends = MotoBackends()
>>> backends.account_id
'123456789012'
"""

from __future__ import annotations

import bisect
import functools
import importlib
import json
import logging
import os
import re
import string
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, NamedTuple

from ..config import LOCAL_ACCOUNT_ID
from .sequence_numbers import first_sequence_number

# moto's backends are plain dicts and OrderedDicts, and moto's Kinesis shard says outright
# that put_record "is not safe for concurrency": two PutRecord calls at once can get the same
# sequence number and one record overwrites the other. Every request that reaches moto, and
# every direct read of a backend by the local cloud, holds this lock.
MOTO_LOCK = threading.RLock()

WsgiApp = Callable[..., Iterable[bytes]]


# Where moto keeps the backends of each regional service the local cloud serves.
_REGIONAL_BACKENDS: dict[str, tuple[str, str]] = {
    "dynamodb": ("moto.dynamodb.models", "dynamodb_backends"),
    "kinesis": ("moto.kinesis.models", "kinesis_backends"),
    "lambda": ("moto.awslambda.models", "lambda_backends"),
    "logs": ("moto.logs.models", "logs_backends"),
    "sqs": ("moto.sqs.models", "sqs_backends"),
    "sns": ("moto.sns.models", "sns_backends"),
}


@functools.lru_cache(maxsize=1)
def known_regions() -> frozenset[str]:
    """Every region of every AWS partition, from botocore's endpoint data.

    Example
    -------
    >>> "us-east-1" in known_regions(), ".." in known_regions()
    (True, False)
    """
    # botocore (not moto) is enough here: the CLI can call this without loading moto.
    import botocore.loaders

    data = botocore.loaders.create_loader().load_data("endpoints")
    return frozenset(region for partition in data.get("partitions", [])
                     for region in partition.get("regions", {}))


class FunctionNotFound(LookupError):
    """No function of that name (or qualifier) in that region; str() is AWS's message."""


class InvalidFunctionReference(ValueError):
    """The function is named in a way Lambda rejects (a bad qualifier, say)."""


class StreamNotFound(LookupError):
    """No Kinesis stream with that ARN in that region."""


@dataclass(frozen=True)
class FunctionSpec:
    """What a worker is built from: a snapshot of one function version's code and settings.

    Two specs compare equal when a worker built for one can serve the other (same code and
    configuration); ``code`` itself is compared through its SHA-256.

    Example
    -------
    >>> spec = FunctionSpec("us-east-1", "fn", "$LATEST", "arn:...:fn", "index.handler",
    ...                     "python3.12", 3, 128, "arn:...:role/r", (), "abc=", "Zip", b"")
    >>> spec.log_group
    '/aws/lambda/fn'
    """

    region: str
    name: str
    version: str
    arn: str
    handler: str
    run_time: str
    timeout: float
    memory_size: int
    role: str
    environment: tuple[tuple[str, str], ...]
    code_sha: str
    package_type: str
    code: bytes = field(compare=False, repr=False)
    # PutFunctionConcurrency's value (None: not set); read by the runtime's throttle.
    reserved_concurrency: int | None = field(default=None, compare=False)

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.name}"

    @property
    def key(self) -> tuple[str, str, str]:
        return self.region, self.name, self.version


class ShardRecord(NamedTuple):
    """One record as Kinesis stored it; ``created_at`` is its arrival, epoch seconds."""

    sequence_number: int
    partition_key: str
    data: str  # base64
    created_at: float


@dataclass
class ShardCursor:
    """How far a reader got in one shard: ``count`` records, the last one ``last_seq``."""

    count: int = 0
    last_seq: int | None = None
    records_ref: Any = field(default=None, repr=False)  # the records the count refers to


class MotoBackends:
    """moto's backends of one account, behind methods that speak the local cloud's terms.

    Every method holds ``MOTO_LOCK`` while it touches moto. Region arguments come first.

    Example
    -------
    >>> MotoBackends().function_spec("us-east-1", "fn")  # doctest: +SKIP
    FunctionSpec(region='us-east-1', name='fn', ...)
    """

    def __init__(self, account_id: str = LOCAL_ACCOUNT_ID) -> None:
        self.account_id = account_id
        self._dispatcher: Any = None
        self._apps: dict[str, WsgiApp] = {}
        self._direct: dict[str, WsgiApp | None] = {}

    @property
    def lock(self) -> threading.RLock:
        """The lock every touch of moto holds; hold it to make several calls one step."""
        return MOTO_LOCK

    # ---- moto's own HTTP API

    def handle_request(self, environ: dict[str, Any],
                       service: str | None) -> tuple[str, list[tuple[str, str]], bytes]:
        """Answer one HTTP request with moto's own API: (status line, headers, body).

        Example
        -------
        >>> MotoBackends().handle_request(environ, "kinesis")[0]  # doctest: +SKIP
        '200 OK'
        """
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return lambda _data: None

        with MOTO_LOCK:
            app = self._direct_app(environ, service) or self._backend_app(environ, service)
            result = app(environ, capture)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        return captured["status"], captured["headers"], body

    def _backend_app(self, environ: dict[str, Any], service: str | None) -> WsgiApp:
        # moto's dispatcher works out the backend of every request from its Host header,
        # listing moto's modules each time (about a tenth of the server's time under load).
        # A signed request names its service, which always maps to the same backend app.
        app = self._apps.get(service) if service else None
        if app is not None:
            return app
        if self._dispatcher is None:
            # moto is heavy to import: loaded by the local cloud's own process only.
            from moto.moto_server import werkzeug_app

            # moto's server answers every Origin with CORS headers: a web page could then
            # read the local cloud's answers. The local cloud sends none (router.py).
            werkzeug_app.DISABLE_GLOBAL_CORS = True
            self._dispatcher = werkzeug_app.DomainDispatcherApplication(
                werkzeug_app.create_backend_app)
        if service is None:
            return self._dispatcher
        app = self._apps[service] = self._dispatcher.get_application(environ)
        return app

    def _direct_app(self, environ: dict[str, Any], service: str | None) -> WsgiApp | None:
        # moto's Flask app around a service's handler costs a PutItem a sixth of its time in
        # Flask's routing, request context and debug helpers. A POST to "/" of a service
        # with one route there (the JSON and query services) goes to that handler directly.
        if service is None or environ.get("PATH_INFO") != "/" \
                or environ.get("REQUEST_METHOD") != "POST":
            return None
        if service not in self._direct:
            flask_app: Any = self._backend_app(environ, service)
            views = [flask_app.view_functions[rule.endpoint]
                     for rule in flask_app.url_map.iter_rules() if rule.rule == "/"]
            handler = getattr(views[0], "callback", None) if len(views) == 1 else None
            self._direct[service] = None if handler is None else _handler_app(handler)
        return self._direct[service]

    def region_served(self, service: str, region: str) -> bool:
        """True when ``region`` is one of AWS's regions and moto serves ``service`` there.

        Example
        -------
        >>> MotoBackends().region_served("dynamodb", "..")
        False
        >>> MotoBackends().region_served("iam", "eu-west-1")
        True
        """
        if region not in known_regions():
            return False
        located = _REGIONAL_BACKENDS.get(service)
        if located is None:
            return True  # IAM and STS: global, any region's endpoint answers
        module, name = located
        # moto is heavy to import: loaded by the local cloud's own process only.
        backends = getattr(importlib.import_module(module), name)
        with MOTO_LOCK:
            return region in backends[self.account_id]

    # ---- Lambda

    def function_spec(self, region: str, function: str,
                      qualifier: str | None = None) -> FunctionSpec:
        """A snapshot of a function's code and configuration (name or ARN, maybe qualified).

        Raises FunctionNotFound or InvalidFunctionReference, with AWS's message.

        Example
        -------
        >>> MotoBackends().function_spec("us-east-1", "fn").handler  # doctest: +SKIP
        'index.handler'
        """
        # moto is heavy to import: loaded by the local cloud's own process only.
        from moto.awslambda.exceptions import LambdaClientError, UnknownFunctionException
        from moto.awslambda.models import lambda_backends

        with MOTO_LOCK:
            try:
                fn = lambda_backends[self.account_id][region].get_function(function, qualifier)
            except UnknownFunctionException as exc:
                raise FunctionNotFound(exc.message) from None
            except LambdaClientError as exc:
                raise InvalidFunctionReference(exc.message) from None
            return FunctionSpec(
                region=region, name=fn.function_name, version=str(fn.version),
                arn=fn.function_arn, handler=fn.handler or "", run_time=fn.run_time or "",
                timeout=float(fn.timeout), memory_size=int(fn.memory_size), role=fn.role,
                environment=tuple(sorted((str(k), str(v))
                                         for k, v in (fn.environment_vars or {}).items())),
                code_sha=fn.code_sha_256 or "", package_type=fn.package_type or "Zip",
                code=fn.code_bytes or b"",
                reserved_concurrency=(None if fn.reserved_concurrency is None
                                      else int(fn.reserved_concurrency)),
            )

    # ---- Kinesis

    def _streams(self, region: str) -> dict[str, Any]:
        # moto is heavy to import: loaded by the local cloud's own process only.
        from moto.kinesis.models import kinesis_backends

        return kinesis_backends[self.account_id][region].streams

    def shard_ids(self, region: str, stream_name: str) -> list[str]:
        """The ids of a stream's shards, [] when there is no such stream.

        Example
        -------
        >>> MotoBackends().shard_ids("us-east-1", "wildrydes")  # doctest: +SKIP
        ['shardId-000000000000']
        """
        with MOTO_LOCK:
            stream = self._streams(region).get(stream_name)
            return list(stream.shards) if stream is not None else []

    def starting_cursors(self, region: str, stream_arn: str, position: str,
                         timestamp: float | None = None) -> dict[str, ShardCursor]:
        """A cursor per shard at ``position`` (LATEST, TRIM_HORIZON or AT_TIMESTAMP).

        Raises StreamNotFound when the region has no stream with that ARN.

        Example
        -------
        >>> MotoBackends().starting_cursors("us-east-1", arn, "LATEST")  # doctest: +SKIP
        {'shardId-000000000000': ShardCursor(count=0, last_seq=None)}
        """
        with MOTO_LOCK:
            streams = self._streams(region)
            stream = next((s for s in streams.values() if s.arn == stream_arn), None)
            if stream is None:
                raise StreamNotFound(stream_arn)
            cursors: dict[str, ShardCursor] = {}
            for shard_id, shard in stream.shards.items():
                records = shard.records
                if position == "LATEST":
                    count = len(records)
                elif position == "TRIM_HORIZON":
                    count = 0
                else:
                    count = sum(1 for r in records.values() if r.created_at < (timestamp or 0))
                last = next(islice(records.keys(), count - 1, None)) if count else None
                cursors[shard_id] = ShardCursor(count, last, records)
            return cursors

    def read_shard(self, region: str, stream_name: str, shard_id: str, cursor: ShardCursor,
                   limit: int) -> tuple[list[ShardRecord], bool]:
        """Up to ``limit`` records after ``cursor`` (which moves past them), and whether
        the read reached the shard's end (False when the shard is gone).

        Example
        -------
        >>> MotoBackends().read_shard("us-east-1", "s", "shardId-000000000000",
        ...                           ShardCursor(), 10_000)  # doctest: +SKIP
        ([ShardRecord(sequence_number=1, ...)], True)
        """
        with MOTO_LOCK:
            stream = self._streams(region).get(stream_name)
            found = stream.shards.get(shard_id) if stream is not None else None
            if found is None:
                return [], False
            records = found.records
            if records is not cursor.records_ref or len(records) < cursor.count:
                # Resharding replaces a shard's records: find our place again by number.
                keys = list(records.keys())
                cursor.count = (0 if cursor.last_seq is None
                                else bisect.bisect_right(keys, cursor.last_seq))
                cursor.records_ref = records
            new = len(records) - cursor.count
            take = min(new, limit)
            if not take:
                return [], True
            raw = list(islice(reversed(records.values()), new - take, new))
            raw.reverse()
            cursor.count += take
            cursor.last_seq = raw[-1].sequence_number
            return ([ShardRecord(r.sequence_number, r.partition_key, r.data, r.created_at)
                     for r in raw], take == new)

    # ---- CloudWatch Logs

    def _logs(self, region: str) -> Any:
        # moto is heavy to import: loaded by the local cloud's own process only.
        from moto.logs.models import logs_backends

        return logs_backends[self.account_id][region]

    def ensure_log_stream(self, region: str, group: str, stream: str) -> None:
        """Create the log group and the stream in it unless they exist.

        Example
        -------
        >>> MotoBackends().ensure_log_stream("us-east-1", "/aws/lambda/fn", "s")  # doctest: +SKIP
        """
        with MOTO_LOCK:
            backend = self._logs(region)
            backend.ensure_log_group(group)
            backend.ensure_log_stream(group, stream)

    def put_log_events(self, region: str, group: str, stream: str,
                       events: list[dict[str, Any]]) -> None:
        """Append ``events`` (``timestamp``, ``message``, in order) to a log stream; a group
        or stream deleted in the meantime is created again.

        Example
        -------
        >>> MotoBackends().put_log_events("us-east-1", "/aws/lambda/fn", "s",
        ...     [{"timestamp": 1, "message": "hi"}])  # doctest: +SKIP
        """
        # moto is heavy to import: loaded by the local cloud's own process only.
        from moto.logs.exceptions import ResourceNotFoundException

        with MOTO_LOCK:
            backend = self._logs(region)
            try:
                backend.put_log_events(group, stream, events)
            except ResourceNotFoundException:  # the student deleted the log group
                backend.ensure_log_group(group)
                backend.ensure_log_stream(group, stream)
                backend.put_log_events(group, stream, events)

    # ---- SQS and SNS

    def _sqs(self, region: str) -> Any:
        # moto is heavy to import: loaded by the local cloud's own process only.
        from moto.sqs.models import sqs_backends

        return sqs_backends[self.account_id][region]

    def _sns(self, region: str) -> Any:
        # moto is heavy to import: loaded by the local cloud's own process only.
        from moto.sns.models import sns_backends

        return sns_backends[self.account_id][region]

    def queue_exists(self, region: str, name: str) -> bool:
        """True when the region has an SQS queue of that name.

        Example
        -------
        >>> MotoBackends().queue_exists("us-east-1", "failures")  # doctest: +SKIP
        True
        """
        if not self.region_served("sqs", region):
            return False
        with MOTO_LOCK:
            return name in self._sqs(region).queues

    def topic_exists(self, region: str, arn: str) -> bool:
        """True when the region has an SNS topic with that ARN.

        Example
        -------
        >>> MotoBackends().topic_exists("us-east-1", topic_arn)  # doctest: +SKIP
        False
        """
        if not self.region_served("sns", region):
            return False
        with MOTO_LOCK:
            return arn in self._sns(region).topics

    def send_to_queue(self, region: str, name: str, body: str) -> None:
        """Put one message on an SQS queue.

        Example
        -------
        >>> MotoBackends().send_to_queue("us-east-1", "failures", "{}")  # doctest: +SKIP
        """
        with MOTO_LOCK:
            self._sqs(region).send_message(name, body)

    def publish(self, region: str, topic_arn: str, body: str) -> None:
        """Publish one message to an SNS topic.

        Example
        -------
        >>> MotoBackends().publish("us-east-1", topic_arn, "{}")  # doctest: +SKIP
        """
        with MOTO_LOCK:
            self._sns(region).publish(body, arn=topic_arn)


def _handler_app(handler: Callable[..., Any]) -> WsgiApp:
    """A WSGI app calling one of moto's handlers as its Flask view would, without Flask.

    What moto.core.utils.convert_to_flask_response does, with the request class moto's
    server gives Flask (werkzeug's server adds the Date header, so moto adds none).
    """
    # moto is heavy to import: loaded by the local cloud's own process only.
    from botocore.exceptions import ClientError
    from flask import Response
    from moto.core.request import Request
    from moto.moto_api import recorder
    from werkzeug.exceptions import HTTPException

    class ServerRequest(Request):
        from_wsgi_server = True

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = ServerRequest(environ)
        recorder._record_request(request)
        try:
            result = handler(request, request.raw_url, dict(request.headers))
        except ClientError as exc:
            result = 400, {}, exc.response["Error"]["Message"]
        except HTTPException as exc:  # Flask answers with the exception itself
            return exc(environ, start_response)
        status, headers, content = result if len(result) == 3 else (200, {}, result)
        return Response(response=content, status=status, headers=headers)(environ,
                                                                          start_response)

    return app


_applied = False


def apply_patches() -> None:
    """Change moto's behaviour where the local cloud needs it; safe to call more than once.

    Example
    -------
    >>> apply_patches()  # doctest: +SKIP
    """
    global _applied
    if _applied:
        return
    os.environ.setdefault("MOTO_ACCOUNT_ID", LOCAL_ACCOUNT_ID)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # moto is heavy to import: loaded by the local cloud's own process only.
    from moto.awslambda.models import LambdaBackend

    LambdaBackend.send_kinesis_message = _no_per_record_trigger  # type: ignore[method-assign]
    _lab_managed_policies()
    _one_model_loader()
    _aws_sequence_numbers()
    _fast_dynamodb_reads()
    _long_polls_wait_unlocked()
    _lighter_dispatch()
    _applied = True


def _no_per_record_trigger(self: Any, *args: Any, **kwargs: Any) -> None:
    # moto would invoke the function once per PutRecord through Docker; the local
    # cloud's own event source mappings (esm/) deliver the stream instead.
    return None


# The AWS managed policies the local cloud's IAM knows: the one the lab attaches and the other
# Lambda execution roles a student may try. moto knows about 1,400; parsed, they held 20 MB of
# the local cloud's memory (docs/moto.md, trap 2).
LAB_MANAGED_POLICIES = (
    "AWSLambdaKinesisExecutionRole",
    "AWSLambdaBasicExecutionRole",
    "AWSLambdaDynamoDBExecutionRole",
    "AWSLambdaSQSQueueExecutionRole",
)


def managed_policies_data(text: str, names: Iterable[str]) -> dict[str, Any]:
    """The entries ``names`` of moto's managed-policy JSON ``text``, without parsing the rest.

    Example
    -------
    >>> managed_policies_data('{"A": {"Path": "/"}, "B": {"Path": "/x/"}}', ["B", "C"])
    {'B': {'Path': '/x/'}}
    """
    decoder = json.JSONDecoder()
    found: dict[str, Any] = {}
    for name in names:
        entry = re.search(re.escape(json.dumps(name)) + r"\s*:\s*", text)
        if entry is not None:
            found[name] = decoder.raw_decode(text, entry.end())[0]
    return found


def _lab_managed_policies() -> None:
    """Give moto's IAM the AWS managed policies of ``LAB_MANAGED_POLICIES`` only.

    ``MOTO_IAM_LOAD_MANAGED_POLICIES=true`` would parse all of them into every IAM backend;
    the 4.7 MB of JSON they come from is dropped once the lab's few are read out of it.
    """
    # moto is heavy to import: loaded by the local cloud's own process only.
    import moto.iam.aws_managed_policies as catalogue
    import moto.iam.models as iam_models

    kept = managed_policies_data(catalogue.aws_managed_policies_data, LAB_MANAGED_POLICIES)
    catalogue.aws_managed_policies_data = iam_models.aws_managed_policies_data = json.dumps(kept)

    def lab_policies(self: Any) -> list[Any]:
        return [iam_models.AWSManagedPolicy.from_data(name, self.account_id, self.region_name,
                                                      data) for name, data in kept.items()]

    iam_models.IAMBackend._init_aws_policies = lab_policies  # type: ignore[method-assign]


def _one_model_loader() -> None:
    """One botocore data loader for the whole process, so each API description is parsed once.

    moto's parser, moto's region list (a boto3 session of its own) and ``request_checks``
    each made a loader, and each kept its own parsed copy of every service's model: about
    16 MB of the local cloud's memory once the lab's six services had answered. moto's
    loader (botocore's, plus moto's extra error shapes) serves all three: the region list
    and the request checks read only names from it.
    """
    # moto is heavy to import: loaded by the local cloud's own process only.
    import botocore.loaders
    import botocore.session
    import moto.core.loaders
    import moto.core.utils

    shared = moto.core.loaders.create_loader()

    def create_loader(search_path_string: str | None = None) -> Any:
        return shared

    botocore.loaders.create_loader = create_loader
    botocore.session.create_loader = create_loader  # type: ignore[attr-defined]
    moto.core.utils.create_loader = create_loader  # type: ignore[attr-defined]


def _aws_sequence_numbers() -> None:
    """Number Kinesis records as sequence_numbers.py lays out, not moto's 1, 2, 3, ...

    moto's numbers are bare counters: "10" sorts before "9" as a string, where AWS's
    56-digit numbers sort right either way. moto keeps the numbers as ints (the keys of a
    shard's ``records``) and parses iterators with ``int()``, so GetRecords and the
    AT/AFTER_SEQUENCE_NUMBER, LATEST and AT_TIMESTAMP iterators work unchanged on them.
    """
    # moto is heavy to import: loaded by the local cloud's own process only.
    from moto.core.utils import unix_time
    from moto.kinesis.models import Record, Shard

    def put_record(self: Any, partition_key: str, data: str, explicit_hash_key: str) -> str:
        # The caller holds MOTO_LOCK (moto's own note: not safe for concurrency).
        last = next(reversed(self.records), None)  # O(1); moto lists every key
        number = first_sequence_number(self._shard_id) if last is None else last + 1
        record = Record(partition_key, data, number, explicit_hash_key)
        # Arrival times have millisecond precision, as AWS's: GetRecords (whose serializer
        # cuts to the ms) and the mapping's events (rule 2) then name the same instant, so a
        # record never falls in one window for the function and another for a reader.
        arrived = record.created_at_datetime
        record.created_at_datetime = arrived.replace(microsecond=arrived.microsecond // 1000 * 1000)
        record.created_at = unix_time(record.created_at_datetime)
        self.records[number] = record
        return str(number)

    def get_min_sequence_number(self: Any) -> int:
        # An empty shard's StartingSequenceNumber: the number its first record will get,
        # 56 digits like AWS's, rather than moto's "0".
        return next(iter(self.records), first_sequence_number(self._shard_id))

    def get_max_sequence_number(self: Any) -> int:
        # 0 for an empty shard, as moto: a LATEST iterator then returns every new record.
        return next(reversed(self.records), 0)

    Shard.put_record = put_record  # type: ignore[method-assign]
    Shard.get_min_sequence_number = get_min_sequence_number  # type: ignore[method-assign]
    Shard.get_max_sequence_number = get_max_sequence_number  # type: ignore[method-assign]


# Read results that are already plain DynamoDB JSON (moto's DynamoResult) and can be sent as
# they are. moto's generic response serializer walks the API model for every attribute of
# every item (about 0.9 ms an item): a Scan of 600 items held the local cloud for 0.4 s.
# PutItem's result holds only Attributes and ConsumedCapacity, both in its API shape; the
# serializer took 40 us of a PutItem's 600. (DeleteItem's is not: moto adds a key the API
# lacks.)
_FAST_READS = frozenset({"Scan", "Query", "GetItem", "PutItem"})


def _fast_dynamodb_reads() -> None:
    # moto is heavy to import: loaded by the local cloud's own process only.
    from moto.dynamodb.responses import DynamoHandler, DynamoResult

    generic = DynamoHandler.serialized

    def serialized(self: Any, action_result: Any) -> Any:
        if isinstance(action_result, DynamoResult) and self._get_action() in _FAST_READS:
            try:
                body = json.dumps(action_result.result, separators=(",", ":"))
            except (TypeError, ValueError):
                return generic(self, action_result)
            headers = {"Content-Type": "application/x-amz-json-1.0", **self.response_headers}
            return 200, headers, body
        return generic(self, action_result)

    DynamoHandler.serialized = serialized  # type: ignore[method-assign]


def release_fully(lock: threading.RLock) -> int:
    """Release every hold this thread has on ``lock``; return how many there were.

    Example
    -------
    >>> lock = threading.RLock()
    >>> with lock, lock:
    ...     held = release_fully(lock)
    ...     free = lock.acquire(blocking=False)
    ...     lock.release()
    ...     for _ in range(held):
    ...         _ = lock.acquire()
    >>> held, free
    (2, True)
    """
    held = 0
    while True:
        try:
            lock.release()
        except RuntimeError:  # no hold left (or never held by this thread)
            return held
        held += 1


def _long_polls_wait_unlocked() -> None:
    """A long-polling ReceiveMessage waits for a message without holding ``MOTO_LOCK``.

    moto's ``receive_message`` sleeps on the queue until a message comes or
    ``WaitTimeSeconds`` runs out, and ``handle_request`` holds ``MOTO_LOCK`` throughout: for
    that long no other request, mapping read, failure record or function log could reach moto,
    so the message the poll waited for could not even be sent. SQS's long poll returns as
    soon as a message is there and holds up no one else.
    """
    # moto is heavy to import: loaded by the local cloud's own process only.
    from moto.sqs.models import Queue

    def wait_for_messages(self: Any, timeout: int) -> None:
        # moto calls this between two looks at the queue; it looks again under the lock.
        held = release_fully(MOTO_LOCK)
        try:
            with self._messages_lock:
                self._messages_lock.wait_for(lambda: self.messages, timeout=timeout)
        finally:
            for _ in range(held):
                MOTO_LOCK.acquire()

    Queue.wait_for_messages = wait_for_messages  # type: ignore[method-assign]


def _lighter_dispatch() -> None:
    """Two costs moto's request handling pays on every request, paid once instead.

    - ``call_action`` lists the handler class's methods (``inspect.getmembers``, a tenth of a
      PutItem) to check the action is one of them: a class's methods do not change while
      the local cloud runs.
    - Every answer's request id is 52 ``random.choice`` calls; ``random.choices`` draws the
      same kind of string in one.
    """
    # moto is heavy to import: loaded by the local cloud's own process only.
    import moto.core.responses
    from moto.moto_api._internal.moto_random import MotoRandom

    listed = moto.core.responses.method_names_from_class

    @functools.cache
    def method_names_from_class(clazz: object) -> frozenset[str]:
        return frozenset(listed(clazz))

    def get_random_string(self: Any, length: int = 20, include_digits: bool = True,
                          lower_case: bool = False) -> str:
        pool = string.ascii_letters + (string.digits if include_digits else "")
        drawn = "".join(self.choices(pool, k=length))
        return drawn.lower() if lower_case else drawn

    moto.core.responses.method_names_from_class = method_names_from_class  # type: ignore
    MotoRandom.get_random_string = get_random_string  # type: ignore[method-assign]
