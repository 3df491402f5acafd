"""The plan in the meeting (issue 13, item 5), end to end over signed requests: the agenda starts with the plan
("Review the plan" at meeting 1, "Are we still working to the plan?" after), the plan is in the start post's
thread, and the record and the minutes show the plan as it stood with the changes since the last meeting."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import time_machine
from sqlmodel import Session, select

from handlers.ids import Action, Block, View
from models import documents, minutes
from models.tables import Member, Recap, RecapStatus
from tests.helpers import new_case, opened_view, posted, schedule_meeting
from tests.reads import rows
from tests.recap_world import preview_value

DANGER_1 = "Child A may be hurt when the adults at home argue late at night."
DANGER_2 = "Child A may miss school and fall behind."
GOAL_1 = "Child A goes to bed in a calm home every night."
GOAL_2 = "Child A is at school every day and on time."
BOTTOM = "Child A is never left alone with the visiting adult."


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def edit_plan(people, slack, case, *, who: str = "sw", dangers=(), goals=(), bottom=()) -> None:
    people[who].click(Action.PLAN_EDIT, {"c": case.case_id}, channel=case.channel_id)
    reply = people[who].submit(opened_view(slack, View.PLAN_EDIT), {
        Block.DANGER: "\n\n".join(dangers), Block.GOAL: "\n\n".join(goals), Block.BOTTOM_LINE: "\n\n".join(bottom)})
    assert reply.body == "", reply.body


def start(people, slack, app, case, when: datetime) -> dict:
    members = rows(app, select(Member).where(Member.case_id == case.case_id))
    with time_machine.travel(when, tick=True):
        people["sw"].command("start", channel=case.channel_id)
        reply = people["sw"].submit(opened_view(slack, View.START),
                                    {f"{Block.START_ATTENDANCE}_{m.id}": "present" for m in members})
    assert reply.body == "", reply.body
    return [m for m in slack.messages(case.channel_id) if "has started" in (m.get("text") or "")][-1]


def thread_text(slack, channel: str, ts: str) -> str:
    return json.dumps([m.get("blocks") for m in slack.messages(channel) if m.get("thread_ts") == ts],
                      ensure_ascii=False)


def end(people, slack, app, case, when: datetime, next_date: str) -> dict:
    with time_machine.travel(when, tick=True):
        people["sw"].command("end", channel=case.channel_id)
        reply = people["sw"].submit(opened_view(slack, View.END), {
            Block.RECAP_KEY_POINTS: "The plan was fine-tuned.", Block.RECAP_RISK: "no_change",
            Block.RECAP_CHILD_VIEWS: "Child A says bedtime is calmer.",
            Block.RECAP_PARENTS_VIEWS: "Mother of Child A agrees with the plan.",
            Block.RECAP_RECOMMENDATION: "continue", Block.RECAP_NEXT_DATE: next_date, Block.RECAP_NEXT_TIME: "10:00"})
        assert reply.body == "", reply.body
        people["sw"].click(Action.RECAP_POST, preview_value(slack), channel=case.channel_id)
    with Session(app.engine) as session:
        recap = session.exec(select(Recap).where(Recap.status == RecapStatus.POSTED).order_by(Recap.id.desc())).first()
        return json.loads(recap.content), documents.gather(session, recap)


def record_text(slack, case) -> str:
    messages = [m for m in slack.messages(case.channel_id) if "Record of core group meeting" in (m.get("text") or "")]
    top = messages[-1]
    return json.dumps([m.get("blocks") for m in slack.messages(case.channel_id)
                       if m["ts"] == top["ts"] or m.get("thread_ts") == top["ts"]], ensure_ascii=False)


def test_the_plan_is_reviewed_at_meeting_one_and_checked_after_with_changes_in_the_record(people, slack, app):
    case = new_case(people, slack)
    edit_plan(people, slack, case, dangers=(DANGER_1,), goals=(GOAL_1,), bottom=(BOTTOM,))
    schedule_meeting(people, slack, case, date="2026-11-30", chair="sw")

    # Meeting 1: the agenda starts with reviewing the plan, and the plan is in the thread.
    post = start(people, slack, app, case, at("2026-11-30T10:00"))
    agenda = json.dumps(post["blocks"], ensure_ascii=False)
    assert "1. 10:00 to 10:10 · *Review the plan*" in agenda
    in_thread = thread_text(slack, case.channel_id, post["ts"])
    assert "Review the plan" in in_thread and DANGER_1 in in_thread and GOAL_1 in in_thread and BOTTOM in in_thread
    assert Action.PLAN_EDIT in in_thread  # everyone, from any organisation, can open the plan from here

    # The group fine-tunes the plan during the meeting: a danger statement added, the safety goal reworded.
    with time_machine.travel(at("2026-11-30T10:20"), tick=True):
        edit_plan(people, slack, case, dangers=(DANGER_1, DANGER_2), goals=(GOAL_2,), bottom=(BOTTOM,))
    content, record = end(people, slack, app, case, at("2026-11-30T11:20"), "2027-01-11")

    text = record_text(slack, case)
    assert "*The plan*" in text and "The plan as it stood at this meeting." in text
    assert DANGER_2 in text and GOAL_2 in text and BOTTOM in text
    assert "Changes to the plan at this meeting" in text
    assert f"Added (danger statement): {DANGER_2}" in text
    assert f"Added (safety goal): {GOAL_2}" in text and f"Taken out (safety goal): {GOAL_1}" in text
    assert f"Added (bottom line): {BOTTOM}" not in text  # written before the meeting: not a change at it
    # The plan sits after the progress on actions, before scaling, in the record and in the minutes alike.
    assert text.index("*Progress on actions*") < text.index("*The plan*") < text.index("*Scaling*")
    outline = minutes.minutes_outline(record)
    headings = [payload for kind, payload in outline if kind == "h1"]
    assert headings.index("Progress on actions") < headings.index("The plan") < headings.index("Scaling")
    bullets = [payload for kind, payload in outline if kind == "bullet"]
    assert DANGER_1 in bullets and f"Taken out (safety goal): {GOAL_1}" in bullets
    assert "Safety goals: what needs to be true for the child to be safe" in [p for k, p in outline if k == "h2"]

    # Between meetings the bottom line is changed; meeting 2 asks whether the group still works to the plan.
    with time_machine.travel(at("2026-12-10T09:30"), tick=True):
        edit_plan(people, slack, case, dangers=(DANGER_1, DANGER_2), goals=(GOAL_2,))
    post = start(people, slack, app, case, at("2027-01-11T10:00"))
    assert "1. 10:00 to 10:05 · *Are we still working to the plan?*" in json.dumps(post["blocks"], ensure_ascii=False)
    assert "Are we still working to the plan?" in thread_text(slack, case.channel_id, post["ts"])
    content, _ = end(people, slack, app, case, at("2027-01-11T11:20"), "2027-02-22")
    text = record_text(slack, case)
    assert "Changes to the plan since the last meeting" in text
    assert f"Taken out (bottom line): {BOTTOM}" in text
    assert f"Added (danger statement): {DANGER_2}" not in text  # reported at meeting 1 already
    assert content["plan"]["changes"] == [{"kind": "bottom_line", "text": BOTTOM, "change": "removed"}]


def test_a_record_with_no_plan_written_says_so(people, slack, app):
    case = new_case(people, slack)
    schedule_meeting(people, slack, case, date="2026-11-30", chair="sw")
    start(people, slack, app, case, at("2026-11-30T10:00"))
    end(people, slack, app, case, at("2026-11-30T11:20"), "2027-01-11")
    text = record_text(slack, case)
    assert "*The plan*" in text and "None written yet." in text and "No changes." in text
    assert posted(slack, case.channel_id, "Review the plan")
