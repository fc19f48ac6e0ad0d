"""How fast the local cloud's Kinesis event source mapping delivers, and how soon a window lands.

Throughput: 50,000 records on a one-shard stream, delivered to one function that counts what it
gets and hands its state on, in 100-record batches of a 60 s tumbling window, two ways in the
same run: (a) the client invokes the function directly, one boto3 ``invoke`` per batch of the
very records GetRecords returns (events built before the clock starts, each with the state the
previous answer returned), and (b) an event source mapping (TRIM_HORIZON, BatchSize 100).
``esm_vs_direct_invoke_ratio`` is (b)'s records/s over (a)'s.

Latency: a producer puts 10 records a second into each of 4 shards for ``LATENCY_SECONDS``
one-second windows; on each final invocation the function writes one DynamoDB item and, once
PutItem has returned (the item is readable), notes the time. ``final_latency_s_*`` are from
``window.end`` to that note, over every (shard, window): at least ``MIN_WINDOWS`` of them. The
table is checked for every item after; nothing polls it during the run, which would hold the
local cloud's lock and slow what is measured.

Example
-------
>>> run("http://127.0.0.1:4599")   # doctest: +SKIP
{'esm_records_per_s': 21000.0, 'esm_vs_direct_invoke_ratio': 1.3, ...}
"""

from __future__ import annotations

import base64
import calendar
import json
import os
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from .common import lambda_role, local_client, percentile, progress, zip_source

REGION = "us-east-1"
RECORDS = 50_000
PUT_BATCH = 500
BATCH = 100
LATENCY_SHARDS = 4
LATENCY_SECONDS = 27
MIN_WINDOWS = 100
PRODUCER_RATE = 10  # records a second and shard
FIGURES = ("esm_vs_direct_invoke_ratio", "final_latency_s_p50", "final_latency_s_p99")

COUNTER = '''
import os

def handler(event, context):
    with open(os.environ["COUNT_FILE"], "a") as out:
        out.write(f"{len(event['Records'])}\\n")
    state = event["state"]
    return {"state": {"count": state.get("count", 0) + len(event["Records"])}}
'''

FINAL_WRITER = '''
import os
import time
import boto3

TABLE = boto3.client("dynamodb")

def handler(event, context):
    state = event["state"]
    count = state.get("count", 0) + len(event["Records"])
    if event["isFinalInvokeForWindow"]:
        TABLE.put_item(TableName=os.environ["TABLE_NAME"], Item={
            "name": {"S": event["shardId"]}, "windowStart": {"S": event["window"]["start"]},
            "count": {"N": str(count)}})
        written = time.time()  # PutItem has returned: the item is readable from now on
        with open(os.environ["WRITTEN_FILE"], "a") as out:
            out.write(f"{event['shardId']} {event['window']['end']} {written}\\n")
    return {"state": {"count": count}}
'''



def _function(endpoint: str, source: str, env: dict[str, str]) -> str:
    name = f"bench-esm-{uuid.uuid4().hex[:8]}"
    role = lambda_role(endpoint, "bench-esm")
    local_client("lambda", endpoint).create_function(
        FunctionName=name, Runtime="python3.11", Role=role, Handler="index.handler",
        Code={"ZipFile": zip_source(source)}, Timeout=30, Environment={"Variables": env})
    return name


def _stream(endpoint: str, shards: int = 1) -> tuple[str, str]:
    kinesis = local_client("kinesis", endpoint)
    name = f"bench-esm-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"][
        "StreamARN"]
    return name, arn


def _counted(path: Path) -> int:
    try:
        return sum(int(line) for line in path.read_text().split())
    except (OSError, ValueError):
        return 0


def direct_events(records: list[dict[str, Any]], shard: str, arn: str, role: str,
                  window: tuple[str, str]) -> list[dict[str, Any]]:
    """The mapping's events for ``records`` (GetRecords output), ``BATCH`` records each.

    Example
    -------
    >>> got = [{"SequenceNumber": "1", "PartitionKey": "k", "Data": b"{}",
    ...         "ApproximateArrivalTimestamp": __import__("datetime").datetime(2024, 1, 1)}]
    >>> ev = direct_events(got, "shardId-0", "arn:s", "arn:r", ("a", "b"))[0]
    >>> len(ev["Records"]), ev["Records"][0]["kinesis"]["data"], ev["isFinalInvokeForWindow"]
    (1, 'e30=', False)
    """
    def one(rec: dict[str, Any]) -> dict[str, Any]:
        seq = rec["SequenceNumber"]
        return {"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": rec["PartitionKey"],
                            "sequenceNumber": seq,
                            "data": base64.b64encode(rec["Data"]).decode(),
                            "approximateArrivalTimestamp": round(
                                rec["ApproximateArrivalTimestamp"].timestamp(), 3)},
                "eventSource": "aws:kinesis", "eventVersion": "1.0",
                "eventID": f"{shard}:{seq}", "eventName": "aws:kinesis:record",
                "invokeIdentityArn": role, "awsRegion": REGION, "eventSourceARN": arn}

    return [{"Records": [one(r) for r in records[i:i + BATCH]],
             "window": {"start": window[0], "end": window[1]}, "state": {},
             "shardId": shard, "eventSourceARN": arn, "isFinalInvokeForWindow": False,
             "isWindowTerminatedEarly": False}
            for i in range(0, len(records), BATCH)]


