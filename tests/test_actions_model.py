"""Actions in the domain: history, carrying forward, idempotent completion, audit."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from models import actions
from models.cases import DomainError
from models.tables import ActionEvent, ActionEventKind, ActionStatus, AuditEvent
from tests.meeting_factories import ACTOR, GOAL, NOW, make_meeting, make_plan_item, make_world

TODAY = date(2026, 12, 8)


def _action(session, world, **overrides):
    values = dict(case_id=world.case.id, what="Book a dentist appointment for Child A",
                  owner_member_id=world.parent.id, due_date=TODAY + timedelta(days=14),
                  measure="Appointment letter seen by the health visitor", safety_goal_id=None, meeting_id=None,
                  actor=ACTOR, member_id=world.sw.id, now=NOW)
    values.update(overrides)
    return actions.create(session, **values)


def test_create_records_history_and_audit(session):
    world = make_world(session)
    goal = make_plan_item(session, world.case, GOAL, "Child A goes to school every day")
    meeting = make_meeting(session, world.case, NOW)
    action = _action(session, world, safety_goal_id=goal.id, meeting_id=meeting.id)
    session.commit()
    assert action.status == ActionStatus.OPEN and action.meeting_id == meeting.id
    assert [e.kind for e in actions.history(session, action.id)] == [ActionEventKind.CREATED]
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "action.created")).one().record_id == action.id
    assert actions.open_for_case(session, world.case.id) == [action]
    assert actions.open_for_member(session, world.parent.id) == [action]
    assert actions.for_meeting(session, meeting.id) == [action]


def test_create_refuses_owner_or_goal_from_another_case(session):
    world = make_world(session)
    other = make_world(session, reference="CP-TEST-0102")
    with pytest.raises(DomainError) as error:
        _action(session, world, owner_member_id=other.hv.id)
    assert error.value.field == "owner"
    goal = make_plan_item(session, other.case, GOAL, "Another family's goal")
    with pytest.raises(DomainError) as error:
        _action(session, world, safety_goal_id=goal.id)
    assert error.value.field == "goal"
    with pytest.raises(DomainError):
        _action(session, world, what="   ")


def test_same_source_key_makes_one_action(session):
    world = make_world(session)
    first = _action(session, world, source_key="view:V1")
    second = _action(session, world, source_key="view:V1")
    assert first.id == second.id
    assert len(actions.open_for_case(session, world.case.id)) == 1


def test_complete_twice_records_once(session):
    world = make_world(session)
    action = _action(session, world)
    actions.complete(session, action=action, actor=ACTOR, member_id=world.sw.id, now=NOW)
    actions.complete(session, action=action, actor=ACTOR, member_id=world.sw.id, now=NOW)
    session.commit()
    kinds = [e.kind for e in actions.history(session, action.id)]
    assert kinds == [ActionEventKind.CREATED, ActionEventKind.DONE]
    assert action.status == ActionStatus.DONE and action.completed_at is not None
    assert actions.open_for_case(session, world.case.id) == []


def test_complete_from_two_sessions_at_once_records_once(engine):
    with Session(engine, expire_on_commit=False) as session:
        world = make_world(session)
        action = _action(session, world)
        session.commit()
        action_id, member_id = action.id, world.sw.id
    barrier = threading.Barrier(2)

    def click():
        with Session(engine, expire_on_commit=False) as session:
            barrier.wait()
            target = actions.get(session, action_id)
            actions.complete(session, action=target, actor=ACTOR, member_id=member_id, now=NOW)
            session.commit()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with Session(engine) as session:
        done = session.exec(select(ActionEvent).where(ActionEvent.action_id == action_id,
                                                      ActionEvent.kind == ActionEventKind.DONE)).all()
        assert len(done) == 1


def test_new_date_after_falling_due_carries_forward(session):
    world = make_world(session)
    action = _action(session, world, due_date=TODAY - timedelta(days=3))
    assert actions.overdue(session, world.case.id, TODAY) == [action]
    actions.change_due(session, action=action, new_due=TODAY + timedelta(days=7), reason="Clinic closed",
                       actor=ACTOR, member_id=world.hv.id, now=NOW, today=TODAY)
    assert action.carried_forward == 1
    assert actions.overdue(session, world.case.id, TODAY) == []
    actions.change_due(session, action=action, new_due=TODAY + timedelta(days=10), reason="Moved again",
                       actor=ACTOR, member_id=world.hv.id, now=NOW, today=TODAY)
    assert action.carried_forward == 1  # it had not fallen due this time
    changes = [e for e in actions.history(session, action.id) if e.kind == ActionEventKind.DUE_CHANGED]
    assert [(c.old_due, c.new_due, c.note) for c in changes] == [
        (TODAY - timedelta(days=3), TODAY + timedelta(days=7), "Clinic closed"),
        (TODAY + timedelta(days=7), TODAY + timedelta(days=10), "Moved again")]


@pytest.mark.parametrize(("new_due", "reason", "field"), [
    (TODAY, "a reason", "date"), (TODAY - timedelta(days=1), "a reason", "date"),
    (TODAY + timedelta(days=1), "  ", "reason")])
def test_new_date_needs_a_reason_and_a_future_date(session, new_due, reason, field):
    world = make_world(session)
    action = _action(session, world)
    with pytest.raises(DomainError) as error:
        actions.change_due(session, action=action, new_due=new_due, reason=reason, actor=ACTOR,
                           member_id=world.sw.id, now=NOW, today=TODAY)
    assert error.value.field == field


def test_progress_notes_are_kept_in_order(session):
    world = make_world(session)
    action = _action(session, world)
    actions.add_progress(session, action=action, note="Called the surgery", actor=ACTOR, member_id=world.hv.id,
                         now=NOW)
    actions.add_progress(session, action=action, note="Appointment booked", actor=ACTOR, member_id=world.hv.id,
                         now=NOW + timedelta(hours=1))
    notes = [e.note for e in actions.history(session, action.id) if e.kind == ActionEventKind.PROGRESS]
    assert notes == ["Called the surgery", "Appointment booked"]
    with pytest.raises(DomainError):
        actions.add_progress(session, action=action, note="", actor=ACTOR, member_id=world.hv.id, now=NOW)


def test_ending_a_meeting_carries_forward_overdue_actions_once(session):
    from models.recap_posting import end_meeting

    world = make_world(session)
    meeting = make_meeting(session, world.case, NOW, chair=world.sw)
    overdue = actions.create(session, case_id=world.case.id, what="Overdue work", owner_member_id=world.hv.id,
                             due_date=date(2026, 12, 1), measure="", safety_goal_id=None, meeting_id=None,
                             actor=ACTOR, member_id=world.sw.id, now=datetime(2026, 11, 20, tzinfo=UTC))
    ahead = actions.create(session, case_id=world.case.id, what="Not yet due", owner_member_id=world.hv.id,
                           due_date=date(2026, 12, 20), measure="", safety_goal_id=None, meeting_id=None,
                           actor=ACTOR, member_id=world.sw.id, now=datetime(2026, 11, 20, tzinfo=UTC))
    end_meeting(session, meeting=meeting, actor=ACTOR, now=NOW)
    assert (overdue.carried_forward, ahead.carried_forward) == (1, 0)
    kinds = [e.kind for e in actions.history(session, overdue.id)]
    assert kinds[-1] == "carried_forward"
    # Given a new date afterwards, it is not counted a second time.
    actions.change_due(session, action=overdue, new_due=date(2026, 12, 30), reason="Waiting for a referral",
                       actor=ACTOR, member_id=world.sw.id, now=NOW)
    assert overdue.carried_forward == 1
