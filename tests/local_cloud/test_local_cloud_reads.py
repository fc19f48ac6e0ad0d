"""The local cloud's fast DynamoDB reads return exactly what moto's serializer would."""

from __future__ import annotations

import uuid

ITEM = {
    "name": {"S": "Shadowfax ü"}, "windowStart": {"S": "2026-11-27T10:00:00Z"},
    "distance": {"N": "1801"}, "ratio": {"N": "0.5"}, "blob": {"B": b"\x00\xff"},
    "ok": {"BOOL": True}, "nothing": {"NULL": True}, "list": {"L": [{"S": "x"}, {"N": "2"}]},
    "map": {"M": {"tags": {"SS": ["a", "b"]}}}, "numbers": {"NS": ["1", "2"]},
}


def _table(lab) -> str:
    ddb = lab.client("dynamodb")
    name = f"reads-{uuid.uuid4().hex[:8]}"
    ddb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "name", "KeyType": "HASH"},
                   {"AttributeName": "windowStart", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "name", "AttributeType": "S"},
                              {"AttributeName": "windowStart", "AttributeType": "S"}])
    return name


def _normal(item: dict) -> dict:
    out = dict(item)
    out["map"] = {"M": {"tags": {"SS": sorted(item["map"]["M"]["tags"]["SS"])}}}
    out["numbers"] = {"NS": sorted(item["numbers"]["NS"])}
    return out


def test_scan_query_and_get_return_every_attribute_type_unchanged(lab) -> None:
    ddb = lab.client("dynamodb")
    table = _table(lab)
    ddb.put_item(TableName=table, Item=ITEM)
    scanned = ddb.scan(TableName=table)
    assert scanned["Count"] == scanned["ScannedCount"] == 1
    assert [_normal(i) for i in scanned["Items"]] == [_normal(ITEM)]
    queried = ddb.query(TableName=table, KeyConditionExpression="#n = :v",
                        ExpressionAttributeNames={"#n": "name"},
                        ExpressionAttributeValues={":v": ITEM["name"]},
                        ReturnConsumedCapacity="TOTAL")
    assert [_normal(i) for i in queried["Items"]] == [_normal(ITEM)]
    assert queried["ConsumedCapacity"]["TableName"] == table
    key = {"name": ITEM["name"], "windowStart": ITEM["windowStart"]}
    assert _normal(ddb.get_item(TableName=table, Key=key)["Item"]) == _normal(ITEM)
    missing = ddb.get_item(TableName=table, Key={**key, "name": {"S": "nobody"}})
    assert "Item" not in missing
    assert "Items" not in ddb.scan(TableName=table, Select="COUNT")


def test_a_paginated_scan_hands_back_its_last_key(lab) -> None:
    ddb = lab.client("dynamodb")
    table = _table(lab)
    for i in range(5):
        ddb.put_item(TableName=table, Item={"name": {"S": f"u{i}"},
                                            "windowStart": {"S": "w"}})
    first = ddb.scan(TableName=table, Limit=2)
    assert len(first["Items"]) == 2 and "LastEvaluatedKey" in first
    pages = ddb.get_paginator("scan").paginate(TableName=table, PaginationConfig={"PageSize": 2})
    assert sorted(i["name"]["S"] for p in pages for i in p["Items"]) == [f"u{i}" for i in range(5)]
