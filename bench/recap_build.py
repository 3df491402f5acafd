"""Building a meeting's record without Slack: a 20-member core group, a meeting with 40 actions.

What `/coregroup end` does before anything is posted: `models.recap.build_content` reads the meeting from the
database (attendance, written updates, every action of the case with its progress, scaling rounds and their
trend, decisions, the next meeting), and `handlers.blocks.recap.recap_messages` turns it into the messages
that will be posted (split into parts that fit Slack's limits). No Slack I/O; a real database.

The meeting: 20 members (16 professionals on Slack, 4 family members without Slack), 15 present and 5 sending
apologies with written updates (progress notes on their actions); 40 actions (30 from earlier meetings, some
done, some overdue and carried forward; 10 agreed in this meeting); three scaling questions scored by 15
people, with the previous meeting's scores for the trend; six decisions.

    .venv/bin/python -m bench.recap_build [--runs 50] [--database sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from bench.ack_latency import database
from handlers.blocks.recap import recap_messages
from models import actions, cases, decisions, meetings, scaling, updates
from models.audit import Actor
from models.cases import CaseCreate, PersonIn
from models.db import make_engine, upgrade
from models.recap import build_content
from models.tables import AttendanceStatus, Meeting, MeetingStatus
from models.updates import ProgressIn, UpdateIn

TEAM = "T0COUNCIL"
ACTOR = Actor(team_id=TEAM, user_id="U0P00")
ROLES = ("Social worker", "Health visitor", "Teacher", "GP", "Police officer", "School nurse", "Midwife",
         "Housing officer", "Family support worker", "Youth worker", "Mental health worker",
         "Drug and alcohol worker", "Domestic abuse worker", "Adult services worker", "Early years worker",
         "Designated safeguarding lead")
SENTENCE = ("Child A is settling at school and says the mornings are calmer; the family support worker has visited"
            " twice and the parents kept both appointments. ")


def make_meeting(engine, now: datetime) -> int:
    """The case, its people and a meeting in progress with everything a record reports; returns its id."""
    today = now.date()
    with Session(engine, expire_on_commit=False) as session:
        people = [PersonIn(team_id=TEAM, user_id=f"U0P{i:02d}", name=f"Practitioner {i}", role=ROLES[i],
                           is_lead=i == 0) for i in range(16)]
        case = cases.create_case(session, case_in=CaseCreate(
            reference="CP-BENCH-0100", children=[("Child A", 7), ("Child B", 4)],
            initial_conference_date=today - timedelta(weeks=14), review_conference_date=today + timedelta(weeks=10),
            frequency_weeks=6, team_id=TEAM, channel_id="C0BENCH", channel_name="cg-cp-bench-0100", people=people),
            actor=ACTOR)
        family = [cases.add_person_without_slack(session, case=case, name=name, role=role, relationship=name,
                                                 agency=None, actor=ACTOR)
                  for name, role in (("Mother of Child A", "Parent"), ("Father of Child A", "Parent"),
                                     ("Grandmother of Child A", "Family member"), ("Child A", "Young person"))]
        members = [m for m in cases.members(session, case.id) if m.slack_user_id] + family
        previous = Meeting(case_id=case.id, number=1, scheduled_start=now - timedelta(weeks=6),
                           status=MeetingStatus.ENDED, started_at=now - timedelta(weeks=6),
                           ended_at=now - timedelta(weeks=6, minutes=-90), chair_member_id=members[0].id,
                           source_key=f"meeting:{case.id}:1")
        session.add(previous)
        session.flush()
        meeting = meetings.schedule(session, case=case, start=now - timedelta(minutes=60), duration_minutes=90,
                                    location="Family centre, room 2", chair_member_id=members[1].id, actor=ACTOR,
                                    now=now - timedelta(days=7))
        owners = members[:16]
        for i in range(30):
            due = today - timedelta(days=3 + i) if i % 3 == 0 else today + timedelta(days=5 + i)
            action = actions.create(session, case_id=case.id, what=f"Action {i + 1}: " + SENTENCE[:120],
                                    owner_member_id=owners[i % 16].id, due_date=due, measure=SENTENCE[:150],
                                    safety_goal_id=None, meeting_id=previous.id, actor=ACTOR,
                                    member_id=members[0].id, now=now - timedelta(weeks=6))
            if i % 3 == 0:
                action.carried_forward = 1 + i % 4
                session.add(action)
            elif i % 5 == 0:
                actions.complete(session, action=action, actor=ACTOR, member_id=owners[i % 16].id,
                                 now=now - timedelta(days=2))
        absent = members[11:16]
        for member in absent:
            own = actions.open_for_member(session, member.id)
            updates.save_update(session, meeting=meeting, member=member, actor=ACTOR, now=now - timedelta(days=1),
                                update_in=UpdateIn(
                                    attending=False, child_views=SENTENCE * 2, contacts=SENTENCE * 2,
                                    child_seen="yes", seen_alone="no", working_well=SENTENCE, worries=SENTENCE,
                                    needs_to_happen=SENTENCE,
                                    progress=[ProgressIn(action_id=a.id, status="on_track", note=SENTENCE[:200])
                                              for a in own]))
        present = {m.id: AttendanceStatus.PRESENT for m in members[:11] + family}
        present |= {m.id: AttendanceStatus.APOLOGIES for m in absent}
        meetings.start(session, meeting=meeting, present=present, actor=ACTOR, now=now - timedelta(minutes=60))
        for q in range(3):
            question = scaling.ask(session, case_id=case.id, question=f"Question {q + 1}: how safe is Child A at"
                                   " home?", zero_means="not safe at all", ten_means="completely safe",
                                   member_id=None, actor=ACTOR, now=now - timedelta(weeks=6))
            for meeting_id, shift in ((previous.id, -1), (meeting.id, 0)):
                scaling_round = scaling.round_for(session, question_id=question.id, meeting_id=meeting_id)
                for n, member in enumerate(members[:15]):
                    scaling.record_score(session, round_id=scaling_round.id, member_id=member.id,
                                         score=max(0, min(10, 4 + (n % 5) + shift)), reason=SENTENCE[:160],
                                         to_move_up=SENTENCE[:100], actor=ACTOR)
            scaling.reveal(session, round_id=scaling.round_for(session, question_id=question.id,
                                                               meeting_id=meeting.id).id, actor=ACTOR, now=now)
        for d in range(6):
            decisions.record(session, case_id=case.id, meeting_id=meeting.id, text=f"Decision {d + 1}: " + SENTENCE,
                             member_id=members[1].id, actor=ACTOR, now=now)
        for i in range(10):
            actions.create(session, case_id=case.id, what=f"New action {i + 1}: " + SENTENCE[:120],
                           owner_member_id=owners[i].id, due_date=today + timedelta(days=14), measure=SENTENCE[:150],
                           safety_goal_id=None, meeting_id=meeting.id, actor=ACTOR, member_id=members[1].id, now=now)
        session.commit()
        return meeting.id


OUTCOME = {"key_points": SENTENCE * 4, "risk_direction": "reducing", "child_views": SENTENCE * 2, "child_missing": "",
           "parents_views": SENTENCE * 2, "recommendation": "continue",
           "next": {"start": "2027-01-08T10:00:00+00:00", "duration": 90, "location": "Family centre, room 2",
                    "chair_member_id": None}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--database", default="sqlite", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    url, drop = database(args.database)
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC).replace(microsecond=0)
    meeting_id = make_meeting(engine, now)
    timings: list[float] = []
    for _ in range(args.runs + 3):
        with Session(engine, expire_on_commit=False) as session:
            start = time.perf_counter()
            content = build_content(session, meeting_id=meeting_id, outcome=OUTCOME, today=now.date())
            messages = recap_messages(content, recap_id=1, case_id=content["case"]["id"])
            timings.append((time.perf_counter() - start) * 1000)
    timings = timings[3:]  # the first builds warm caches
    blocks = sum(len(m["blocks"]) for m in messages)
    print(f"database: {args.database}; {args.runs} builds; {len(content['shared_with'])} members,"
          f" {len(content['actions']) + len(content['new_actions'])} actions, {len(content['updates'])} written"
          f" updates, {len(content['scaling'])} scaling questions, {len(content['decisions'])} decisions ->"
          f" {len(messages)} messages, {blocks} blocks")
    p95 = sorted(timings)[int(0.95 * (len(timings) - 1))]
    print(f"median {statistics.median(timings):.1f} ms, 95th percentile {p95:.1f} ms, slowest {max(timings):.1f} ms"
          " (target under 50 ms)")
    engine.dispose()
    drop()


if __name__ == "__main__":
    main()
