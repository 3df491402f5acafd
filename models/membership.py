"""The case channel and the core group in step: who has been flagged as in the channel without being in the group,
and who was added a moment ago (so a check of the channel does not take out someone whose invitation to it is
still on its way).

A flag is a once-only key (`flagged:<case>:<user>`) in the same table as the other once-only claims: the join
event and the periodic check (handlers/channel_check.py) both claim it, so the channel is told once; it is given
back when the person leaves the channel, so joining again is flagged again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from models import audit
from models.tables import AuditEvent, Member, ProcessedRequest

JUST_ADDED = timedelta(minutes=10)


def _key(case_id: int, user_id: str) -> str:
    return f"flagged:{case_id}:{user_id}"


def flag_once(session: Session, case_id: int, user_id: str) -> bool:
    """True the first time this person is flagged in this case's channel (until they leave it)."""
    return audit.claim_once(session, _key(case_id, user_id))


def unflag(session: Session, case_id: int, user_id: str) -> None:
    audit.release(session, _key(case_id, user_id))


def flagged(session: Session, case_id: int) -> set[str]:
    prefix = _key(case_id, "")
    keys = session.exec(select(ProcessedRequest.key).where(col(ProcessedRequest.key).startswith(prefix)))
    return {key[len(prefix):] for key in keys}


def just_added(session: Session, case_id: int, now: datetime) -> set[int]:
    """Members added (or added back) in the last few minutes: their invitation to the channel may be in flight."""
    since = now - JUST_ADDED
    added = set(session.exec(select(Member.id).where(Member.case_id == case_id, col(Member.added_at) >= since)))
    return added | set(session.exec(select(AuditEvent.record_id).where(
        AuditEvent.case_id == case_id, AuditEvent.action == "member.added", col(AuditEvent.at) >= since)))


def open_case_ids(session: Session) -> list[int]:
    from models.tables import Case, CaseStatus

    return list(session.exec(select(Case.id).where(Case.status == CaseStatus.OPEN).order_by(col(Case.id))))
