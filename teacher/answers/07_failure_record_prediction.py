"""Answer key of 07's exercise: predict the failure record, then observe it.

The student predicts five fields of the failure record that Lambda sends to the on-failure
queue when it gives up on Pegasus's records (the failing version of the function, the lab's
trigger: MaximumRetryAttempts 2, BisectBatchOnFunctionError on, one shard).
``wildrydes_helpers.failure_prediction.check_prediction`` compares them with the real record.
See 07_failure_record_prediction.md for the reasons, and the mistakes students make.
"""

ANSWER = {
    "condition": "RetryAttemptsExhausted",
    "batchSize": 1,
    "functionError": "Unhandled",
    "contains_record_data": False,
    "shardId": "shardId-000000000000",
}
