"""Professionals invited by work email: Slack Connect invitations until they join, and what follows.

A person from another organisation is recorded as a member with status `invited`, their work email
and Slack's invite id, before they have a Slack identity we can see. When they accept (or join the
channel), the record is linked to their team and user id and becomes active; a declined or
cancelled invitation marks it removed. The email is personal data: it is kept on the member record
only, and never written to the audit trail or a log.
"""

from __future__ import annotations

import re

from sqlalchemy import exists, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from models import audit
from models.audit import Actor
from models.cases import DomainError
from models.db import change_once
from models.tables import Case, Member, MemberStatus, is_professional
from models.types import utcnow

# Deliberately plain: one @, a dot in the domain, no spaces or mention characters.
EMAIL_PATTERN = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                           r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
MAX_EMAIL = 254
MAX_EMAILS_AT_ONCE = 20


def normalise_email(text: str | None) -> str:
    """Trim, drop a `mailto:` and the angle brackets of a pasted address, lower-case the domain."""
    value = (text or "").strip().strip("<>").strip()
    if value.lower().startswith("mailto:"):
        value = value[len("mailto:"):]
    local, at, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}" if at else value


def check_email(text: str | None, *, field: str = "email") -> str:
    """The cleaned work email, or a DomainError fit to show in the form."""
    email = normalise_email(text)
    if not email:
        raise DomainError("Please enter their work email address.", field=field)
    if len(email) > MAX_EMAIL or not EMAIL_PATTERN.match(email):
        raise DomainError("That does not look like an email address. Check it, for example"
                          " name@organisation.nhs.uk.", field=field)
    return email


def parse_emails(text: str | None, *, field: str = "emails") -> list[str]:
    """One work email a line (commas and semicolons also separate); duplicates are dropped."""
    found: list[str] = []
    for raw in re.split(r"[\n,;]+", text or ""):
        if not raw.strip():
            continue
        try:
            email = check_email(raw, field=field)
        except DomainError:
            shown = raw.strip()[:60]
            raise DomainError(f"“{shown}” does not look like an email address. Write one work email a line,"
                              " for example name@organisation.nhs.uk.", field=field) from None
        if email.lower() not in {e.lower() for e in found}:
            found.append(email)
    if len(found) > MAX_EMAILS_AT_ONCE:
        raise DomainError(f"Invite at most {MAX_EMAILS_AT_ONCE} people at once here; add more afterwards with"
                          " /coregroup members.", field=field)
    return found


def member_with_email(session: Session, case_id: int, email: str) -> Member | None:
    """An active or invited member of the case with this email (compared without case)."""
    wanted = email.lower()
    for member in session.exec(select(Member).where(Member.case_id == case_id,
                                                    Member.status != MemberStatus.REMOVED,
                                                    col(Member.email).is_not(None))):
        if (member.email or "").lower() == wanted:
            return member
    return None


def placeholder_name(role: str) -> str:
    """What an invited member is called until Slack tells us their name."""
    return f"{role} (invited by email)"[:120]


def record_invite(session: Session, *, case: Case, email: str, invite_id: str, role: str, agency: str | None,
                  manager: tuple[str, str] | None, actor: Actor) -> Member:
    """Record a Slack Connect invitation as an invited member, audited with ids only."""
    if not is_professional(role):
        raise DomainError("Choose their professional role.", field="role")
    member = Member(case_id=case.id, name=placeholder_name(role), role=role, agency=agency or None,
                    email=email, invite_id=invite_id, status=MemberStatus.INVITED)
    if manager:
        member.manager_team_id, member.manager_user_id = manager
    session.add(member)
    session.flush()
    audit.record(session, actor=actor, action="member.invited", record_type="member", record_id=member.id,
                 case_id=case.id, invite_id=invite_id, via="slack_connect")
    return member


def by_invite(session: Session, invite_id: str | None) -> Member | None:
    """The member recorded for a Slack Connect invitation, whatever their status now."""
    if not invite_id:
        return None
    return session.exec(select(Member).where(Member.invite_id == invite_id).order_by(Member.id)).first()


def invited_in_case(session: Session, case_id: int) -> list[Member]:
    return list(session.exec(select(Member).where(Member.case_id == case_id,
                                                  Member.status == MemberStatus.INVITED).order_by(Member.id)))


