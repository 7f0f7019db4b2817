"""``--json`` carries every field of the result types (the hand-kept dicts once drifted from them)."""

from __future__ import annotations

import json
from dataclasses import fields

from safecancel.model import EventRecord, JobResult, JobSummary, OrderResult


def _filled(cls, **given):
    """An instance whose every field has a distinct non-default value, so a dropped field shows."""
    values = {}
    for i, f in enumerate(fields(cls)):
        if f.name in given:
            values[f.name] = given[f.name]
        elif "int" in str(f.type):
            values[f.name] = 100 + i
        else:
            values[f.name] = f"{f.name}-value"
    return cls(**values)


def test_order_result_has_every_field():
    order = _filled(OrderResult, state="cancelled")
    assert order.to_json() == {f.name: getattr(order, f.name) for f in fields(OrderResult)}


def test_event_record_has_every_field_under_its_contract_name():
    ev = _filled(EventRecord)
    out = ev.to_json()
    names = {"from_state": "from", "to_state": "to"}
    assert set(out) == {names.get(f.name, f.name) for f in fields(EventRecord)} - {"job_id"}
    assert out["from"] == "from_state-value" and out["to"] == "to_state-value"


def test_job_summary_has_every_field():
    summary = _filled(JobSummary, counts={"cancelled": 2})
    out = summary.to_json()
    assert set(out) == {f.name for f in fields(JobSummary)}
    assert out["account"] == "account-value" and out["finished_at"] == "finished_at-value"
    json.dumps(out)


def test_job_result_has_every_field_plus_counts():
    order = _filled(OrderResult, state="failed")
    ev = _filled(EventRecord)
    job = _filled(JobResult, orders=(order,), events=(ev,))
    out = job.to_json()
    assert set(out) == {f.name for f in fields(JobResult)} | {"counts"}
    assert out["counts"] == {"failed": 1} and out["orders"] == [order.to_json()] and out["events"] == [ev.to_json()]
    assert "events" not in job.to_json(events=False)
    json.dumps(out)
