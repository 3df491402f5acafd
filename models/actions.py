"""Actions on the plan: who will do what, by when, and how we will know it is done.

Every change is written to the action's history (`ActionEvent`), audited, and handed to
`reminders.action_changed` in the caller's transaction. Completing is a conditional update, so a
double click (two requests at once, on any database) records one completion.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models import audit, dates, meeting_facts, reminders
from models.audit import Actor
from models.calendar import WorkingCalendar
from models.cases import DomainError
from models.db import change_once
from models.tables import (
    Action,
    ActionEvent,
    ActionEventKind,
    ActionStatus,
    Member,
    MemberStatus,
    PlanItem,
    PlanItemKind,
)

MAX_WHAT = 1000
MAX_MEASURE = 1000
MAX_NOTE = 2000


def _today(now: datetime) -> date:
    return WorkingCalendar().local(now).date()


def get(session: Session, action_id: int | None, case_id: int | None = None) -> Action | None:
    """The action, if it exists (and belongs to `case_id` when given)."""
    if action_id is None:
        return None
    action = session.get(Action, action_id)
    if action is None or (case_id is not None and action.case_id != case_id):
        return None
    return action


def check_owner(session: Session, case_id: int, owner_member_id: int | None) -> Member:
    owner = session.get(Member, owner_member_id) if owner_member_id is not None else None
    if owner is None or owner.case_id != case_id or owner.status == MemberStatus.REMOVED:
        raise DomainError("Choose someone in the core group to own this action.", field="owner")
    return owner


def check_goal(session: Session, case_id: int, safety_goal_id: int | None) -> PlanItem | None:
    if safety_goal_id is None:
        return None
    goal = session.get(PlanItem, safety_goal_id)
    if goal is None or goal.case_id != case_id or goal.kind != PlanItemKind.GOAL or goal.removed_at is not None:
        raise DomainError("That safety goal is no longer in the plan. Choose another, or none.", field="goal")
    return goal


def create(
    session: Session, *, case_id: int, what: str, owner_member_id: int, due_date: date, measure: str,
    safety_goal_id: int | None, meeting_id: int | None, actor: Actor, member_id: int | None, now: datetime,
    source_key: str | None = None,
) -> Action:
    """A new open action. With `source_key`, a repeat of the same request returns the first action."""
    what = (what or "").strip()
    if not what:
        raise DomainError("Say what needs to be done.", field="what")
    if len(what) > MAX_WHAT:
        raise DomainError(f"Keep what needs to be done under {MAX_WHAT} characters.", field="what")
    if len(measure or "") > MAX_MEASURE:
        raise DomainError(f"Keep how we will know under {MAX_MEASURE} characters.", field="measure")
    check_owner(session, case_id, owner_member_id)
    check_goal(session, case_id, safety_goal_id)
    if source_key:
        existing = session.exec(select(Action).where(Action.source_key == source_key)).first()
        if existing is not None:
            return existing
    action = Action(case_id=case_id, what=what, owner_member_id=owner_member_id, due_date=due_date,
                    measure=(measure or "").strip(), safety_goal_id=safety_goal_id, meeting_id=meeting_id,
                    created_at=now, created_by_member_id=member_id, source_key=source_key)
    savepoint = session.begin_nested()
    try:
        session.add(action)
        session.flush()
    except IntegrityError:
        savepoint.rollback()
        existing = session.exec(select(Action).where(Action.source_key == source_key)).first()
        if existing is None:
            raise
        return existing
    savepoint.commit()
    session.add(ActionEvent(action_id=action.id, kind=ActionEventKind.CREATED, new_due=due_date, at=now,
                            by_member_id=member_id))
    audit.record(session, actor=actor, action="action.created", record_type="action", record_id=action.id,
                 case_id=case_id, meeting_id=meeting_id, owner_member_id=owner_member_id)
    reminders.action_changed(session, action=action, now=now)
    return action


def complete(session: Session, *, action: Action, actor: Actor, member_id: int | None, now: datetime) -> Action:
    """Mark the action done. Done already (a double click, a second person): nothing more is recorded."""
    mark_done(session, action=action, actor=actor, member_id=member_id, now=now)
    return action


def mark_done(session: Session, *, action: Action, actor: Actor, member_id: int | None, now: datetime) -> bool:
    """As `complete`; True when this call made the change (the one click of a double click that counts)."""
    result = session.exec(
        update(Action)
        .where(col(Action.id) == action.id, col(Action.status) == ActionStatus.OPEN)
        .values(status=ActionStatus.DONE, completed_at=now)
    )
    session.refresh(action)
    if result.rowcount != 1:
        return False
    meeting_facts.touch(session, case_id=action.case_id, parts=(meeting_facts.ACTIONS,))  # a bulk update
    session.add(ActionEvent(action_id=action.id, kind=ActionEventKind.DONE, at=now, by_member_id=member_id))
    audit.record(session, actor=actor, action="action.done", record_type="action", record_id=action.id,
                 case_id=action.case_id)
    reminders.action_changed(session, action=action, now=now)
    return True


def add_progress(session: Session, *, action: Action, note: str, actor: Actor, member_id: int | None,
                 now: datetime) -> ActionEvent:
    """A progress note in the action's history."""
    note = (note or "").strip()
    if not note:
        raise DomainError("Say what has happened.", field="note")
    if len(note) > MAX_NOTE:
        raise DomainError(f"Keep the note under {MAX_NOTE:,} characters.", field="note")
    event = ActionEvent(action_id=action.id, kind=ActionEventKind.PROGRESS, note=note, at=now,
                        by_member_id=member_id)
    session.add(event)
    session.flush()
    audit.record(session, actor=actor, action="action.progress", record_type="action", record_id=action.id,
                 case_id=action.case_id, event_id=event.id)
    reminders.action_changed(session, action=action, now=now)
    return event


