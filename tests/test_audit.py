"""The audit trail: every write appends who, what, when and which record, with no case text; nothing
changes or deletes an event, not even the ORM; `coregroup audit REF` prints a case's trail.

The generic check walks a whole case (tests/case_walk.py: every command, button, form, shortcut and event) and,
request by request, requires every row of case data that the request added, changed or removed to be named
(record_type, record_id) by an audit event the same request appended, with the event's action matching the
change where the change says what it was (an action done, a meeting moved, a recap read, ...).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from sqlalchemy import delete, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel, select

from bot import cli
from handlers.ids import Action, Block, View
from models import audit, meeting_facts
from models.audit import Actor
from models.tables import AuditEvent, Member, PlanItem
from tests.case_walk import CaseWalk
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
        # The app's own events (the pinned checklist, issue 13) have no team: printed as "-", as the tool always did.
        assert event.action in line and f"{event.actor_team_id or '-'}/{event.actor_user_id}" in line
        assert f"{event.record_type} {event.record_id}" in line
    assert "AUDITPLANT" not in "\n".join(lines)


def test_coregroup_audit_with_an_unknown_reference(engine, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    assert cli.main(["audit", "CP-NOPE-0000"]) == 1
    captured = capsys.readouterr()
    assert "No case with reference CP-NOPE-0000." in captured.err and captured.out == ""


# --- every write of a whole case, request by request ------------------------------------------------------------

Row = dict
# Each table of case data: the record its rows belong to, as the audit trail names it.
RECORD_OF: dict[str, tuple[str, Callable[[Row], int]]] = {
    "cases": ("case", lambda r: r["id"]),
    "children": ("case", lambda r: r["case_id"]),
    "members": ("member", lambda r: r["id"]),
    "plan_items": ("plan_item", lambda r: r["id"]),
    "actions": ("action", lambda r: r["id"]),
    "action_events": ("action", lambda r: r["action_id"]),
    "meetings": ("meeting", lambda r: r["id"]),
    "meeting_changes": ("meeting", lambda r: r["meeting_id"]),
    "attendance": ("attendance", lambda r: r["id"]),
    "updates": ("update", lambda r: r["id"]),
    "update_action_progress": ("update", lambda r: r["update_id"]),
    "scaling_questions": ("scaling_question", lambda r: r["id"]),
    "scaling_rounds": ("scaling_round", lambda r: r["id"]),
    "scores": ("score", lambda r: r["id"]),
    "decisions": ("decision", lambda r: r["id"]),
    "recaps": ("recap", lambda r: r["id"]),
    "recap_recipients": ("recap", lambda r: r["recap_id"]),
    "recap_acknowledgements": ("recap", lambda r: r["recap_id"]),
    "family_versions": ("family_version", lambda r: r["id"]),
    "family_handovers": ("family_handover", lambda r: r["id"]),
}
# the ledger, once-only keys, the trail, and where an open form redraws its list (a view id or response URL)
NOT_CASE_DATA = {"scheduled_messages", "processed_requests", "audit_events", "form_returns",
                 "submission_journal",  # forms taken down before their answer, emptied once saved
                 # oversight: roles (audited as staff.granted/revoked), working days, cached figures and charts
                 "staff_roles", "working_days", "oversight_charts", "oversight_figures",
                 # oversight's facts, worked out from the audited records in the same transaction (no one's write)
                 *meeting_facts.FACT_TABLES, *meeting_facts.SUM_TABLES, meeting_facts.BUILT}


def expected_action(table: str, old: Row | None, new: Row | None) -> str | None:
    """The audit action a change must be recorded as, where the change itself says what it was."""
    if new is None:
        return None
    changed = set() if old is None else {k for k in new if new[k] != old[k]}
    if table == "updates" and old is None:
        return "update.sent"
    if table == "attendance":
        return "attendance.set"
    if table == "action_events" and old is None:
        return f"action.{new['kind']}"
    if table == "actions" and "status" in changed and new["status"] in ("done", "dropped"):
        return f"action.{new['status']}"
    if table == "actions" and "due_date" in changed:
        return "action.due_changed"
    if table == "meetings" and "status" in changed:
        return {"in_progress": "meeting.started", "cancelled": "meeting.cancelled",
                "ended": "meeting.ended"}.get(new["status"])
    if table == "meetings" and "scheduled_start" in changed:
        return "meeting.moved"
    if table == "meeting_changes" and old is None:
        return {"moved": "meeting.moved", "cancelled": "meeting.cancelled"}.get(new["kind"])
    if table == "recap_acknowledgements" and old is None:
        return "recap.read"
    if table == "decisions" and old is None:
        return "decision.recorded"
    if table == "scores":
        return "scaling.score_recorded" if old is None else "scaling.score_replaced"
    if table == "cases" and "status" in changed and new["status"] == "closed":
        return "case.closed"
    return None


def case_rows(engine) -> dict[str, dict[int, Row]]:
    with engine.connect() as conn:
        return {table.name: {row["id"]: dict(row) for row in conn.execute(sa_select(table)).mappings()}
                for table in SQLModel.metadata.sorted_tables if table.name not in NOT_CASE_DATA}


@dataclass
class WriteAudit:
    """Before each request of the walk, what the previous one changed is checked against what it audited."""

    engine: object
    entry: str = "setup"
    rows: dict = field(default_factory=dict)
    last_event: int = 0
    failures: list[str] = field(default_factory=list)
    checked: list[tuple[str, str, int]] = field(default_factory=list)  # (action, record_type, record_id)

    def __post_init__(self):
        self.rows, self.last_event = case_rows(self.engine), _last_id(self.engine)

    def __call__(self, entry: str, _send) -> None:
        self.settle()
        self.entry = entry

    def settle(self) -> None:
        rows, events = case_rows(self.engine), _events(self.engine, self.last_event)
        audited = {(e.record_type, e.record_id) for e in events}
        actions = {(e.record_type, e.record_id, e.action) for e in events}
        assert set(rows) == set(RECORD_OF), "say which record each new table's rows belong to"
        for table, (record_type, record_id) in RECORD_OF.items():
            before, after = self.rows[table], rows[table]
            for key in before.keys() | after.keys():
                old, new = before.get(key), after.get(key)
                if old == new:
                    continue
                named = record_id(new or old)
                columns = sorted(k for k in (new or old) if old is None or new is None or new[k] != old[k])
                how = "added" if old is None else "removed" if new is None else "changed"
                what = f"{self.entry}: {table} {key} {how}"
                if (record_type, named) not in audited:
                    self.failures.append(f"{what} ({', '.join(columns)}) with no audit event naming "
                                         f"{record_type} {named}; appended: {sorted(a for _, _, a in actions)}")
                    continue
                action = expected_action(table, old, new)
                if action is not None:
                    if (record_type, named, action) not in actions:
                        self.failures.append(f"{what}: expected {action} on {record_type} {named}, got "
                                             f"{sorted(a for t, i, a in actions if (t, i) == (record_type, named))}")
                    else:
                        self.checked.append((action, record_type, named))
        self.rows, self.last_event = rows, (events[-1].id if events else self.last_event)


# What the walk does that the audit trail must show, each on the record it changed.
MUST_SHOW = {"update.sent", "attendance.set", "action.created", "action.done", "action.due_changed",
             "action.progress", "meeting.moved", "meeting.cancelled", "meeting.started", "meeting.ended",
             "recap.read", "decision.recorded", "scaling.score_recorded", "case.closed"}


def test_every_write_of_a_whole_case_is_audited_on_the_record_it_changed(people, slack, app, engine):
    audit_writes = WriteAudit(engine)
    walk = CaseWalk(people, slack, app, before=audit_writes)
    walk.run()
    audit_writes.settle()  # the walk's last request
    assert app.executor.errors == []
    unaudited = audit_writes.failures
    assert unaudited == [], "\n".join(unaudited)
    assert MUST_SHOW - {action for action, _, _ in audit_writes.checked} == set()
    # Every event names a record of its case, and none carries case text.
    everything = _events(engine)
    assert {e.case_id for e in everything} == {walk.case_id, walk.other_case_id}
    _assert_no_case_text(everything)


def test_an_accepted_invitation_waiting_for_approval_is_audited(people, slack, app, engine):
    audit_writes = WriteAudit(engine)
    walk = CaseWalk(people, slack, app, before=audit_writes)
    walk.new_cases()
    walk.connect()  # invited, accepted (an administrator must approve), approved; declined; cancelled
    audit_writes.settle()
    assert audit_writes.failures == [], "\n".join(audit_writes.failures)
