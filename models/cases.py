"""Cases, children and members: the domain operations behind `/coregroup new` and `members`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from sqlalchemy import Engine, and_, bindparam, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models import audit
from models.audit import Actor
from models.db import OneRead, change_once
from models.tables import (
    Case,
    CaseStatus,
    Child,
    Meeting,
    Member,
    MemberStatus,
    is_professional,
)
from models.types import utcnow

REFERENCE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,39}$")
CHILD_PATTERN = re.compile(r"^(?P<label>.+?)\s*[\(\[,]?\s*(?P<age>\d{1,2})\s*[\)\]]?$")
MAX_CHILDREN = 12


class DomainError(ValueError):
    """Bad input or a conflict, with a message fit to show the person who caused it."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def normalise_reference(text: str) -> str:
    return re.sub(r"\s+", "", text or "").upper()


def check_reference(reference: str) -> str:
    ref = normalise_reference(reference)
    if not REFERENCE_PATTERN.match(ref):
        raise DomainError(
            "Use the case reference from your case management system: 3 to 40 letters, numbers"
            " and hyphens, for example CP-2026-0142.",
            field="reference",
        )
    return ref


def channel_name_for(reference: str) -> str:
    """A channel name from the case reference only, never from a child's name."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", reference.lower()).strip("-")
    return f"cg-{slug}"[:80]


def parse_children(text: str) -> list[tuple[str, int | None]]:
    """Parse one child a line: a label and an age, e.g. "Child A (7)"."""
    children: list[tuple[str, int | None]] = []
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        match = CHILD_PATTERN.match(line)
        if not match:
            raise DomainError(
                f"Could not read “{line[:40]}”. Write one child a line as a label and an age,"
                " for example “Child A (7)”. Please do not use the child's name.",
                field="children",
            )
        label = match.group("label").strip(" ,-([")
        if not label:
            raise DomainError("Each child needs a label, for example “Child A (7)”.", field="children")
        if len(label) > 60:
            raise DomainError("Keep each child's label under 60 characters.", field="children")
        children.append((label, int(match.group("age"))))
    if not children:
        raise DomainError("Add at least one child, for example “Child A (7)”.", field="children")
    if len(children) > MAX_CHILDREN:
        raise DomainError(f"A case can have at most {MAX_CHILDREN} children here.", field="children")
    return children


@dataclass
class PersonIn:
    """A Slack person joining a core group."""

    team_id: str
    user_id: str
    name: str
    role: str = "Other professional"
    agency: str | None = None
    is_lead: bool = False


@dataclass
class CaseCreate:
    reference: str
    children: list[tuple[str, int | None]]
    initial_conference_date: date
    review_conference_date: date | None
    frequency_weeks: int
    team_id: str
    channel_id: str
    channel_name: str
    people: list[PersonIn] = field(default_factory=list)


def check_case_dates(initial: date, review: date | None, frequency_weeks: int) -> None:
    if not 1 <= frequency_weeks <= 12:
        raise DomainError("Meet at least every 12 weeks; most core groups meet every 4 to 6.", field="frequency")
    if review is not None and review <= initial:
        raise DomainError("The review conference must be after the initial conference.", field="review")


def reference_in_use(session: Session, reference: str) -> bool:
    return session.exec(select(Case.id).where(Case.reference == reference)).first() is not None


def create_case(session: Session, *, case_in: CaseCreate, actor: Actor) -> Case:
    """Create the case, its children and its Slack members in the caller's transaction."""
    case = Case(
        reference=case_in.reference,
        team_id=case_in.team_id,
        channel_id=case_in.channel_id,
        channel_name=case_in.channel_name,
        initial_conference_date=case_in.initial_conference_date,
        review_conference_date=case_in.review_conference_date,
        frequency_weeks=case_in.frequency_weeks,
        created_by_team_id=actor.team_id or "",
        created_by_user_id=actor.user_id or "",
    )
    session.add(case)
    session.flush()
    for position, (label, age) in enumerate(case_in.children):
        session.add(Child(case_id=case.id, label=label, age=age, position=position))
    seen: set[tuple[str, str]] = set()
    for person in case_in.people:
        if (person.team_id, person.user_id) in seen:
            continue
        seen.add((person.team_id, person.user_id))
        member = Member(
            case_id=case.id,
            name=person.name,
            role=person.role,
            agency=person.agency,
            slack_team_id=person.team_id,
            slack_user_id=person.user_id,
            is_lead=person.is_lead,
        )
        session.add(member)
    session.flush()
    audit.record(session, actor=actor, action="case.created", record_type="case", record_id=case.id,
                 case_id=case.id)
    return case