def _claim(session: Session, member_id: int, **values) -> bool:
    """Move an invited member on, once: only the first of several racing events wins."""
    result = session.exec(
        update(Member)
        .where(col(Member.id) == member_id, col(Member.status) == MemberStatus.INVITED)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def link(session: Session, *, member: Member, team_id: str, user_id: str, name: str | None,
         actor: Actor) -> Member | None:
    """The invited person has joined: link the record to their team and user id and make it active.

    Returns the active member when this call made the change, or None when it had already happened
    (Slack sends several events for one join) or the person was already an active member.
    If the person already had a record in this case (removed earlier), that record is brought back,
    so their history stays in one place, and the invitation record is closed.
    """
    existing = session.exec(select(Member).where(
        Member.case_id == member.case_id, Member.slack_team_id == team_id, Member.slack_user_id == user_id,
    )).first()
    if existing is not None and existing.id != member.id:
        if not _claim(session, member.id, status=MemberStatus.REMOVED, removed_at=utcnow()):
            return None
        session.refresh(member)
        if existing.status == MemberStatus.ACTIVE:
            audit.record(session, actor=actor, action="member.invite_closed", record_type="member",
                         record_id=member.id, case_id=member.case_id, active_member=existing.id)
            return None
        existing.status = MemberStatus.ACTIVE
        existing.removed_at = None
        existing.role, existing.agency = member.role, member.agency
        existing.email, existing.invite_id = member.email, member.invite_id
        existing.manager_team_id = member.manager_team_id or existing.manager_team_id
        existing.manager_user_id = member.manager_user_id or existing.manager_user_id
        if name:
            existing.name = name[:120]
        session.add(existing)
        session.flush()
        audit.record(session, actor=actor, action="member.joined", record_type="member", record_id=existing.id,
                     case_id=member.case_id, invite_id=member.invite_id, invitation_record=member.id)
        return existing
    values = {"status": MemberStatus.ACTIVE, "slack_team_id": team_id, "slack_user_id": user_id}
    if name:
        values["name"] = name[:120]
    if not _claim(session, member.id, **values):
        return None
    session.refresh(member)
    audit.record(session, actor=actor, action="member.joined", record_type="member", record_id=member.id,
                 case_id=member.case_id, invite_id=member.invite_id)
    return member


def note_identity(session: Session, *, member: Member, team_id: str, user_id: str, name: str | None,
                  actor: Actor) -> bool:
    """Accepted but still waiting for approval: remember who accepted, stay invited. True if new.

    One conditional update (`models.db.change_once`): only while the member is invited, not already noted as this
    person, and no other record in the case is this person (they are linked when they join, and their earlier
    record brought back then). Two acceptances at once, or an acceptance racing a cancellation, note it once or
    not at all."""
    others = aliased(Member)
    someone_else = exists().where(others.case_id == member.case_id, others.slack_team_id == team_id,
                                  others.slack_user_id == user_id, others.id != member.id)
    values = {"slack_team_id": team_id, "slack_user_id": user_id}
    if name:
        values["name"] = name[:120]
    if not change_once(session, Member, member.id, col(Member.status) == MemberStatus.INVITED,
                       or_(col(Member.slack_team_id).is_distinct_from(team_id),
                           col(Member.slack_user_id).is_distinct_from(user_id)),
                       ~someone_else, **values):
        return False
    audit.record(session, actor=actor, action="member.invite_accepted", record_type="member", record_id=member.id,
                 case_id=member.case_id, invite_id=member.invite_id)
    return True


def declined(session: Session, *, member: Member, actor: Actor) -> bool:
    """The invitation was declined: the member is marked removed. False if it was already settled."""
    if not _claim(session, member.id, status=MemberStatus.REMOVED, removed_at=utcnow()):
        return False
    session.refresh(member)
    audit.record(session, actor=actor, action="member.invite_declined", record_type="member",
                 record_id=member.id, case_id=member.case_id, invite_id=member.invite_id)
    return True


def cancel(session: Session, *, member: Member, actor: Actor) -> bool:
    """Someone in the core group cancelled an invitation not yet accepted. False if already settled."""
    if not _claim(session, member.id, status=MemberStatus.REMOVED, removed_at=utcnow()):
        return False
    session.refresh(member)
    audit.record(session, actor=actor, action="member.invite_cancelled", record_type="member",
                 record_id=member.id, case_id=member.case_id, invite_id=member.invite_id)
    return True
