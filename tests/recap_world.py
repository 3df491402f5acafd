"""A meeting in progress with everything a recap reports, made through the features' own domain functions.

Used by the recap tests: the case comes from `/coregroup new` (tests.helpers.new_case); the meeting,
its updates, scores, decisions and actions are written here directly, as the other features would.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, select

from handlers.ids import Action
from models import actions, cases, decisions, meetings, scaling, updates
from models.audit import Actor
from models.tables import AttendanceStatus, Case, Meeting, MeetingStatus, Member
from models.updates import ProgressIn, UpdateIn

TEAM = "T0COUNCIL"


@dataclass
class Plan:
    """What to put in the meeting; the defaults make an ordinary meeting."""

    chair: str = "hv"
    present: tuple[str, ...] = ("sw", "hv", "teacher", "police")
    apologies: tuple[str, ...] = ("gp",)
    updates_from: tuple[str, ...] = ("gp",)
    scores: bool = True
    decisions: tuple[str, ...] = ("Child A will attend the after-school club on Tuesdays.",)
    old_actions: int = 3
    new_actions: int = 1
    long: int = 0  # when set, every free-text field is this long (each one different)
    what: str = "Arrange a home visit"


@dataclass
class World:
    case_id: int
    channel_id: str
    meeting_id: int
    previous_id: int
    members: dict[str, int] = field(default_factory=dict)
    question: str = ""
    action_ids: list[int] = field(default_factory=list)
    new_action_ids: list[int] = field(default_factory=list)


def running_meeting(engine, info, people: dict, plan: Plan | None = None, *, now: datetime | None = None) -> World:
    """A meeting in progress (started 30 minutes ago) for the case `info`, with an earlier ended meeting."""
    plan = plan or Plan()
    now = now or datetime.now(UTC)
    actor = Actor(team_id=TEAM, user_id=people["sw"].user_id)
    today = now.date()

    def text(default: str) -> str:
        return long_text(default, plan.long) if plan.long else default

    with Session(engine, expire_on_commit=False) as session:
        case = session.get(Case, info.case_id)
        by_user = {m.slack_user_id: m for m in cases.members(session, case.id)}
        members = {key: by_user[user.user_id] for key, user in people.items() if user.user_id in by_user}
        for member in members.values():
            member.role = {"U0SW": "Social worker", "U0HV": "Health visitor", "U0TEACH": "Teacher", "U0GP": "GP",
                           "U0POL": "Police officer"}.get(member.slack_user_id, member.role)
            session.add(member)
        members["parent"] = cases.add_person_without_slack(session, case=case, name="Mother of Child A",
                                                          role="Parent", relationship="Mother", agency=None,
                                                          actor=actor)
        previous = Meeting(case_id=case.id, number=1, scheduled_start=now - timedelta(days=42),
                           status=MeetingStatus.ENDED, started_at=now - timedelta(days=42),
                           ended_at=now - timedelta(days=42) + timedelta(minutes=90),
                           chair_member_id=members["sw"].id, source_key=f"meeting:{case.id}:1")
        session.add(previous)
        session.flush()
        meeting = meetings.schedule(session, case=case, start=now - timedelta(minutes=30), duration_minutes=90,
                                    location="Family centre, room 2", chair_member_id=members[plan.chair].id,
                                    actor=actor, now=now - timedelta(days=7))
        world = World(case_id=case.id, channel_id=info.channel_id, meeting_id=meeting.id, previous_id=previous.id,
                      members={k: m.id for k, m in members.items()})
        owners = [members[k] for k in ("hv", "gp", "teacher", "parent")]
        for i in range(plan.old_actions):
            owner = owners[i % len(owners)]
            due = today - timedelta(days=3) if i % 3 == 0 else today + timedelta(days=10 + i)
            action = actions.create(session, case_id=case.id, what=text(f"{plan.what} {i + 1}"),
                                    owner_member_id=owner.id, due_date=due, measure=text(f"Measure {i + 1}"),
                                    safety_goal_id=None, meeting_id=previous.id if i % 2 else None, actor=actor,
                                    member_id=members["sw"].id, now=now - timedelta(days=40))
            if i % 3 == 0:
                action.carried_forward = 2
                session.add(action)
            if i % 3 == 2:
                actions.complete(session, action=action, actor=actor, member_id=owner.id, now=now - timedelta(days=2))
            world.action_ids.append(action.id)
        for key in plan.updates_from:
            member = members[key]
            own = actions.open_for_member(session, member.id)
            update = UpdateIn(attending=False, child_views=text("Child A said school is better now."),
                              contacts=text("Two home visits."), child_seen="yes", seen_alone="no",
                              working_well=text("Mum is taking Child A to school."), worries=text("Rent arrears."),
                              needs_to_happen=text("A referral for money advice."),
                              progress=[ProgressIn(action_id=a.id, status="delayed", note=text("Waiting for a date."))
                                        for a in own])
            updates.save_update(session, meeting=meeting, member=member, update_in=update, actor=actor,
                                now=now - timedelta(days=1))
        attendance = {members[k].id: AttendanceStatus.PRESENT for k in plan.present}
        attendance |= {members[k].id: AttendanceStatus.APOLOGIES for k in plan.apologies}
        attendance[members["parent"].id] = AttendanceStatus.PRESENT if plan.present else AttendanceStatus.ABSENT
        meetings.start(session, meeting=meeting, present=attendance, actor=actor, now=now - timedelta(minutes=30))
        if plan.scores:
            question = scaling.ask(session, case_id=case.id, question="How safe is Child A at home?",
                                   zero_means="not safe at all", ten_means="completely safe", member_id=None,
                                   actor=actor, now=now - timedelta(days=42))
            world.question = question.question
            earlier = scaling.round_for(session, question_id=question.id, meeting_id=previous.id)
            for key, score in (("sw", 3), ("hv", 4), ("teacher", 4)):
                scaling.record_score(session, round_id=earlier.id, member_id=members[key].id, score=score,
                                     reason="Early days.", to_move_up="", actor=actor)
            current = scaling.round_for(session, question_id=question.id, meeting_id=meeting.id)
            for key, score in (("sw", 5), ("hv", 8), ("teacher", 4), ("police", 6)):
                scaling.record_score(session, round_id=current.id, member_id=members[key].id, score=score,
                                     reason=text(f"Reason of {key}."), to_move_up=text("Regular school."), actor=actor)
            scaling.reveal(session, round_id=current.id, actor=actor, now=now)
            school = scaling.ask(session, case_id=case.id, question="How well is Child A doing at school?",
                                 zero_means="not attending", ten_means="attending and happy", member_id=None,
                                 actor=actor, now=now)
            asked = scaling.round_for(session, question_id=school.id, meeting_id=meeting.id)
            for key, score in (("teacher", 6), ("sw", 6)):
                scaling.record_score(session, round_id=asked.id, member_id=members[key].id, score=score,
                                     reason=text(f"School reason of {key}."), to_move_up="", actor=actor)
        for decision in plan.decisions:
            decisions.record(session, case_id=case.id, meeting_id=meeting.id, text=text(decision),
                             member_id=members["sw"].id, actor=actor, now=now)
        for i in range(plan.new_actions):
            action = actions.create(session, case_id=case.id, what=text(f"New action {i + 1}"),
                                    owner_member_id=owners[i % len(owners)].id, due_date=today + timedelta(days=14),
                                    measure=text(f"New measure {i + 1}"), safety_goal_id=None, meeting_id=meeting.id,
                                    actor=actor, member_id=members["sw"].id, now=now)
            world.new_action_ids.append(action.id)
        session.commit()
    return world


def long_text(label: str, length: int) -> str:
    """`label` followed by numbered words up to `length` characters: unique, and easy to find again."""
    slug = "".join(ch for ch in label.lower() if ch.isalnum())[:12]
    words, i = [label], 0
    while len(" ".join(words)) < length - 20:
        i += 1
        words.append(f"{slug}{i}")
    return " ".join(words)[:length]


def member_id(engine, case_id: int, user_id: str) -> int:
    with Session(engine) as session:
        return session.exec(select(Member.id).where(Member.case_id == case_id, Member.slack_user_id == user_id)).one()


# --- reading what reached Slack -----------------------------------------------------------------------


def _buttons(blocks: list[dict]) -> dict[str, str]:
    found = {}
    for block in blocks or []:
        if block.get("type") == "actions":
            for element in block.get("elements", []):
                found[element.get("action_id")] = element.get("value")
    return found


def preview_value(slack, action_id: str = Action.RECAP_POST) -> dict:
    """The value of a button on the newest preview the chair was shown."""
    for call in reversed(slack.calls):
        if call.method in ("chat.postEphemeral", "chat.postMessage") and call.response.get("ok"):
            value = _buttons(call.args.get("blocks")).get(action_id)
            if value:
                return json.loads(value)
    raise AssertionError(f"no preview with {action_id} was shown")


def preview_calls(slack) -> list:
    return [c for c in slack.calls if c.method == "chat.postEphemeral" and "Preview" in (c.args.get("text") or "")]


def recap_messages_in(slack, channel: str, recap_id: int | None = None) -> list[dict]:
    """Messages in the channel that carry a recap's metadata, in order (thread replies included)."""
    found = []
    for message in slack.messages(channel):
        metadata = message.get("metadata") or {}
        if metadata.get("event_type") == "coregroup_recap" and (
                recap_id is None or metadata["event_payload"]["recap_id"] == recap_id):
            found.append(message)
    return found


def plain_text(messages: list[dict]) -> str:
    """The text of every section, in order, whitespace made single: to check that nothing was dropped.

    Context lines ("continued", "read by") and buttons are left out, so text split across messages joins up.
    """
    texts = []
    for message in messages:
        for block in message.get("blocks") or []:
            if block.get("type") == "section":
                texts += [block["text"]["text"]] if block.get("text") else []
                texts += [field["text"] for field in block.get("fields") or []]
    return " ".join(" ".join(texts).split())


def squash(text: str) -> str:
    return " ".join(text.split())


def day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"
