"""How fast the local cloud's Kinesis event source mapping delivers, and how soon a window lands.

Throughput: 50,000 records on a one-shard stream, read (a) by a bare boto3 GetRecords loop
and (b) by an event source mapping (TRIM_HORIZON, BatchSize 100, 60 s tumbling window) into
a function that counts what it gets. ``esm_vs_getrecords_ratio`` is (b)'s rate over (a)'s.

Latency: a producer puts 10 records a second for 22 one-second windows; the function writes
one DynamoDB item on each final invocation. ``final_latency_s_*`` is the time from
``window.end`` until that item can be read.

Example
-------
>>> run("http://127.0.0.1:4599")   # doctest: +SKIP
{'esm_records_per_s': 21000.0, 'esm_vs_getrecords_ratio': 1.3, ...}
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from .common import lambda_role, local_client, progress, zip_source

REGION = "us-east-1"
RECORDS = 50_000
PUT_BATCH = 500
LATENCY_WINDOWS = 22
PRODUCER_RATE = 10  # records a second
TARGETS = {"esm_vs_getrecords_ratio": 0.8, "final_latency_s_p50": 1.0,
           "final_latency_s_p99": 2.0}
HIGHER_IS_BETTER = {"esm_vs_getrecords_ratio"}

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
import boto3

TABLE = boto3.client("dynamodb")

def handler(event, context):
    state = event["state"]
    count = state.get("count", 0) + len(event["Records"])
    if event["isFinalInvokeForWindow"]:
        TABLE.put_item(TableName=os.environ["TABLE_NAME"], Item={
            "name": {"S": "bench"}, "windowStart": {"S": event["window"]["start"]},
            "count": {"N": str(count)}})
    return {"state": {"count": count}}
'''



def _function(endpoint: str, source: str, env: dict[str, str]) -> str:
    name = f"bench-esm-{uuid.uuid4().hex[:8]}"
    role = lambda_role(endpoint, "bench-esm")
    local_client("lambda", endpoint).create_function(
        FunctionName=name, Runtime="python3.11", Role=role, Handler="index.handler",
        Code={"ZipFile": zip_source(source)}, Timeout=30, Environment={"Variables": env})
    return name


def _stream(endpoint: str) -> tuple[str, str]:
    kinesis = local_client("kinesis", endpoint)
    name = f"bench-esm-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=name, ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"][
        "StreamARN"]
    return name, arn


def _counted(path: Path) -> int:
    try:
        return sum(int(line) for line in path.read_text().split())
    except (OSError, ValueError):
        return 0


def throughput(endpoint: str) -> dict[str, float]:
    """GetRecords loop vs. event source mapping on the same 50,000 records."""
    kinesis = local_client("kinesis", endpoint)
    stream, arn = _stream(endpoint)
    payload = json.dumps({"Name": "Shadowfax", "Distance": 30.1, "MagicPoints": 150}).encode()
    for start in range(0, RECORDS, PUT_BATCH):
        kinesis.put_records(StreamName=stream, Records=[
            {"Data": payload, "PartitionKey": f"u{i % 7}"} for i in range(start,
                                                                    start + PUT_BATCH)])
    progress(f"bench_esm: {RECORDS} records put")
    shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    began = time.perf_counter()
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    read = 0
    while read < RECORDS:
        got = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
        read += len(got["Records"])
        iterator = got["NextShardIterator"]
    getrecords_s = time.perf_counter() - began

    with tempfile.TemporaryDirectory(prefix="bench-esm-") as tmp:
        count_file = Path(tmp) / "count.txt"
        function = _function(endpoint, COUNTER, {"COUNT_FILE": str(count_file)})
        lam = local_client("lambda", endpoint)
        _warm(lam, function, count_file)
        began = time.perf_counter()
        mapping = lam.create_event_source_mapping(
            FunctionName=function, EventSourceArn=arn, StartingPosition="TRIM_HORIZON",
            BatchSize=100, TumblingWindowInSeconds=60)["UUID"]
        try:
            while _counted(count_file) < RECORDS:
                if time.perf_counter() - began > 300:
                    raise TimeoutError("the mapping did not deliver 50,000 records in 300 s")
                time.sleep(0.01)
            esm_s = time.perf_counter() - began
        finally:
            lam.delete_event_source_mapping(UUID=mapping)
    getrecords_rate = RECORDS / getrecords_s
    esm_rate = RECORDS / esm_s
    return {"getrecords_records_per_s": round(getrecords_rate, 1),
            "esm_records_per_s": round(esm_rate, 1),
            "esm_vs_getrecords_ratio": round(esm_rate / getrecords_rate, 3)}


def _warm(lam: Any, function: str, count_file: Path) -> None:
    """Start the function's worker first, so the figure is delivery, not a cold start."""
    event = {"Records": [], "state": {}, "window": {}, "isFinalInvokeForWindow": False}
    lam.invoke(FunctionName=function, Payload=json.dumps(event).encode())
    count_file.unlink(missing_ok=True)


