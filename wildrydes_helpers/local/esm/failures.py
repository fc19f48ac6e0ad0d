"""Records a mapping gave up on: the failure record, and its delivery to SQS or SNS.

A discarded batch (rules 13, 15) becomes one failure record, with the batch's position but
not its data, sent to the mapping's on-failure destination through the local cloud's moto
door (``cloud.backends``).

Example
-------
>>> destination_parts("arn:aws:sqs:us-east-1:123456789012:failures")
('sqs', 'us-east-1', 'failures')
"""

from __future__ import annotations

from typing import Any

from ..moto_backends import MotoBackends
from .events import ShardContext, format_utc_ms
from .processor import CONDITION_AGE, Discard


def destination_parts(destination: str) -> tuple[str, str, str]:
    """(service, region, name) of an SQS queue or SNS topic ARN.

    Example
    -------
    >>> destination_parts("arn:aws:sns:eu-west-1:123456789012:alerts")[0]
    'sns'
    """
    parts = destination.split(":")
    return parts[2], parts[3], parts[5]


def destination_exists(backends: MotoBackends, destination: str) -> bool:
    """True when the SQS queue or SNS topic named by ``destination`` exists.

    Example
    -------
    >>> destination_exists(cloud.backends, "arn:aws:sqs:us-east-1:1:q")  # doctest: +SKIP
    True
    """
    service, region, name = destination_parts(destination)
    if service == "sqs":
        return backends.queue_exists(region, name)
    return backends.topic_exists(region, destination)


def deliver_failure(backends: MotoBackends, destination: str, body: str) -> None:
    """Write ``body`` to an SQS queue or SNS topic of the local cloud, by ARN.

    Example
    -------
    >>> deliver_failure(cloud.backends, "arn:aws:sqs:us-east-1:1:q", "{}")  # doctest: +SKIP
    """
    service, region, name = destination_parts(destination)
    if service == "sqs":
        backends.send_to_queue(region, name, body)
    else:
        backends.publish(region, destination, body)


def failure_record(discard: Discard, ctx: ShardContext, function_arn: str, request_id: str,
                   now: float) -> dict[str, Any]:
    """The on-failure destination's message for discarded records (rule 13): no data.

    As AWS's (recorded in tests/kit/aws_recorded/kinesis_failure_records.json), a record
    given up for its age has no ``responseContext``, whether or not the function ran;
    records given up after their retries have one.

    Example
    -------
    >>> from wildrydes_helpers.local.esm.events import stream_record
    >>> ctx = ShardContext("shardId-000000000000", "arn:s", "us-east-1", "arn:r")
    >>> d = Discard([stream_record(1, "k", "", 1.0)], "RetryAttemptsExhausted", 3, 200,
    ...             "Unhandled")
    >>> failure_record(d, ctx, "arn:f", "id", 5.0)["KinesisBatchInfo"]["batchSize"]
    1
    """
    first, last = discard.records[0], discard.records[-1]
    invoked = discard.invoke_count > 0
    message: dict[str, Any] = {
        "requestContext": {
            "requestId": discard.request_id or request_id,
            "functionArn": function_arn,
            "condition": discard.condition,
            "approximateInvokeCount": discard.invoke_count,
        },
    }
    if discard.condition != CONDITION_AGE:
        message["responseContext"] = {
            "statusCode": discard.status_code if invoked else None,
            "executedVersion": discard.executed_version if invoked else None,
            "functionError": discard.function_error if invoked else None,
        }
    message.update({
        "version": "1.0",
        "timestamp": format_utc_ms(now),
        "KinesisBatchInfo": {
            "shardId": ctx.shard_id,
            "startSequenceNumber": str(first.sequence_number),
            "endSequenceNumber": str(last.sequence_number),
            "approximateArrivalOfFirstRecord": format_utc_ms(first.arrival),
            "approximateArrivalOfLastRecord": format_utc_ms(last.arrival),
            "batchSize": len(discard.records),
            "streamArn": ctx.stream_arn,
        },
    })
    return message
