"""The audit trail: every write appends who, what, when and which record, with no case text; nothing
changes or deletes an event, not even the ORM; `coregroup audit REF` prints a case's trail."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from bot import cli
from handlers.ids import Action, Block, View
from models import audit
from models.audit import Actor
from models.tables import AuditEvent, Member, PlanItem
from tests.helpers import new_case, opened_view

# Distinctive case text typed into the forms: none of it may reach the audit trail.
AGENCY = "Agency AUDITPLANT-4417"
NAME = "Mother AUDITPLANT-8812"
RELATIONSHIP = "Mother AUDITPLANT-3390"
DANGERS = ["Danger AUDITPLANT-2291 one", "Danger AUDITPLANT-5518 two"]
PLANTED = ("AUDITPLANT", "Child A", "Child B")


def _events(engine, after: int = 0) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.id > after).order_by(AuditEvent.id)))


def _last_id(engine) -> int:
    events = _events(engine)
    return events[-1].id if events else 0


def _member(engine, **where) -> Member:
    with Session(engine) as session:
        query = select(Member)
        for name, value in where.items():
            query = query.where(getattr(Member, name) == value)
        return session.exec(query).one()


def _assert_one(events: list[AuditEvent], action: str, *, record_type: str, record_id: int, case_id: int,
                who) -> AuditEvent:
    found = [e for e in events if e.action == action]
    assert len(found) == 1, f"{action}: {[e.action for e in events]}"
    event = found[0]
    assert (event.record_type, event.record_id, event.case_id) == (record_type, record_id, case_id)
    assert (event.actor_team_id, event.actor_user_id) == (who.team_id, who.user_id)
    assert event.at is not None
    return event


def _assert_no_case_text(events: list[AuditEvent]) -> None:
    for event in events:
        if event.detail is not None:
            detail = json.loads(event.detail)
            assert isinstance(detail, dict)
            assert all(isinstance(v, int | float | bool) or (isinstance(v, str) and len(v) <= 40) or v is None
                       for v in detail.values()), event.detail
        row = json.dumps(event.model_dump(), default=str)
        for text in PLANTED:
            assert text not in row, f"{event.action} carries case text"


def test_every_write_path_appends_an_event_without_case_text(people, slack, app, engine):
    sw, gp = people["sw"], people["gp"]
    info = new_case(people, slack, children="Child A (7)\nChild B (4)")
    _assert_one(_events(engine), "case.created", record_type="case", record_id=info.case_id,
                case_id=info.case_id, who=sw)

    # Add a professional on Slack, from the members list.
    mark = _last_id(engine)
    sw.command("members", channel=info.channel_id)
    members_list = opened_view(slack, "members_list")
    sw.click(Action.MEMBERS_ADD, {"c": info.case_id}, view=members_list)
    reply = sw.submit(opened_view(slack, View.MEMBER_ADD),
                      {Block.USER: gp.user_id, Block.ROLE: "GP", Block.AGENCY: AGENCY})
    assert reply.body == ""
    doctor = _member(engine, slack_user_id=gp.user_id)
    _assert_one(_events(engine, mark), "member.added", record_type="member", record_id=doctor.id,
                case_id=info.case_id, who=sw)

    # Add a parent who is not on Slack.
    mark = _last_id(engine)
    sw.click(Action.MEMBERS_ADD_OFFLINE, {"c": info.case_id}, view=members_list)
    reply = sw.submit(opened_view(slack, View.MEMBER_ADD_OFFLINE),
                      {Block.NAME: NAME, Block.ROLE: "Parent", Block.RELATIONSHIP: RELATIONSHIP})
    assert reply.body == ""
    parent = _member(engine, name=NAME)
    _assert_one(_events(engine, mark), "member.added", record_type="member", record_id=parent.id,
                case_id=info.case_id, who=sw)

    # Change someone's details.
    mark = _last_id(engine)
    sw.click(Action.MEMBERS_EDIT, view=members_list,
             selected=json.dumps({"c": info.case_id, "m": doctor.id, "o": "edit"}))
    reply = sw.submit(opened_view(slack, View.MEMBER_EDIT), {Block.AGENCY: AGENCY + " changed"})
    assert reply.body == ""
    _assert_one(_events(engine, mark), "member.changed", record_type="member", record_id=doctor.id,
                case_id=info.case_id, who=sw)

    # Remove someone.
    mark = _last_id(engine)
    sw.click(Action.MEMBERS_EDIT, view=members_list,
             selected=json.dumps({"c": info.case_id, "m": parent.id, "o": "remove"}))
    assert sw.submit(opened_view(slack, View.MEMBER_REMOVE)).body == ""
    _assert_one(_events(engine, mark), "member.removed", record_type="member", record_id=parent.id,
                case_id=info.case_id, who=sw)

    # Write the plan, then take one statement out: one event for each item added or removed.
    mark = _last_id(engine)
    hv = people["hv"]
    hv.click(Action.PLAN_EDIT, {"c": info.case_id}, channel=info.channel_id)
    assert hv.submit(opened_view(slack, View.PLAN_EDIT), {Block.DANGER: "\n\n".join(DANGERS)}).body == ""
    with Session(engine) as session:
        items = session.exec(select(PlanItem).order_by(PlanItem.id)).all()
    added = [e for e in _events(engine, mark) if e.action == "plan_item.added"]
    assert [(e.record_type, e.record_id, e.actor_user_id) for e in added] == [
        ("plan_item", item.id, hv.user_id) for item in items]
    mark = _last_id(engine)
    hv.click(Action.PLAN_EDIT, {"c": info.case_id}, channel=info.channel_id)
    assert hv.submit(opened_view(slack, View.PLAN_EDIT), {Block.DANGER: DANGERS[1]}).body == ""
    _assert_one(_events(engine, mark), "plan_item.removed", record_type="plan_item", record_id=items[0].id,
                case_id=info.case_id, who=hv)

    everything = _events(engine)
    assert {e.case_id for e in everything} == {info.case_id}
    _assert_no_case_text(everything)


def test_a_refused_write_appends_nothing(people, slack, app, engine):
    info = new_case(people, slack)
    people["sw"].click(Action.PLAN_EDIT, {"c": info.case_id}, channel=info.channel_id)
    form = opened_view(slack, View.PLAN_EDIT)
    mark = _last_id(engine)
    reply = people["outsider"].submit(form, {Block.DANGER: DANGERS[0]})
    assert reply.json()["response_action"] == "update"
    assert _events(engine, mark) == []


def test_the_orm_cannot_change_or_delete_an_event(engine):
    with Session(engine) as session:
        audit.record(session, actor=Actor(team_id="T0COUNCIL", user_id="U0SW"), action="case.created",
                     record_type="case", record_id=1, case_id=1)
        session.commit()
    original = _events(engine)[0].model_dump()

    def attempt(change) -> None:
        with Session(engine) as session:
            event = session.exec(select(AuditEvent)).one()
            with pytest.raises(DBAPIError, match="append-only"):
                change(session, event)
                session.commit()
            session.rollback()

    attempt(lambda s, e: (setattr(e, "action", "case.deleted"), s.add(e)))
    attempt(lambda s, e: (setattr(e, "actor_user_id", "U0SOMEONE"), s.add(e)))
    attempt(lambda s, e: s.delete(e))
    attempt(lambda s, e: s.exec(update(AuditEvent).values(detail='{"x": 1}')))
    attempt(lambda s, e: s.exec(delete(AuditEvent)))
    assert [e.model_dump() for e in _events(engine)] == [original]


def test_coregroup_audit_prints_the_trail(people, slack, app, engine, monkeypatch, capsys):
    info = new_case(people, slack)
    people["sw"].click(Action.PLAN_EDIT, {"c": info.case_id}, channel=info.channel_id)
    people["sw"].submit(opened_view(slack, View.PLAN_EDIT), {Block.DANGER: DANGERS[0]})
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    assert cli.main(["audit", "cp-test-0001"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"Audit trail for CP-TEST-0001 (case {info.case_id})"
    events = _events(engine)
    assert len(lines) == 1 + len(events)
    for line, event in zip(lines[1:], events, strict=True):
        assert event.action in line and f"{event.actor_team_id}/{event.actor_user_id}" in line
        assert f"{event.record_type} {event.record_id}" in line
    assert "AUDITPLANT" not in "\n".join(lines)


def test_coregroup_audit_with_an_unknown_reference(engine, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    assert cli.main(["audit", "CP-NOPE-0000"]) == 1
    captured = capsys.readouterr()
    assert "No case with reference CP-NOPE-0000." in captured.err and captured.out == ""
