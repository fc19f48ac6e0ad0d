"""The tags and the tag-aware clean-up on the local cloud: the same calls as on AWS work."""

from __future__ import annotations

import wildrydes_helpers as wr
from tests.kit.helpers_kit import prefixed
from tests.unit.test_shared_account import all_tags
from wildrydes_helpers.cleanup import lab_resources, leftovers
from wildrydes_helpers.tags import lab_tags


def test_the_local_cloud_keeps_the_labs_tags_and_cleans_up_by_them(lab):
    s = prefixed(lab, "tagged-local")
    for step in (wr.create_stream, wr.create_table, wr.create_role, wr.create_function):
        step(session=s)
    assert wr.test_invoke(session=s).ok  # the function logs into the group made for it
    assert all_tags(s) == {kind: lab_tags(s.config) for kind in (
        "stream", "table", "role", "policy", "function", "queue", "log group")}
    assert {(x.kind, x.name, x.ours) for x in leftovers(session=s)} == {
        (kind, name, True) for kind, name in lab_resources(s.config)}
    done = wr.clean_up(session=s)
    for kind, name in lab_resources(s.config):
        assert f"{kind} {name}" in done.details["deleted"]
    assert list(leftovers(session=s)) == []
