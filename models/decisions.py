"""Decisions of the core group, recorded as they are made (the guidance: "record decisions and actions
agreed at core group meetings")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models import audit
from models.audit import Actor
from models.cases import DomainError
from models.tables import Decision

MAX_DECISION = 2000


def record(session: Session, *, case_id: int, meeting_id: int | None, text: str, member_id: int | None,
           actor: Actor, now: datetime, source_key: str | None = None) -> Decision:
    """Record a decision. With `source_key`, a repeat of the same request returns the first decision."""
    text = (text or "").strip()
    if not text:
        raise DomainError("Write the decision.", field="text")
    if len(text) > MAX_DECISION:
        raise DomainError(f"Keep the decision under {MAX_DECISION:,} characters.", field="text")
    if source_key:
        existing = session.exec(select(Decision).where(Decision.source_key == source_key)).first()
        if existing is not None:
            return existing
    decision = Decision(case_id=case_id, meeting_id=meeting_id, text=text, recorded_by_member_id=member_id,
                        recorded_at=now, source_key=source_key)
    savepoint = session.begin_nested()
    try:
        session.add(decision)
        session.flush()
    except IntegrityError:
        savepoint.rollback()
        existing = session.exec(select(Decision).where(Decision.source_key == source_key)).first()
        if existing is None:
            raise
        return existing
    savepoint.commit()
    audit.record(session, actor=actor, action="decision.recorded", record_type="decision", record_id=decision.id,
                 case_id=case_id, meeting_id=meeting_id)
    return decision


def for_meeting(session: Session, meeting_id: int) -> list[Decision]:
    return list(session.exec(
        select(Decision).where(Decision.meeting_id == meeting_id).order_by(Decision.recorded_at, Decision.id)))


def for_case(session: Session, case_id: int) -> list[Decision]:
    return list(session.exec(
        select(Decision).where(Decision.case_id == case_id).order_by(Decision.recorded_at, Decision.id)))