def _read_all(kinesis: Any, stream: str) -> tuple[str, list[dict[str, Any]]]:
    shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records: list[dict[str, Any]] = []
    while len(records) < RECORDS:
        got = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
        records += got["Records"]
        iterator = got["NextShardIterator"]
    return shard, records


def throughput(endpoint: str) -> dict[str, float]:
    """Direct invokes vs. event source mapping, same function, same 50,000 records."""
    kinesis = local_client("kinesis", endpoint)
    stream, arn = _stream(endpoint)
    payload = json.dumps({"Name": "Shadowfax", "Distance": 30.1, "MagicPoints": 150}).encode()
    for start in range(0, RECORDS, PUT_BATCH):
        kinesis.put_records(StreamName=stream, Records=[
            {"Data": payload, "PartitionKey": f"u{i % 7}"} for i in range(start,
                                                                    start + PUT_BATCH)])
    progress(f"bench_esm: {RECORDS} records put")
    shard, records = _read_all(kinesis, stream)
    role = lambda_role(endpoint, "bench-esm")

    with tempfile.TemporaryDirectory(prefix="bench-esm-") as tmp:
        count_file = Path(tmp) / "count.txt"
        function = _function(endpoint, COUNTER, {"COUNT_FILE": str(count_file)})
        lam = local_client("lambda", endpoint)
        _warm(lam, function, count_file)
        now = time.time()
        window = (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now // 60 * 60)),
                  time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now // 60 * 60 + 60)))
        events = direct_events(records, shard, arn, role, window)
        state: dict[str, Any] = {}
        began = time.perf_counter()
        for event in events:
            event["state"] = state  # what the previous answer returned, as the mapping does
            answer = lam.invoke(FunctionName=function, Payload=json.dumps(event).encode())
            state = json.loads(answer["Payload"].read())["state"]
        direct_s = time.perf_counter() - began
        if _counted(count_file) != RECORDS or state.get("count") != RECORDS:
            raise RuntimeError(f"direct invokes counted {_counted(count_file)}, not {RECORDS}")
        count_file.unlink()

        began = time.perf_counter()
        mapping = lam.create_event_source_mapping(
            FunctionName=function, EventSourceArn=arn, StartingPosition="TRIM_HORIZON",
            BatchSize=BATCH, TumblingWindowInSeconds=60)["UUID"]
        try:
            while _counted(count_file) < RECORDS:
                if time.perf_counter() - began > 300:
                    raise TimeoutError("the mapping did not deliver 50,000 records in 300 s")
                time.sleep(0.01)
            esm_s = time.perf_counter() - began
        finally:
            lam.delete_event_source_mapping(UUID=mapping)
    direct_rate = RECORDS / direct_s
    esm_rate = RECORDS / esm_s
    return {"direct_invoke_records_per_s": round(direct_rate, 1),
            "esm_records_per_s": round(esm_rate, 1),
            "esm_vs_direct_invoke_ratio": round(esm_rate / direct_rate, 3)}


def _function(endpoint: str, source: str, env: dict[str, str]) -> str:
    name = f"bench-esm-{uuid.uuid4().hex[:8]}"
    role = lambda_role(endpoint, "bench-esm")
    local_client("lambda", endpoint).create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="index.handler",
        Code={"ZipFile": zip_source(source)}, Timeout=30, Environment={"Variables": env})
    return name


def _warm(lam: Any, function: str, count_file: Path) -> None:
    """Start the function's worker first, so the figure is delivery, not a cold start."""
    event = {"Records": [], "state": {}, "window": {}, "isFinalInvokeForWindow": False}
    lam.invoke(FunctionName=function, Payload=json.dumps(event).encode())
    count_file.unlink(missing_ok=True)


