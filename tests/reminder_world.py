"""A small core group seeded straight into the database, for tests of scheduled work.

The hooks in models/reminders.py are called exactly as the features call them, so the ledger holds
what the app itself would have planned. Slack people exist in the stand-in; the case channel too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlmodel import Session, select

from bot.settings import Settings
from handlers.deps import Deps
from handlers.reminders import Dispatcher
from models import reminders
from models.tables import (
    Action,
    ActionStatus,
    Case,
    Meeting,
    MeetingStatus,
    Member,
    MessageStatus,
    Recap,
    RecapStatus,
    ScheduledMessage,
)
from tests.slack_standin import SlackStandIn

PEOPLE = {
    "sw": ("U0SW", "Social Worker A", "Social worker"),
    "hv": ("U0HV", "Health Visitor A", "Health visitor"),
    "teacher": ("U0TEACH", "Teacher A", "Teacher"),
    "manager": ("U0MGR", "Team Manager A", "Team manager"),
}


def at(text: str) -> datetime:
    """An aware UTC moment from "2026-12-07T09:00"."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class World:
    engine: object
    slack: SlackStandIn
    case_id: int
    channel_id: str
    reference: str
    members: dict[str, int] = field(default_factory=dict)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def user(self, key: str) -> str:
        return PEOPLE[key][0]

    def add_member(self, key: str, *, slack: bool = True, name: str | None = None, role: str = "Parent",
                   lead: bool = False) -> int:
        user_id, person, role_name = PEOPLE.get(key, (None, name or key, role))
        with self.session() as session:
            member = Member(case_id=self.case_id, name=name or person, role=role_name if key in PEOPLE else role,
                            slack_team_id=SlackStandIn.TEAM if slack else None,
                            slack_user_id=user_id if slack else None, is_lead=lead)
            session.add(member)
            session.commit()
            self.members[key] = member.id
            return member.id

    def meeting(self, start: datetime, *, now: datetime, duration: int = 90, chair: str | None = None,
                status: str = MeetingStatus.SCHEDULED, location: str = "Room 4, Children's Centre") -> int:
        with self.session() as session:
            meeting = Meeting(case_id=self.case_id, scheduled_start=start, duration_minutes=duration,
                              location=location, status=status,
                              chair_member_id=self.members[chair] if chair else None)
            session.add(meeting)
            session.flush()
            reminders.meeting_changed(session, meeting=meeting, now=now)
            session.commit()
            return meeting.id

    def change_meeting(self, meeting_id: int, *, now: datetime, **changes) -> None:
        with self.session() as session:
            meeting = session.get(Meeting, meeting_id)
            for name, value in changes.items():
                setattr(meeting, name, value)
            session.add(meeting)
            session.flush()
            reminders.meeting_changed(session, meeting=meeting, now=now)
            session.commit()

    def post_record(self, meeting_id: int, *, now: datetime) -> None:
        """The meeting's record approved and posted, as models/recap_posting.py does it."""
        from models import recap_posting

        with self.session() as session:
            recap = Recap(meeting_id=meeting_id, content="{}", status=RecapStatus.POSTING, approved_at=now)
            session.add(recap)
            session.flush()
            recap_posting.mark_posted(session, recap_id=recap.id, now=now)
            session.commit()

    def action(self, owner: str, due: date, *, now: datetime, what: str = "Visit the family at home",
               carried_forward: int = 0) -> int:
        with self.session() as session:
            action = Action(case_id=self.case_id, what=what, owner_member_id=self.members[owner], due_date=due,
                            measure="Seen at home twice", carried_forward=carried_forward, created_at=now)
            session.add(action)
            session.flush()
            reminders.action_changed(session, action=action, now=now)
            session.commit()
            return action.id

    def change_action(self, action_id: int, *, now: datetime, **changes) -> None:
        with self.session() as session:
            action = session.get(Action, action_id)
            for name, value in changes.items():
                setattr(action, name, value)
            session.add(action)
            session.flush()
            reminders.action_changed(session, action=action, now=now)
            session.commit()

    def change_member(self, key: str, *, now: datetime, **changes) -> None:
        with self.session() as session:
            member = session.get(Member, self.members[key])
            for name, value in changes.items():
                setattr(member, name, value)
            session.add(member)
            session.flush()
            reminders.member_changed(session, member=member, now=now)
            session.commit()

    def rows(self, *, kind: str | None = None, status: str | None = None) -> list[ScheduledMessage]:
        with self.session() as session:
            query = select(ScheduledMessage).where(ScheduledMessage.case_id == self.case_id)
            if kind:
                query = query.where(ScheduledMessage.kind == kind)
            if status:
                query = query.where(ScheduledMessage.status == status)
            return list(session.exec(query.order_by(ScheduledMessage.id)))

    def pending(self, kind: str | None = None) -> list[ScheduledMessage]:
        return self.rows(kind=kind, status=MessageStatus.PENDING)

    def dms(self, key: str) -> list[dict]:
        return [m for m in self.slack.messages(self.user(key)) if m.get("user") == SlackStandIn.BOT_USER]

    def channel_posts(self, containing: str = "") -> list[dict]:
        return [m for m in self.slack.messages(self.channel_id) if containing in (m.get("text") or "")]


def make_world(engine, slack: SlackStandIn, *, now: datetime, members: tuple[str, ...] = ("sw", "hv", "teacher"),
               reference: str = "CP-TEST-0101", initial: date = date(2026, 11, 2), review: date | None = None,
               frequency: int = 6, opened: bool = False) -> World:
    """A case with a private channel and Slack members (the first is the lead social worker).
    `opened` also plans what a new case plans (lapse check, review reminder, drift summary)."""
    for key in members:
        user_id, name, _ = PEOPLE[key]
        slack.add_user(user_id, name=name)
    channel = slack.add_channel(f"cg-{reference.lower()}", is_private=True,
                                members=[PEOPLE[k][0] for k in members])
    with Session(engine, expire_on_commit=False) as session:
        case = Case(reference=reference, team_id=SlackStandIn.TEAM, channel_id=channel.id,
                    channel_name=channel.name, initial_conference_date=initial, review_conference_date=review,
                    frequency_weeks=frequency, created_by_team_id=SlackStandIn.TEAM, created_by_user_id="U0SW")
        session.add(case)
        session.commit()
        world = World(engine=engine, slack=slack, case_id=case.id, channel_id=channel.id, reference=reference)
    for index, key in enumerate(members):
        world.add_member(key, lead=index == 0)
    if opened:
        with world.session() as session:
            reminders.case_opened(session, case=session.get(Case, world.case_id), now=now)
            session.commit()
    return world


def dispatcher(engine, slack: SlackStandIn, *, timeout: int = 10, **overrides) -> Dispatcher:
    """A dispatcher for the stand-in and the test database; its clock is the real one (time-machine).
    `timeout` is its Slack client's, in seconds (bot/slack.py's default unless a test wants it short)."""
    from bot.slack import make_client

    values = dict(bot_token=SlackStandIn.BOT_TOKEN, slack_api_url=slack.url,
                  database_url=engine.url.render_as_string(hide_password=False), scheduler_interval_seconds=30)
    values.update(overrides)
    settings = Settings(**values)
    return Dispatcher(Deps(settings=settings, engine=engine), make_client(settings, timeout=timeout),
                      instance="test-instance")


def done(world: World, action_id: int, *, now: datetime) -> None:
    world.change_action(action_id, now=now, status=ActionStatus.DONE, completed_at=now)
