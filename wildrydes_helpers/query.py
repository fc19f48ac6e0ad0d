"""Step 5: the per-window totals in the DynamoDB table, as a pandas DataFrame.

Example
-------
>>> from wildrydes_helpers.query import windows
>>> windows("Shadowfax")    # doctest: +SKIP
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
from boto3.dynamodb.types import TypeDeserializer

from .config import TABLE_PARTITION_KEY
from .errors import PrerequisiteError
from .lab_step import lab_step
from .notebook_names import NB_QUERY, NB_TABLE
from .session import LabSession

WINDOW_COLUMNS = ["name", "windowStart", "windowEnd", "distance", "records", "shardId"]
_deserialize = TypeDeserializer().deserialize


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def items_to_frame(items: list[dict[str, Any]]) -> pd.DataFrame:
    """Plain (already deserialised) table items to the lab's DataFrame (pure).

    Example
    -------
    >>> items_to_frame([{"name": "a", "windowStart": "1970-01-01T00:00:00Z",
    ...                  "windowEnd": "1970-01-01T00:01:00Z", "distance": Decimal("61"),
    ...                  "records": Decimal("2"), "shardId": "s"}]).distance.tolist()
    [61.0]
    """
    rows = [{col: _number(item.get(col)) for col in WINDOW_COLUMNS} for item in items]
    df = pd.DataFrame(rows, columns=WINDOW_COLUMNS)
    for col in ("windowStart", "windowEnd"):
        df[col] = pd.to_datetime(df[col], utc=True, errors="coerce")
    df["distance"] = pd.to_numeric(df["distance"], errors="coerce").astype(float)
    df["records"] = pd.to_numeric(df["records"], errors="coerce").fillna(0).astype(int)
    df["name"] = df["name"].astype(str) if len(df) else df["name"].astype(object)
    return df.sort_values(["name", "windowStart"], kind="stable").reset_index(drop=True)


@lab_step(NB_QUERY)
def windows(name: str | None = None, *, session: LabSession | None = None) -> pd.DataFrame:
    """One row per unicorn and window: name, windowStart, windowEnd, distance, records, shardId.

    With ``name``, a Query on the partition key; without, a Scan of the whole table.

    Example
    -------
    >>> windows("Shadowfax").head()   # doctest: +SKIP
    """
    assert session is not None
    ddb = session.client("dynamodb")
    table = session.config.table_name
    if name is not None:
        # ``name`` is a reserved word in DynamoDB expressions, hence the placeholder #n.
        paginator = ddb.get_paginator("query")
        pages = paginator.paginate(
            TableName=table, KeyConditionExpression="#n = :name",
            ExpressionAttributeNames={"#n": TABLE_PARTITION_KEY},
            ExpressionAttributeValues={":name": {"S": name}})
    else:
        pages = ddb.get_paginator("scan").paginate(TableName=table)
    items = []
    try:
        for page in pages:
            items += [{k: _deserialize(v) for k, v in it.items()} for it in page.get("Items", [])]
    except ddb.exceptions.ResourceNotFoundException:
        raise PrerequisiteError(
            f"The DynamoDB table {table} does not exist yet. Run step 1 ({NB_TABLE}) "
            "first.") from None
    return items_to_frame(items)
