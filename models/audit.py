"""The audit trail and once-only request keys."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, delete, select

from models.tables import AuditEvent, ProcessedRequest


@dataclass(frozen=True)
class Actor:
    """Who did something: a Slack person (team and user id), or the app itself."""

    team_id: str | None
    user_id: str | None

    @classmethod
    def app(cls) -> Actor:
        return cls(team_id=None, user_id="coregroup")


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    record_type: str,
    record_id: int | None,
    case_id: int | None,
    **ids: int | str | None,
) -> AuditEvent:
    """Append an audit event in the caller's transaction. `ids` are identifiers, never case text."""
    event = AuditEvent(
        case_id=case_id,
        actor_team_id=actor.team_id,
        actor_user_id=actor.user_id,
        action=action,
        record_type=record_type,
        record_id=record_id,
        detail=json.dumps(ids, sort_keys=True, default=str) if ids else None,
    )
    session.add(event)
    return event


def trail(session: Session, case_id: int) -> list[AuditEvent]:
    return list(
        session.exec(select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id))
    )


def claim_once(session: Session, key: str) -> bool:
    """Claim a delivery key inside the caller's transaction; False if it was already claimed.

    The primary key makes this hold across threads, retries and instances: the second claimant's
    insert fails on the constraint, not on a check that could race.
    """
    savepoint = session.begin_nested()
    try:
        session.add(ProcessedRequest(key=key[:200]))
        session.flush()
    except IntegrityError:
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def release(session: Session, key: str) -> None:
    """Give back a claim whose work was not done (Slack refused it), so that the same form, corrected and
    sent again, is acted on. Only for claims taken before calling Slack, in their own transaction."""
    session.exec(delete(ProcessedRequest).where(ProcessedRequest.key == key[:200]))
