"""Security beyond test_security.py: where the local cloud listens, what the role may do,
and what fault injection refuses."""

from __future__ import annotations

import json
import socket

import pytest

import wildrydes_helpers as wr
from tests.kit.helpers_kit import prefixed
from tests.kit.sockets_kit import listening_sockets
from wildrydes_helpers.faults_client import set_faults
from wildrydes_helpers.iam import failure_queue_arn, managed_policy_arn


def _other_addresses() -> list[str]:
    """IPv4 addresses of this machine other than loopback (the UDP connect trick sends nothing)."""
    found = set()
    for target in ("192.0.2.1", "10.255.255.255", "8.8.8.8"):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            try:
                sock.connect((target, 9))
            except OSError:
                continue
            address = sock.getsockname()[0]
            if not address.startswith("127.") and address != "0.0.0.0":
                found.add(address)
    return sorted(found)


def test_the_local_cloud_listens_on_loopback_only(lab):
    port = lab.config.local_port
    listening = listening_sockets(port)
    if listening:  # where sockets can be listed: the socket itself is bound to 127.0.0.1
        assert listening == [("IPv4", "127.0.0.1")], listening
    for address in _other_addresses():
        with socket.socket() as sock:
            sock.settimeout(2)
            assert sock.connect_ex((address, port)) != 0, f"answered on {address}:{port}"
    with socket.socket() as sock:  # and it does answer on loopback
        assert sock.connect_ex(("127.0.0.1", port)) == 0


def test_the_role_may_only_put_items_into_the_table_and_report_to_the_queue(lab):
    s = prefixed(lab, "sec-role")
    wr.create_table(session=s)
    wr.create_role(session=s)
    iam = s.client("iam")
    table_arn = wr.table_arn(session=s)
    attached = iam.list_attached_role_policies(RoleName=s.config.role_name)["AttachedPolicies"]
    arns = sorted(p["PolicyArn"] for p in attached)
    assert iam.list_role_policies(RoleName=s.config.role_name)["PolicyNames"] == []
    write_arn = next(a for a in arns if a != managed_policy_arn())
    assert arns == sorted([managed_policy_arn(), write_arn])
    policy = iam.get_policy(PolicyArn=write_arn)["Policy"]
    document = iam.get_policy_version(PolicyArn=write_arn, VersionId=policy["DefaultVersionId"])[
        "PolicyVersion"]["Document"]
    if isinstance(document, str):
        document = json.loads(document)
    queue_arn = failure_queue_arn(s.config.failure_queue_name, table_arn)
    assert document["Statement"] == [
        {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": table_arn},
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue_arn}]


def test_what_a_student_sees_shows_the_account_masked(lab):
    s = prefixed(lab, "sec-mask")
    shown = [repr(step(session=s)) for step in
             (wr.create_stream, wr.create_table, wr.create_role, wr.create_function)]
    shown.append(repr(wr.test_invoke(session=s)))
    assert not [text for text in shown if "123456789012" in text]
    assert any("********9012" in text for text in shown)
    wr.clean_up(stop_producer=False, session=s)


def test_fault_injection_refuses_aws_mode(lab):
    import dataclasses

    from wildrydes_helpers.session import LabSession

    aws = LabSession(dataclasses.replace(lab.config, backend="aws"), lab.boto)
    with pytest.raises(wr.WildRydesError, match="only in the local cloud"):
        set_faults(session=aws, invoke_error_rate=0.5)
