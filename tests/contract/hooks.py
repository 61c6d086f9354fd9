"""schemathesis hooks for the healthfleet intake (tests/contract/run).

Random ids and timestamps are almost never the test client's own members and
programs, nor inside the intake's occurred_at window, so nearly every
generated request would stop at 403/404/400. Half of the generated cases are
therefore rewritten to use the member and program the test created
(HF_CT_MEMBER, HF_CT_PROGRAM) and a recent occurred_at, so the deep paths
(Kafka, PostgreSQL, the cache) are exercised too. A value is only replaced
when it is already valid, so a deliberately invalid (negative) case stays
invalid.
"""
import os
import re
from datetime import datetime, timedelta, timezone

import schemathesis
from hypothesis import strategies as st

MEMBER = int(os.environ["HF_CT_MEMBER"])
PROGRAM = int(os.environ["HF_CT_PROGRAM"])
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _positive_int(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1


def _own(event, seconds_ago):
    if not isinstance(event, dict):
        return event
    e = dict(event)
    if _positive_int(e.get("member_id")):
        e["member_id"] = MEMBER
    if _positive_int(e.get("program_id")):
        e["program_id"] = PROGRAM
    if isinstance(e.get("occurred_at"), str) and RFC3339.match(e["occurred_at"]):
        at = datetime.now(timezone.utc) - timedelta(seconds=seconds_ago)
        e["occurred_at"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return e


@schemathesis.hook
def flatmap_body(ctx, body):
    def owned(seconds_ago):
        if isinstance(body, list):
            return [_own(e, seconds_ago) for e in body]
        return _own(body, seconds_ago)

    return st.one_of(st.just(body), st.integers(0, 3 * 86400).map(owned))


@schemathesis.hook
def flatmap_path_parameters(ctx, path_parameters):
    if not path_parameters or not _positive_int(path_parameters.get("id")):
        return st.just(path_parameters)
    own = PROGRAM if "/programs/" in ctx.operation.path else MEMBER
    return st.sampled_from([path_parameters, {**path_parameters, "id": own}])
