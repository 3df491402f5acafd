"""Rows for domain tests of scaling, decisions and actions: a case, its members, and meetings.

Meetings are inserted directly (the meetings feature has its own tests), with a status and a start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlmodel import Session

from models.audit import Actor
from models.tables import Case, Child, Meeting, MeetingStatus, Member, PlanItem, PlanItemKind

ACTOR = Actor(team_id="T0COUNCIL", user_id="U0SW")
NOW = datetime(2026, 12, 8, 10, 30, tzinfo=UTC)


@dataclass
class World:
    case: Case
    sw: Member
    hv: Member
    teacher: Member
    parent: Member
    child: Child


def make_world(session: Session, reference: str = "CP-TEST-0101") -> World:
    case = Case(reference=reference, team_id="T0COUNCIL", channel_id=f"C{reference[-4:]}",
                initial_conference_date=date(2026, 11, 16), created_by_team_id="T0COUNCIL",
                created_by_user_id="U0SW")
    session.add(case)
    session.flush()
    sw = Member(case_id=case.id, name="Social Worker A", role="Social worker", slack_team_id="T0COUNCIL",
                slack_user_id="U0SW", is_lead=True)
    hv = Member(case_id=case.id, name="Health Visitor A", role="Health visitor", slack_team_id="T0COUNCIL",
                slack_user_id="U0HV")
    teacher = Member(case_id=case.id, name="Teacher A", role="Teacher", slack_team_id="T0COUNCIL",
                     slack_user_id="U0TEACH")
    parent = Member(case_id=case.id, name="Mother of Child A", role="Parent")
    child = Child(case_id=case.id, label="Child A", age=7)
    session.add_all([sw, hv, teacher, parent, child])
    session.flush()
    return World(case=case, sw=sw, hv=hv, teacher=teacher, parent=parent, child=child)


def make_meeting(session: Session, case: Case, start: datetime, *, status: str = MeetingStatus.IN_PROGRESS,
                 chair: Member | None = None, number: int = 1) -> Meeting:
    meeting = Meeting(case_id=case.id, number=number, scheduled_start=start, status=status,
                      chair_member_id=chair.id if chair else None,
                      started_at=start if status in (MeetingStatus.IN_PROGRESS, MeetingStatus.ENDED) else None)
    session.add(meeting)
    session.flush()
    return meeting


def make_plan_item(session: Session, case: Case, kind: str, text: str) -> PlanItem:
    item = PlanItem(case_id=case.id, kind=kind, text=text)
    session.add(item)
    session.flush()
    return item


GOAL = PlanItemKind.GOAL
DANGER = PlanItemKind.DANGER


# --- for end-to-end tests (the app's own engine; rows inserted as the meetings feature would) -------


def insert_meeting(engine, case_id: int, *, start: datetime | None = None, status: str = MeetingStatus.IN_PROGRESS,
                   chair_user: str | None = None, channel_id: str | None = None, message_ts: str | None = None,
                   number: int = 1) -> int:
    from sqlmodel import select

    start = start or datetime.now(UTC).replace(microsecond=0)
    with Session(engine, expire_on_commit=False) as session:
        chair = None
        if chair_user:
            chair = session.exec(select(Member).where(Member.case_id == case_id,
                                                      Member.slack_user_id == chair_user)).one()
        meeting = Meeting(case_id=case_id, number=number, scheduled_start=start, status=status,
                          chair_member_id=chair.id if chair else None, channel_id=channel_id, message_ts=message_ts,
                          started_at=start if status != MeetingStatus.SCHEDULED else None)
        session.add(meeting)
        session.commit()
        return meeting.id


def set_meeting_status(engine, meeting_id: int, status: str) -> None:
    with Session(engine) as session:
        meeting = session.get(Meeting, meeting_id)
        meeting.status = status
        session.add(meeting)
        session.commit()


def member_id(engine, case_id: int, user_id: str) -> int:
    from sqlmodel import select

    with Session(engine) as session:
        return session.exec(select(Member.id).where(Member.case_id == case_id, Member.slack_user_id == user_id)).one()


def add_offline_member(engine, case_id: int, name: str = "Mother of Child A", role: str = "Parent") -> int:
    with Session(engine, expire_on_commit=False) as session:
        member = Member(case_id=case_id, name=name, role=role)
        session.add(member)
        session.commit()
        return member.id


def button(message: dict, action_id: str) -> tuple[str, dict]:
    """The (value, message) to click a button of `action_id` on a posted message."""
    import json

    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("action_id") == action_id:
                return element.get("value"), message
        accessory = block.get("accessory") or {}
        if accessory.get("action_id") == action_id:
            return accessory.get("value"), message
    raise AssertionError(f"no {action_id} button on the message: {json.dumps(message)[:500]}")