def final_latency(endpoint: str) -> dict[str, float]:
    """window.end -> DynamoDB item readable, over ``LATENCY_WINDOWS`` one-second windows."""
    ddb = local_client("dynamodb", endpoint)
    table = f"bench-esm-{uuid.uuid4().hex[:8]}"
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "name", "AttributeType": "S"},
                                           {"AttributeName": "windowStart",
                                            "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "name", "KeyType": "HASH"},
                                {"AttributeName": "windowStart", "KeyType": "RANGE"}])
    stream, arn = _stream(endpoint)
    function = _function(endpoint, FINAL_WRITER, {"TABLE_NAME": table})
    lam = local_client("lambda", endpoint)
    mapping = lam.create_event_source_mapping(
        FunctionName=function, EventSourceArn=arn, StartingPosition="LATEST", BatchSize=100,
        TumblingWindowInSeconds=1)["UUID"]
    stop = threading.Event()

    def produce() -> None:
        kinesis = local_client("kinesis", endpoint)
        while not stop.is_set():
            kinesis.put_record(StreamName=stream, Data=b'{"Distance": 30}', PartitionKey="b")
            stop.wait(1.0 / PRODUCER_RATE)

    time.sleep(1.0)  # let the mapping start before the first measured window
    first = int(time.time()) + 1
    producer = threading.Thread(target=produce, name="bench-producer", daemon=True)
    producer.start()
    latencies: list[float] = []
    try:
        for start in range(first, first + LATENCY_WINDOWS):
            end = start + 1
            key = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start))
            while time.time() < end:
                time.sleep(0.002)
            while True:
                got = ddb.get_item(TableName=table, Key={"name": {"S": "bench"},
                                                        "windowStart": {"S": key}})
                if "Item" in got:
                    latencies.append(time.time() - end)
                    break
                if time.time() - end > 10:
                    raise TimeoutError(f"window {key} was not written within 10 s")
                time.sleep(0.005)
    finally:
        stop.set()
        producer.join(2)
        lam.delete_event_source_mapping(UUID=mapping)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))]
    return {"final_latency_s_p50": round(statistics.median(latencies), 3),
            "final_latency_s_p99": round(p99, 3),
            "final_latency_s_max": round(latencies[-1], 3)}


def run(endpoint: str) -> dict[str, Any]:
    """Both measurements, with their targets.

    Example
    -------
    >>> run("http://127.0.0.1:4599")["esm_vs_getrecords_ratio"] >= 0.8   # doctest: +SKIP
    True
    """
    figures: dict[str, Any] = {}
    figures.update(throughput(endpoint))
    progress(f"bench_esm: throughput {figures}")
    figures.update(final_latency(endpoint))
    for name, target in TARGETS.items():
        figures[f"{name}_target"] = target
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