def get_case(session: Session, case_id: int) -> Case | None:
    return session.get(Case, case_id)


def case_for_channel(session: Session, channel_id: str | None) -> Case | None:
    if not channel_id:
        return None
    return session.exec(select(Case).where(Case.channel_id == channel_id)).first()


def active_member(session: Session, case_id: int, team_id: str | None, user_id: str | None) -> Member | None:
    """The person's active membership of the case, or None. Team and user id together."""
    if not team_id or not user_id:
        return None
    return session.exec(
        select(Member).where(
            Member.case_id == case_id,
            Member.slack_team_id == team_id,
            Member.slack_user_id == user_id,
            Member.status == MemberStatus.ACTIVE,
        )
    ).first()


# The person's active membership of a case, joined to the case: the check before every answer. Built once, with
# the ids as parameters, so that each check only runs it.
_ACTIVE_MEMBER = and_(col(Member.case_id) == col(Case.id), col(Member.slack_team_id) == bindparam("team"),
                      col(Member.slack_user_id) == bindparam("user"), col(Member.status) == MemberStatus.ACTIVE)
_CASE_AND_MEMBER = select(Case, Member).outerjoin(Member, _ACTIVE_MEMBER).where(col(Case.id) == bindparam("case")
                                                                                 ).limit(1)


def case_and_member(session: Session, case_id: int, team_id: str | None, user_id: str | None
                    ) -> tuple[Case | None, Member | None]:
    """The case and the person's active membership of it (None for either that is not there), in one query:
    this is the check before every answer, so it is kept to one round trip."""
    if not team_id or not user_id:
        return session.get(Case, case_id), None
    row = session.execute(_CASE_AND_MEMBER, {"case": case_id, "team": team_id, "user": user_id}).first()
    return (None, None) if row is None else (row[0], row[1])


class Standing(NamedTuple):
    """Where a person stands on a case, and the state of one of its meetings: what a busy form is checked
    against before it is answered. None where there is no such case, active membership or meeting."""

    case_id: int | None
    case_status: str | None
    channel_id: str | None
    member_id: int | None
    meeting_id: int | None
    meeting_status: str | None


_STANDING = OneRead(
    select(col(Case.id), col(Case.status), col(Case.channel_id), col(Member.id), col(Meeting.id),
           col(Meeting.status))
    .select_from(Case)
    .outerjoin(Member, _ACTIVE_MEMBER)
    .outerjoin(Meeting, and_(col(Meeting.case_id) == col(Case.id), col(Meeting.id) == bindparam("meeting")))
    .where(col(Case.id) == bindparam("case"))
    .limit(1)
)


NO_STANDING = Standing(None, None, None, None, None, None)


def standing(engine: Engine, case_id: int | None, team_id: str | None, user_id: str | None,
             meeting_id: int | None = None) -> Standing:
    """The person's standing on the case and the meeting's state, in one statement that reads columns only
    (models.db.OneRead): twenty people send their updates in the same minute before a meeting. No case id, no
    case (and no statement)."""
    if case_id is None:
        return NO_STANDING
    row = _STANDING.first(engine, case=case_id, team=team_id or None, user=user_id or None, meeting=meeting_id)
    return NO_STANDING if row is None else Standing(*row)


def cases_for_person(session: Session, team_id: str, user_id: str, *, open_only: bool = True) -> list[Case]:
    query = (
        select(Case)
        .join(Member, col(Member.case_id) == col(Case.id))
        .where(
            Member.slack_team_id == team_id,
            Member.slack_user_id == user_id,
            Member.status == MemberStatus.ACTIVE,
        )
        .order_by(Case.reference)
    )
    if open_only:
        query = query.where(Case.status == CaseStatus.OPEN)
    return list(session.exec(query))


def children(session: Session, case_id: int) -> list[Child]:
    return list(session.exec(select(Child).where(Child.case_id == case_id).order_by(Child.position)))


def members(session: Session, case_id: int, *, include_removed: bool = False) -> list[Member]:
    query = select(Member).where(Member.case_id == case_id)
    if not include_removed:
        query = query.where(Member.status != MemberStatus.REMOVED)
    return list(session.exec(query.order_by(Member.id)))