def change_due(session: Session, *, action: Action, new_due: date, reason: str, actor: Actor,
               member_id: int | None, now: datetime, today: date | None = None) -> Action:
    """A new due date, with the reason. Moving an action that had already fallen due carries it forward."""
    today = today or _today(now)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why the date is changing.", field="reason")
    if len(reason) > MAX_NOTE:
        raise DomainError(f"Keep the reason under {MAX_NOTE:,} characters.", field="reason")
    problem = dates.check_due(new_due, today=today, after_today=True)
    if problem:
        raise DomainError(problem, field="date")
    if action.status != ActionStatus.OPEN:
        raise DomainError("This action is already done, so its date cannot change.", field="date")
    old_due = action.due_date
    carried = action.carried_forward + (1 if old_due < today and not _carried_since(session, action.id, old_due)
                                        else 0)
    # Conditional on what was read: an action marked done, or given another date, a moment ago is not changed.
    if not change_once(session, Action, action.id, Action.status == ActionStatus.OPEN, Action.due_date == old_due,
                       due_date=new_due, carried_forward=carried):
        raise DomainError("Someone changed this action a moment ago. Close this form and look at it again.",
                          field="date")
    session.add(ActionEvent(action_id=action.id, kind=ActionEventKind.DUE_CHANGED, note=reason, old_due=old_due,
                            new_due=new_due, at=now, by_member_id=member_id))
    session.flush()
    audit.record(session, actor=actor, action="action.due_changed", record_type="action", record_id=action.id,
                 case_id=action.case_id, carried_forward=action.carried_forward)
    reminders.action_changed(session, action=action, now=now)
    return action


def _carried_since(session: Session, action_id: int, day: date) -> bool:
    """Was the action already carried forward at a meeting after it fell due on `day`?"""
    since = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    return session.exec(select(ActionEvent.id).where(
        ActionEvent.action_id == action_id, ActionEvent.kind == ActionEventKind.CARRIED_FORWARD,
        ActionEvent.at >= since)).first() is not None


def carry_forward_overdue(session: Session, *, case_id: int, meeting_day: date, actor: Actor, now: datetime
                          ) -> list[Action]:
    """At the end of a meeting, every open action already due and not given a new date is carried forward.

    An action re-dated after it fell due was counted then (change_due), and its date is now ahead,
    so nothing is counted twice.
    """
    carried = list(session.exec(select(Action).where(Action.case_id == case_id, Action.status == ActionStatus.OPEN,
                                                     Action.due_date < meeting_day)))
    for action in carried:
        action.carried_forward += 1
        session.add(action)
        session.add(ActionEvent(action_id=action.id, kind=ActionEventKind.CARRIED_FORWARD, at=now))
        audit.record(session, actor=actor, action="action.carried_forward", record_type="action",
                     record_id=action.id, case_id=case_id, carried_forward=action.carried_forward)
    session.flush()
    return carried


def _open(query):
    return query.where(Action.status == ActionStatus.OPEN).order_by(Action.due_date, Action.id)


def open_for_case(session: Session, case_id: int) -> list[Action]:
    return list(session.exec(_open(select(Action).where(Action.case_id == case_id))))


def open_for_member(session: Session, member_id: int) -> list[Action]:
    return list(session.exec(_open(select(Action).where(Action.owner_member_id == member_id))))


def overdue(session: Session, case_id: int, today: date) -> list[Action]:
    return list(session.exec(_open(select(Action).where(Action.case_id == case_id, Action.due_date < today))))


def for_meeting(session: Session, meeting_id: int) -> list[Action]:
    """Actions agreed at a meeting (any status), in the order they were added."""
    return list(session.exec(select(Action).where(Action.meeting_id == meeting_id).order_by(Action.id)))


def history(session: Session, action_id: int) -> list[ActionEvent]:
    return list(session.exec(
        select(ActionEvent).where(ActionEvent.action_id == action_id).order_by(ActionEvent.at, ActionEvent.id)))


def owners(session: Session, actions: list[Action]) -> dict[int, Member]:
    """The owners of some actions, by member id."""
    ids = {a.owner_member_id for a in actions}
    if not ids:
        return {}
    return {m.id: m for m in session.exec(select(Member).where(col(Member.id).in_(ids)))}
