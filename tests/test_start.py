"""`/coregroup start` end to end: the chair checks attendance, the agenda is posted with time boxes."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
import time_machine
from sqlmodel import select

from handlers.ids import Action, Block, View
from models.agenda import ITEMS
from models.tables import Attendance, AttendanceStatus, Meeting, MeetingStatus, Member
from tests.helpers import ephemeral_texts, new_case, opened_view, posted, schedule_meeting
from tests.reads import get, one, rows

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
MEETING_DAY = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # 10:00 in London (GMT)


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(MONDAY, tick=True):
        yield


@pytest.fixture
def planned(people, slack):
    """A case with four professionals; Health Visitor A chairs; the teacher sends apologies and an update."""
    case = new_case(people, slack, members=("hv", "teacher", "gp"))
    meeting = schedule_meeting(people, slack, case, date="2026-11-30", chair="hv", length=90)
    value = {"c": case.case_id, "m": meeting.id}
    people["gp"].click(Action.ATTENDING, value, channel=case.channel_id)
    people["teacher"].click(Action.SEND_APOLOGIES, value, channel=case.channel_id)
    people["teacher"].submit(opened_view(slack, View.UPDATE), {
        Block.UPDATE_CHILD_VIEWS: "Child A says playtime is the best part of the day.",
        Block.UPDATE_WORRIES: "Child A came to school hungry twice."})
    return case, meeting


def ids(app, case) -> dict[str, int]:
    members = rows(app, select(Member).where(Member.case_id == case.case_id))
    names = {"U0SW": "sw", "U0HV": "hv", "U0TEACH": "teacher", "U0GP": "gp", None: "parent"}
    return {names[m.slack_user_id]: m.id for m in members if m.slack_user_id in names}


def choices(view: dict) -> dict[int, str | None]:
    """Each person on the start form and what is filled in for them (None: not marked)."""
    found = {}
    for block in view["blocks"]:
        if block.get("block_id", "").startswith(f"{Block.START_ATTENDANCE}_"):
            found[int(block["block_id"].rsplit("_", 1)[1])] = (block["element"].get("initial_option") or {}).get(
                "value")
    return found


def add_parent(people, slack, case) -> None:
    """A parent who does not use Slack, added through the members list as the social worker would."""
    people["sw"].command("members", channel=case.channel_id)
    members_list = opened_view(slack, "members_list")
    people["sw"].click(Action.MEMBERS_ADD_OFFLINE, {"c": case.case_id}, view=members_list)
    reply = people["sw"].submit(opened_view(slack, View.MEMBER_ADD_OFFLINE),
                                {Block.NAME: "Mother of Child A", Block.ROLE: "Parent", Block.RELATIONSHIP: "Mother"})
    assert reply.body == ""


def field(block: str, member_id: int) -> str:
    return f"{block}_{member_id}"


def thread(slack, channel: str, ts: str) -> list[dict]:
    return [m for m in slack.messages(channel) if m.get("thread_ts") == ts and m["ts"] != ts]


def test_only_the_chair_or_the_lead_social_worker_can_start(people, slack, app, planned):
    case, meeting = planned
    slack.reset()
    people["teacher"].command("start", channel=case.channel_id)
    assert slack.calls_to("views.open") == []
    assert any("Only the chair of this meeting (<@U0HV>)" in t for t in ephemeral_texts(slack))
    people["sw"].command("start", channel=case.channel_id)  # the lead social worker stands in
    assert opened_view(slack, View.START)
    people["hv"].command("start", channel=case.channel_id)
    view = opened_view(slack, View.START)
    # A view opened by the chair cannot be submitted by someone else.
    refused = people["teacher"].submit(view).json()
    assert refused["response_action"] == "update" and "Only the chair" in json.dumps(refused["view"])
    assert get(app, Meeting, meeting.id).status == MeetingStatus.SCHEDULED


def test_chair_starts_with_attendance_from_the_replies_and_the_agenda_is_posted(people, slack, app, planned):
    case, meeting = planned
    member = ids(app, case)
    with time_machine.travel(MEETING_DAY, tick=True):
        people["hv"].command("start", channel=case.channel_id)
        view = opened_view(slack, View.START)
        # Only what people said: attending → present, apologies → apologies; the chair is here; nobody else is
        # guessed (the lead social worker did not reply).
        assert choices(view) == {member["sw"]: None, member["hv"]: "present", member["teacher"]: "apologies",
                                 member["gp"]: "present"}
        hints = json.dumps([b.get("hint") for b in view["blocks"]])
        assert "Sent a written update" in hints and "Not marked yet" in hints
        # The chair marks the social worker, who is here.
        reply = people["hv"].submit(view, {field(Block.START_ATTENDANCE, member["sw"]): "present"})
    assert reply.body == ""
    started = get(app, Meeting, meeting.id)
    assert started.status == MeetingStatus.IN_PROGRESS and started.started_at >= MEETING_DAY
    assert started.chaired_by_member_id == member["hv"]
    attendance = {a.member_id: a.status for a in rows(app, select(Attendance))}
    assert attendance == {member["sw"]: "present", member["hv"]: "present", member["gp"]: "present",
                          member["teacher"]: "apologies"}

    post = posted(slack, case.channel_id, "Core group meeting 1 has started")[-1]
    text = "\n".join(b["text"]["text"] for b in post["blocks"] if b["type"] == "section")
    assert "*Apologies:* <@U0TEACH>" in text
    assert "*Absent:*" not in text and "nobody" not in text  # no empty lines
    # Changed with issue 13: the plan is on the agenda, first ("Review the plan" at meeting 1).
    titles = ["Review the plan", *(title for title, _ in ITEMS)]
    positions = [text.index(f"*{title}*") for title in titles]
    assert positions == sorted(positions)  # the guidance's order
    minutes = [int(m) for m in re.findall(r"\((\d+) minutes\)\n?", text.split("*Agenda*")[1])]
    assert len(minutes) == len(titles) and sum(minutes) == 90
    assert "1. 10:00 to 10:10 · *Review the plan*" in text
    assert "2. 10:10 to 10:15 · *Updates from those unable to attend*" in text
    assert "10. 11:25 to 11:30 · *Next meeting*" in text

    replies = thread(slack, case.channel_id, post["ts"])
    thread_text = json.dumps([m["blocks"] for m in replies])
    assert "Written views of those who were not able to attend" in thread_text
    assert "playtime is the best part of the day" in thread_text and "came to school hungry" in thread_text
    # The meeting's own message no longer takes replies.
    original = next(m for m in slack.messages(case.channel_id) if m["ts"] == meeting.message_ts)
    assert "This meeting has started" in json.dumps(original["blocks"])
    # No reply buttons any more: only the chair's buttons to run the meeting.
    buttons = [e["action_id"] for b in original["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons == [Action.SCALE_START, Action.DECISION_START, Action.CHAIR_ACTION, Action.FAMILY_VIEWS,
                       Action.MEETING_END]


def test_when_nobody_sent_an_update_the_thread_says_so(people, slack, app):
    case = new_case(people, slack)
    meeting = schedule_meeting(people, slack, case, date="2026-11-30")
    people["teacher"].click(Action.SEND_APOLOGIES, {"c": case.case_id, "m": meeting.id}, channel=case.channel_id)
    people["sw"].command("start", channel=case.channel_id)
    view = opened_view(slack, View.START)
    member = ids(app, case)
    assert people["sw"].submit(view, {field(Block.START_ATTENDANCE, member["hv"]): "absent"}).body == ""
    post = posted(slack, case.channel_id, "Core group meeting 1 has started")[-1]
    thread_text = json.dumps([m["blocks"] for m in thread(slack, case.channel_id, post["ts"])])
    assert "No written updates were sent." in thread_text
    assert "No written update from <@U0TEACH>." in thread_text


def test_a_meeting_starts_once(people, slack, app, planned):
    case, _meeting = planned
    people["hv"].command("start", channel=case.channel_id)
    view = opened_view(slack, View.START)
    everyone = {field(Block.START_ATTENDANCE, ids(app, case)["sw"]): "present"}
    assert people["hv"].submit(view, everyone).body == ""
    again = people["hv"].submit(dict(view, id="V-another"), everyone).json()
    assert again["response_action"] == "update" and "already started" in json.dumps(again["view"])
    slack.reset()
    people["hv"].command("start", channel=case.channel_id)
    assert slack.calls_to("views.open") == []
    assert any("has already started" in t for t in ephemeral_texts(slack))
    assert len(posted(slack, case.channel_id, "Core group meeting 1 has started")) == 1  # posted once
    assert len(rows(app, select(Attendance))) == 4


def test_people_outside_the_core_group_cannot_start_it(people, slack, app, planned):
    case, meeting = planned
    people["sw"].command("start", channel=case.channel_id)
    view = opened_view(slack, View.START)
    outsider = people["outsider"]
    slack.channels[case.channel_id].members.add(outsider.user_id)
    slack.reset()
    outsider.command("start", channel=case.channel_id)
    assert slack.calls_to("views.open") == []
    assert any("Only members of this core group" in t for t in ephemeral_texts(slack))
    refused = outsider.submit(view).json()
    assert refused["response_action"] == "update" and "Only members" in json.dumps(refused["view"])
    assert get(app, Meeting, meeting.id).status == MeetingStatus.SCHEDULED
    assert one(app, select(Attendance).where(Attendance.status == AttendanceStatus.APOLOGIES))
    assert posted(slack, case.channel_id, "Core group meeting 1 has started") == []


# --- attendance is recorded, never guessed -------------------------------------------------------------------


def test_the_start_form_refuses_anyone_left_unmarked_naming_them_and_keeps_what_was_chosen(people, slack, app):
    case = new_case(people, slack, members=("hv", "teacher"))
    add_parent(people, slack, case)
    meeting = schedule_meeting(people, slack, case, date="2026-11-30", chair="hv")
    people["teacher"].click(Action.SEND_APOLOGIES, {"c": case.case_id, "m": meeting.id}, channel=case.channel_id)
    member = ids(app, case)
    with time_machine.travel(MEETING_DAY, tick=True):
        people["hv"].command("start", channel=case.channel_id)
        view = opened_view(slack, View.START)
        # The parent, who cannot reply on Slack, is never preset absent: not marked at all.
        assert choices(view) == {member["sw"]: None, member["hv"]: "present", member["teacher"]: "apologies",
                                 member["parent"]: None}
        refused = people["hv"].submit(view).json()
        assert refused["response_action"] == "errors"
        errors = refused["errors"]
        assert set(errors) == {field(Block.START_ATTENDANCE, member["sw"]),
                               field(Block.START_ATTENDANCE, member["parent"])}
        assert "Social Worker A" in errors[field(Block.START_ATTENDANCE, member["sw"])]
        assert "Mother of Child A" in errors[field(Block.START_ATTENDANCE, member["sw"])]  # the first names them all
        assert "Mother of Child A" in errors[field(Block.START_ATTENDANCE, member["parent"])]
        # Nothing was saved, and what the chair chose is kept (Slack keeps the form as it was on an error).
        assert get(app, Meeting, meeting.id).status == MeetingStatus.SCHEDULED
        assert {a.member_id: a.status for a in rows(app, select(Attendance))} == {member["teacher"]: "apologies"}
        # One still left: only they are named.
        refused = people["hv"].submit(view, {field(Block.START_ATTENDANCE, member["sw"]): "present"}).json()
        assert list(refused["errors"]) == [field(Block.START_ATTENDANCE, member["parent"])]
        assert "Social Worker A" not in json.dumps(refused["errors"])
        # The chair cannot mark themselves away while starting the meeting.
        refused = people["hv"].submit(view, {field(Block.START_ATTENDANCE, member["sw"]): "present",
                                             field(Block.START_ATTENDANCE, member["parent"]): "present",
                                             field(Block.START_ATTENDANCE, member["hv"]): "absent"}).json()
        assert "mark yourself present" in refused["errors"][field(Block.START_ATTENDANCE, member["hv"])]
        reply = people["hv"].submit(view, {field(Block.START_ATTENDANCE, member["sw"]): "present",
                                           field(Block.START_ATTENDANCE, member["parent"]): "present"})
    assert reply.body == ""
    assert {a.member_id: a.status for a in rows(app, select(Attendance))} == {
        member["sw"]: "present", member["hv"]: "present", member["teacher"]: "apologies", member["parent"]: "present"}
    post = posted(slack, case.channel_id, "Core group meeting 1 has started")[-1]
    assert "Mother of Child A" in json.dumps(post["blocks"])


def test_everyone_is_here_only_when_everyone_is_present(people, slack, app):
    case = new_case(people, slack, members=("hv",))
    meeting = schedule_meeting(people, slack, case, date="2026-11-30", chair="hv")
    people["sw"].click(Action.ATTENDING, {"c": case.case_id, "m": meeting.id}, channel=case.channel_id)
    with time_machine.travel(MEETING_DAY, tick=True):
        people["hv"].command("start", channel=case.channel_id)
        assert people["hv"].submit(opened_view(slack, View.START)).body == ""  # everyone said, or is the chair
    post = posted(slack, case.channel_id, "Core group meeting 1 has started")[-1]
    text = json.dumps(post["blocks"])
    assert "*Present:* <@U0SW>, <@U0HV>" in text or "*Present:* <@U0HV>, <@U0SW>" in text
    assert "Apologies:" not in text and "nobody" not in text
    assert "Everyone is here" in json.dumps([m["blocks"] for m in thread(slack, case.channel_id, post["ts"])])


def test_someone_marked_absent_means_not_everyone_is_here(people, slack, app):
    case = new_case(people, slack, members=("hv",))
    add_parent(people, slack, case)
    schedule_meeting(people, slack, case, date="2026-11-30", chair="hv")
    member = ids(app, case)
    with time_machine.travel(MEETING_DAY, tick=True):
        people["hv"].command("start", channel=case.channel_id)
        assert people["hv"].submit(opened_view(slack, View.START), {
            field(Block.START_ATTENDANCE, member["sw"]): "present",
            field(Block.START_ATTENDANCE, member["parent"]): "absent"}).body == ""
    post = posted(slack, case.channel_id, "Core group meeting 1 has started")[-1]
    assert "*Absent:* Mother of Child A" in json.dumps(post["blocks"])
    intro = json.dumps([m["blocks"] for m in thread(slack, case.channel_id, post["ts"])])
    assert "Everyone is here" not in intro and "No written updates were sent." in intro