def _shard_hash_keys(kinesis: Any, stream: str) -> list[str]:
    """One explicit hash key inside each shard's range, so the producer feeds every shard."""
    shards = kinesis.list_shards(StreamName=stream)["Shards"]
    return [shard["HashKeyRange"]["StartingHashKey"] for shard in shards]


def _parse_written(path: Path) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        shard, end, written = line.split()
        ended = calendar.timegm(time.strptime(end, "%Y-%m-%dT%H:%M:%SZ"))
        # A retried final writes again; the first write is when the item became readable.
        out[(shard, end)] = min(out.get((shard, end), float("inf")), float(written) - ended)
    return out


def final_latency(endpoint: str) -> dict[str, Any]:
    """window.end -> item readable, over every (shard, one-second window) of the run."""
    ddb = local_client("dynamodb", endpoint)
    table = f"bench-esm-{uuid.uuid4().hex[:8]}"
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "name", "AttributeType": "S"},
                                           {"AttributeName": "windowStart",
                                            "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "name", "KeyType": "HASH"},
                                {"AttributeName": "windowStart", "KeyType": "RANGE"}])
    stream, arn = _stream(endpoint, LATENCY_SHARDS)
    hash_keys = _shard_hash_keys(local_client("kinesis", endpoint), stream)
    with tempfile.TemporaryDirectory(prefix="bench-esm-") as tmp:
        written_file = Path(tmp) / "written.txt"
        function = _function(endpoint, FINAL_WRITER, {"TABLE_NAME": table,
                                                      "WRITTEN_FILE": str(written_file)})
        lam = local_client("lambda", endpoint)
        mapping = lam.create_event_source_mapping(
            FunctionName=function, EventSourceArn=arn, StartingPosition="LATEST",
            BatchSize=BATCH, TumblingWindowInSeconds=1)["UUID"]
        stop = threading.Event()

        def produce() -> None:
            kinesis = local_client("kinesis", endpoint)
            while not stop.is_set():
                kinesis.put_records(StreamName=stream, Records=[
                    {"Data": b'{"Distance": 30}', "PartitionKey": "b", "ExplicitHashKey": key}
                    for key in hash_keys])
                stop.wait(1.0 / PRODUCER_RATE)

        time.sleep(1.0)  # let the mapping start before the first measured window
        first = int(time.time()) + 1
        while time.time() < first:
            time.sleep(0.002)
        producer = threading.Thread(target=produce, name="bench-producer", daemon=True)
        producer.start()
        try:
            time.sleep(first + LATENCY_SECONDS - time.time())
            stop.set()
            producer.join(2)
            last_end = int(time.time()) + 1  # the window the producer stopped in
            deadline = time.time() + 15
            expected = {(key, end) for key in _shards(local_client("kinesis", endpoint), stream)
                        for end in range(first + 1, last_end + 1)}
            while len(_parse_written(written_file)) < len(expected) and time.time() < deadline:
                time.sleep(0.2)
        finally:
            stop.set()
            lam.delete_event_source_mapping(UUID=mapping)
        written = _parse_written(written_file)
    items = ddb.scan(TableName=table, Select="COUNT")["Count"]
    latencies = sorted(written.values())
    if len(latencies) < MIN_WINDOWS or items < len(latencies):
        raise RuntimeError(f"only {len(latencies)} windows noted and {items} items written; "
                           f"at least {MIN_WINDOWS} are needed")
    return {"final_latency_s_p50": round(statistics.median(latencies), 3),
            "final_latency_s_p99": round(percentile(latencies, 0.99), 3),
            "final_latency_s_max": round(latencies[-1], 3),
            "final_latency_windows": len(latencies)}


def _shards(kinesis: Any, stream: str) -> list[str]:
    return [shard["ShardId"] for shard in kinesis.list_shards(StreamName=stream)["Shards"]]


def run(endpoint: str) -> dict[str, Any]:
    """Both measurements.

    Example
    -------
    >>> run("http://127.0.0.1:4599")["esm_vs_direct_invoke_ratio"] >= 0.9   # doctest: +SKIP
    True
    """
    figures: dict[str, Any] = {}
    figures.update(throughput(endpoint))
    progress(f"bench_esm: throughput {figures}")
    figures.update(final_latency(endpoint))
    return figures


if __name__ == "__main__":
    from wildrydes_helpers.local import process as local_cloud

    from .common import private_config

    with private_config() as cfg:
        os.environ.pop("AWS_ENDPOINT_URL", None)
        try:
            print(json.dumps(run(local_cloud.start(cfg))))
        finally:
            local_cloud.stop(cfg)
