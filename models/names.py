"""How a member is named where Slack does not render a mention: forms, documents and the stored record.

Slack people are recorded by the name Slack's profile gives (users.info). Until that look-up has worked, the
name recorded is their Slack id, which must never be shown as a name: `shown` says "someone on Slack (not yet
looked up)" instead, and `needing_look_up` finds them for the next look-up (their next action, or the
scheduled run; handlers/people.py). In messages a Slack person is a mention (`<@U…>`), which Slack renders.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col, select

from models import audit
from models.audit import Actor
from models.tables import Member, MemberStatus

NOT_LOOKED_UP = "someone on Slack (not yet looked up)"
MAX_NAME = 120


def known(member) -> bool:
    """False while a Slack person's name is only their id (their profile has not been read yet)."""
    user = getattr(member, "slack_user_id", None)
    name = (getattr(member, "name", None) or "").strip()
    return not user or (bool(name) and name != user)


def shown(member) -> str:
    """The member's name for a form or a document."""
    return member.name if known(member) else NOT_LOOKED_UP


def needing_look_up(session: Session, *, limit: int = 20, user_id: str | None = None,
                    case_id: int | None = None) -> list[Member]:
    """Active Slack members whose name is still their id (one person's, when `user_id` is given, in any case and
    whichever organisation their membership records; one case's, when `case_id` is)."""
    query = select(Member).where(Member.status == MemberStatus.ACTIVE, col(Member.slack_user_id).is_not(None),
                                 col(Member.name) == col(Member.slack_user_id))
    if user_id is not None:
        query = query.where(Member.slack_user_id == user_id)
    if case_id is not None:
        query = query.where(Member.case_id == case_id)
    return list(session.exec(query.order_by(col(Member.id)).limit(limit)))


def set_looked_up(session: Session, *, member_id: int, name: str, actor: Actor) -> bool:
    """Record the name Slack gave, if the member is still unnamed (a conditional update: one look-up wins)."""
    name = (name or "").strip()[:MAX_NAME]
    if not name:
        return False
    changed = session.execute(update(Member).where(
        col(Member.id) == member_id, col(Member.name) == col(Member.slack_user_id), col(Member.slack_user_id) != name)
        .values(name=name).returning(Member.case_id)).first()
    if changed is None:
        return False
    audit.record(session, actor=actor, action="member.name_from_slack", record_type="member", record_id=member_id,
                 case_id=changed[0])
    return True