def professionals(session: Session, case_id: int) -> list[Member]:
    return [m for m in members(session, case_id) if m.status == MemberStatus.ACTIVE and is_professional(m.role)]


def lead_member(session: Session, case_id: int) -> Member | None:
    for member in members(session, case_id):
        if member.is_lead and member.status == MemberStatus.ACTIVE:
            return member
    return None


def add_slack_member(
    session: Session, *, case: Case, person: PersonIn, actor: Actor,
    manager: tuple[str, str] | None = None, relationship: str | None = None,
) -> tuple[Member, bool]:
    """Add (or bring back) a Slack person. Returns the member and whether they were not active before."""
    def find() -> Member | None:
        return session.exec(select(Member).where(
            Member.case_id == case.id, Member.slack_team_id == person.team_id, Member.slack_user_id == person.user_id,
        )).first()

    existing = find()
    if existing is None:  # new: the unique (case, person) decides between two people adding them at once
        created = Member(case_id=case.id, slack_team_id=person.team_id, slack_user_id=person.user_id,
                         name=person.name, role=person.role)
        savepoint = session.begin_nested()
        try:
            session.add(created)
            session.flush()
        except IntegrityError:
            savepoint.rollback()
            existing = find()
            if existing is None:
                raise
        else:
            savepoint.commit()
    if existing is None:
        member, newly_active = created, True
    else:  # back (or still) in the group: made active by one conditional update, so announced once
        member = existing
        newly_active = existing.status != MemberStatus.ACTIVE and change_once(
            session, Member, existing.id, Member.status != MemberStatus.ACTIVE, status=MemberStatus.ACTIVE,
            removed_at=None)
    if person.name and (person.name != person.user_id or not member.name):  # an id never replaces a known name
        member.name = person.name
    member.role = person.role
    member.agency = person.agency
    member.relationship = relationship
    member.status = MemberStatus.ACTIVE
    member.removed_at = None
    if manager:
        member.manager_team_id, member.manager_user_id = manager
    session.add(member)
    session.flush()
    audit.record(session, actor=actor, action="member.added", record_type="member", record_id=member.id,
                 case_id=case.id)
    return member, newly_active


def add_person_without_slack(
    session: Session, *, case: Case, name: str, role: str, relationship: str | None, agency: str | None,
    actor: Actor,
) -> Member:
    member = Member(case_id=case.id, name=name, role=role, relationship=relationship, agency=agency)
    session.add(member)
    session.flush()
    audit.record(session, actor=actor, action="member.added", record_type="member", record_id=member.id,
                 case_id=case.id)
    return member


def update_member(
    session: Session, *, member: Member, actor: Actor, role: str | None = None, agency: str | None = None,
    manager: tuple[str, str] | bool | None = False, away_until: date | bool | None = False, name: str | None = None,
) -> bool:
    """Change a member's details; `False` leaves manager and away date as they are, `None` the name.

    One conditional update (`models.db.change_once`): it changes a member not removed, and only if something
    differs. True for the call that changed the row (audited once); False when they were removed meanwhile or the
    details were already these (two simultaneous identical forms change them once)."""
    values: dict = {}
    if name:
        values["name"] = name[:120]
    if role is not None:
        values["role"] = role
    if agency is not None:
        values["agency"] = agency or None
    if manager is not False:
        values["manager_team_id"], values["manager_user_id"] = manager if manager else (None, None)
    if away_until is not False:
        values["away_until"] = away_until or None
    if not values:
        return False
    differs = or_(*(getattr(Member, column).is_distinct_from(value) for column, value in values.items()))
    if not change_once(session, Member, member.id, Member.status != MemberStatus.REMOVED, differs, **values):
        return False
    audit.record(session, actor=actor, action="member.changed", record_type="member", record_id=member.id,
                 case_id=member.case_id)
    return True


def remove_member(session: Session, *, member: Member, actor: Actor) -> bool:
    """Mark a member removed; their history (updates, scores, actions) is kept.

    One conditional update: False when they were removed already (by a simultaneous event, the channel
    check or another person), and then nothing is recorded again."""
    if not change_once(session, Member, member.id, Member.status != MemberStatus.REMOVED,
                       status=MemberStatus.REMOVED, removed_at=utcnow()):
        return False
    audit.record(session, actor=actor, action="member.removed", record_type="member", record_id=member.id,
                 case_id=member.case_id)
    return True
