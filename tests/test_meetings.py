"""`/coregroup schedule` end to end: the statutory date, the meeting's post, moving and cancelling."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlmodel import select

from handlers.ids import Action, Block, View
from models.tables import AuditEvent, Case, Meeting, MeetingChange, MeetingStatus, Member, ScheduledMessage
from tests.helpers import ephemeral_texts, new_case, opened_view, posted, schedule_meeting
from tests.reads import get, one, rows

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 23 November 2026, 09:00 in London


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(MONDAY, tick=True):
        yield


def member_of(app, case, person) -> Member:
    return one(app, select(Member).where(Member.case_id == case.case_id, Member.slack_user_id == person.user_id))


def buttons(message: dict) -> dict[str, dict]:
    """action_id -> decoded value of each button on a message."""
    found = {}
    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("type") == "button":
                found[element["action_id"]] = json.loads(element.get("value") or "{}")
    return found


def test_first_meeting_is_proposed_within_ten_working_days_with_a_rotating_chair(people, slack, app):
    case = new_case(people, slack, initial="2026-11-16")
    people["sw"].command("schedule", channel=case.channel_id)
    view = opened_view(slack, View.SCHEDULE)
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    # Ten working days after Monday 16 November is Monday 30 November.
    assert inputs[Block.DATE]["initial_date"] == "2026-11-30"
    assert inputs[Block.TIME]["initial_time"] == "10:00"
    assert inputs[Block.LENGTH]["initial_value"] == "90"
    assert "within 10 working days" in json.dumps(view["blocks"])
    # The first meeting: the lead social worker is suggested to chair it.
    sw = member_of(app, case, people["sw"])
    assert inputs[Block.CHAIR]["initial_option"]["value"] == str(sw.id)


def test_the_proposal_skips_christmas_bank_holidays(people, slack):
    with time_machine.travel(datetime(2026, 12, 15, 9, 0, tzinfo=UTC), tick=True):
        case = new_case(people, slack, initial="2026-12-14", review=None)
        people["sw"].command("schedule", channel=case.channel_id)
        view = opened_view(slack, View.SCHEDULE)
    date_input = next(b for b in view["blocks"] if b.get("block_id") == Block.DATE)["element"]
    # 10 working days after 14 December: 25 and 28 December are bank holidays, so 30 December.
    assert date_input["initial_date"] == "2026-12-30"


def test_scheduling_posts_the_meeting_with_reply_buttons(people, slack, app):
    case = new_case(people, slack)
    meeting = schedule_meeting(people, slack, case, date="2026-11-30", location="Room 2 <!channel>")
    assert meeting.status == MeetingStatus.SCHEDULED and meeting.duration_minutes == 90 and meeting.number == 1
    assert meeting.channel_id == case.channel_id and meeting.message_ts
    message = next(m for m in slack.messages(case.channel_id) if m["ts"] == meeting.message_ts)
    text = json.dumps(message["blocks"])
    assert "Core group meeting 1" in text
    assert "Monday 30 November 2026, 10:00 to 11:30" in text
    assert "Room 2 &lt;!channel&gt;" in text and "<!channel>" not in text
    assert buttons(message) == {
        Action.ATTENDING: {"c": case.case_id, "m": meeting.id},
        Action.SEND_APOLOGIES: {"c": case.case_id, "m": meeting.id},
        Action.SEND_UPDATE: {"c": case.case_id, "m": meeting.id},
        Action.MEETING_START: {"c": case.case_id, "m": meeting.id},  # the chair's, for any organisation
        Action.FAMILY_VIEWS: {"c": case.case_id},  # the chair's too: the family's views, recorded for them
    }
    assert one(app, select(AuditEvent).where(AuditEvent.action == "meeting.scheduled")).record_id \
        == meeting.id


@pytest.mark.parametrize(("day", "clock", "field", "words"), [
    ("2026-12-28", "10:00", Block.DATE, "bank holiday in England and Wales (Boxing Day"),
    ("2026-11-28", "10:00", Block.DATE, "is a Saturday, not a working day"),
    ("2026-11-20", "10:00", Block.DATE, "already passed"),
    ("2026-11-23", "08:00", Block.TIME, "already passed"),
])
def test_a_date_that_cannot_be_used_is_explained_and_nothing_is_stored(people, slack, app, day, clock, field,
                                                                       words):
    case = new_case(people, slack)
    people["sw"].command("schedule", channel=case.channel_id)
    view = opened_view(slack, View.SCHEDULE)
    reply = people["sw"].submit(view, {Block.DATE: day, Block.TIME: clock, Block.LOCATION: "Room 2"})
    body = reply.json()
    assert body["response_action"] == "errors"
    assert words in body["errors"][field]
    assert rows(app, select(Meeting)) == []


def test_a_date_after_the_review_deadline_warns_once_then_keeps_the_date(people, slack, app):
    case = new_case(people, slack, review="2026-12-14")
    people["sw"].command("schedule", channel=case.channel_id)
    view = opened_view(slack, View.SCHEDULE)
    values = {Block.DATE: "2026-12-02", Block.LOCATION: "Room 2"}
    warned = people["sw"].submit(view, values).json()
    assert warned["response_action"] == "errors"
    assert "review conference on Monday 14 December 2026" in warned["errors"][Block.DATE]
    assert "by Monday 30 November 2026" in warned["errors"][Block.DATE]
    assert rows(app, select(Meeting)) == []
    kept = people["sw"].submit(view, values)
    assert kept.body == ""
    assert one(app, select(Meeting)).scheduled_start == datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def held_review_case(people, slack):
    """A case whose review conference was on Friday 20 November and has been held; nobody has recorded the
    next one yet. (A new case cannot be given a review date in the past, so the date is written as it stands
    after the conference: the case was set up without one and the date recorded when it was known.)"""
    from sqlmodel import Session

    case = new_case(people, slack, review=None)
    with Session(people["sw"].app.engine) as session:
        row = session.get(Case, case.case_id)
        row.review_conference_date = date(2026, 11, 20)
        session.add(row)
        session.commit()
    return case


def test_a_review_conference_already_held_gives_no_warning(people, slack, app):
    # The review conference on Friday 20 November has been held (its date was never updated): a meeting on
    # Friday 27 November is not "less than 10 working days before" it, so it is saved at once.
    case = held_review_case(people, slack)
    people["sw"].command("schedule", channel=case.channel_id)
    view = opened_view(slack, View.SCHEDULE)
    assert "review conference" not in json.dumps(view["blocks"][0])
    reply = people["sw"].submit(view, {Block.DATE: "2026-11-27", Block.LOCATION: "Room 2"})
    assert reply.body == "", reply.body
    assert one(app, select(Meeting)).scheduled_start == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def test_place_is_required_and_what_was_typed_stays(people, slack, app):
    case = new_case(people, slack)
    people["sw"].command("schedule", channel=case.channel_id)
    view = opened_view(slack, View.SCHEDULE)
    body = people["sw"].submit(view, {Block.LOCATION: ""}).json()
    assert body == {"response_action": "errors", "errors": {Block.LOCATION: "Please fill in the place or call link."}}


def test_one_upcoming_meeting_at_a_time_shows_move_and_cancel(people, slack, app):
    case = new_case(people, slack)
    meeting = schedule_meeting(people, slack, case)
    slack.reset()
    people["hv"].command("schedule", channel=case.channel_id)
    assert slack.calls_to("views.open") == []
    reply = slack.calls_to("response_url")[-1].args
    assert "already scheduled" in reply["text"] or "already scheduled" in json.dumps(reply["blocks"])
    assert buttons(reply) == {Action.MEETING_MOVE: {"c": case.case_id, "m": meeting.id},
                              Action.MEETING_CANCEL: {"c": case.case_id, "m": meeting.id}}
    assert len(rows(app, select(Meeting))) == 1


def test_moving_takes_a_reason_and_is_posted_in_the_channel_and_thread(people, slack, app):
    case = new_case(people, slack)
    meeting = schedule_meeting(people, slack, case, date="2026-11-25")
    hv = people["hv"]
    hv.click(Action.MEETING_MOVE, {"c": case.case_id, "m": meeting.id}, channel=case.channel_id)
    view = opened_view(slack, View.MEETING_MOVE)
    no_reason = hv.submit(view, {Block.DATE: "2026-11-27", Block.REASON: ""}).json()
    assert no_reason["errors"] == {Block.REASON: "Please fill in the reason."}
    reply = hv.submit(view, {Block.DATE: "2026-11-27", Block.TIME: "14:00",
                             Block.REASON: "The school nurse is on a course <@U0SW>"})
    assert reply.body == ""
    moved = get(app, Meeting, meeting.id)
    assert moved.scheduled_start == datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
    change = one(app, select(MeetingChange))
    assert change.kind == "moved" and change.reason.startswith("The school nurse")
    assert change.old_start == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert change.by_member_id == member_of(app, case, hv).id
    note = posted(slack, case.channel_id, "moved core group meeting 1")[-1]
    assert note["thread_ts"] == meeting.message_ts and note["subtype"] == "thread_broadcast"
    text = json.dumps(note["blocks"])
    assert "Friday 27 November 2026, 14:00 to 15:30" in text and "&lt;@U0SW&gt;" in text
    original = next(m for m in slack.messages(case.channel_id) if m["ts"] == meeting.message_ts)
    assert "Friday 27 November 2026, 14:00" in json.dumps(original["blocks"])
    assert "This meeting was moved. The reason is in the thread." in json.dumps(original["blocks"])


def test_cancelling_takes_a_reason_is_posted_and_frees_the_next_meeting(people, slack, app):
    case = new_case(people, slack)
    meeting = schedule_meeting(people, slack, case)
    sw = people["sw"]
    sw.click(Action.MEETING_CANCEL, {"c": case.case_id, "m": meeting.id}, channel=case.channel_id)
    view = opened_view(slack, View.MEETING_CANCEL)
    assert sw.submit(view, {Block.REASON: "  "}).json()["response_action"] == "errors"
    assert sw.submit(view, {Block.REASON: "The family is moving house that week"}).body == ""
    assert get(app, Meeting, meeting.id).status == MeetingStatus.CANCELLED
    assert one(app, select(MeetingChange)).kind == "cancelled"
    note = posted(slack, case.channel_id, "cancelled core group meeting 1")[-1]
    assert note["thread_ts"] == meeting.message_ts and "moving house" in json.dumps(note["blocks"])
    original = next(m for m in slack.messages(case.channel_id) if m["ts"] == meeting.message_ts)
    assert "Cancelled: Core group meeting 1" in json.dumps(original["blocks"])
    assert buttons(original) == {}
    # The next meeting can now be arranged, from the notice's button as well (no slash command needed), and takes
    # the cancelled one's number.
    assert "/coregroup" not in json.dumps(note["blocks"])
    assert buttons(note) == {Action.MEETING_BOOK: {"c": case.case_id}}
    sw.click(Action.MEETING_BOOK, {"c": case.case_id}, channel=case.channel_id, message=note)
    assert opened_view(slack, View.SCHEDULE)["callback_id"] == View.SCHEDULE
    again = schedule_meeting(people, slack, case)
    assert again.id != meeting.id and again.number == 1
    # The cancelled meeting's buttons no longer change anything.
    slack.reset()
    sw.click(Action.MEETING_MOVE, {"c": case.case_id, "m": meeting.id}, channel=case.channel_id)
    assert slack.calls_to("views.open") == []
    assert any("cannot be changed" in t for t in ephemeral_texts(slack))


def test_people_outside_the_core_group_are_refused_everywhere(people, slack, app):
    case = new_case(people, slack)
    outsider = people["outsider"]
    slack.channels[case.channel_id].members.add(outsider.user_id)
    slack.reset()
    outsider.command("schedule", channel=case.channel_id)
    assert slack.calls_to("views.open") == []
    assert any("Only members" in t for t in ephemeral_texts(slack))
    people["sw"].command("schedule", channel=case.channel_id)
    view = opened_view(slack, View.SCHEDULE)
    refused = outsider.submit(view, {Block.LOCATION: "Room 2"}).json()
    assert refused["response_action"] == "update" and "Only members" in json.dumps(refused["view"])
    assert rows(app, select(Meeting)) == []
    meeting = schedule_meeting(people, slack, case)
    slack.reset()
    for action_id in (Action.MEETING_MOVE, Action.MEETING_CANCEL):
        outsider.click(action_id, {"c": case.case_id, "m": meeting.id}, channel=case.channel_id)
    assert slack.calls_to("views.open") == []
    assert sum("Only members" in t for t in ephemeral_texts(slack)) == 2
    people["sw"].click(Action.MEETING_CANCEL, {"c": case.case_id, "m": meeting.id}, channel=case.channel_id)
    cancel_view = opened_view(slack, View.MEETING_CANCEL)
    refused = outsider.submit(cancel_view, {Block.REASON: "Not mine to cancel"}).json()
    assert refused["response_action"] == "update"
    assert get(app, Meeting, meeting.id).status == MeetingStatus.SCHEDULED
    assert rows(app, select(MeetingChange)) == []


# --- the next review conference, recorded with the next meeting ------------------------------------------


def review_reminders(app, case) -> dict[str, str]:
    found = rows(app, select(ScheduledMessage).where(ScheduledMessage.case_id == case.case_id,
                                                     ScheduledMessage.kind == "case.review"))
    return {row.key.rsplit(":", 1)[-1]: row.status for row in found}


def test_after_a_review_conference_the_next_one_is_recorded_with_the_next_meeting(people, slack, app):
    case = held_review_case(people, slack)  # held last Friday; the plan goes on
    people["sw"].command("schedule", channel=case.channel_id)
    view = opened_view(slack, View.SCHEDULE)
    field = next(b for b in view["blocks"] if b.get("block_id") == Block.REVIEW)
    assert "initial_date" not in field["element"] and field["optional"] is True
    assert "Friday 20 November 2026 has been held" in field["hint"]["text"]
    reply = people["sw"].submit(view, {Block.DATE: "2026-11-27", Block.LOCATION: "Room 2",
                                       Block.REVIEW: "2027-05-20"})
    assert reply.body == "", reply.body
    assert one(app, select(Case)).review_conference_date == date(2027, 5, 20)
    assert one(app, select(AuditEvent).where(AuditEvent.action == "case.review_date_set")).record_id == case.case_id
    assert review_reminders(app, case) == {"2027-05-20": "pending"}
    assert posted(slack, case.channel_id, "recorded the date of the next review conference: *Thursday 20 May 2027*")
    assert one(app, select(Meeting)).number == 1


def test_a_review_conference_moved_later_moves_its_reminder(people, slack, app):
    case = new_case(people, slack)  # review on 8 February 2027
    assert review_reminders(app, case) == {"2027-02-08": "pending"}
    people["sw"].command("schedule", channel=case.channel_id)
    view = opened_view(slack, View.SCHEDULE)
    field = next(b for b in view["blocks"] if b.get("block_id") == Block.REVIEW)
    assert field["element"]["initial_date"] == "2027-02-08"
    assert people["sw"].submit(view, {Block.LOCATION: "Room 2", Block.REVIEW: "2027-02-22"}).body == ""
    assert review_reminders(app, case) == {"2027-02-08": "cancelled", "2027-02-22": "pending"}


def test_the_new_review_date_is_the_one_the_warning_checks(people, slack, app):
    case = new_case(people, slack, review="2027-02-08")
    people["sw"].command("schedule", channel=case.channel_id)
    view = opened_view(slack, View.SCHEDULE)
    # 30 November is fine for a review on 8 February, but too close to one moved to 11 December.
    values = {Block.DATE: "2026-11-30", Block.LOCATION: "Room 2", Block.REVIEW: "2026-12-11"}
    warned = people["sw"].submit(view, values).json()
    assert "review conference on Friday 11 December 2026" in warned["errors"][Block.DATE]
    assert rows(app, select(Meeting)) == [] and one(app, select(Case)).review_conference_date == date(2027, 2, 8)
    assert people["sw"].submit(view, values).body == ""
    assert one(app, select(Case)).review_conference_date == date(2026, 12, 11)


def test_the_review_date_left_as_it_was_records_nothing(people, slack, app):
    case = new_case(people, slack)
    schedule_meeting(people, slack, case)
    assert rows(app, select(AuditEvent).where(AuditEvent.action == "case.review_date_set")) == []
    assert not posted(slack, case.channel_id, "recorded the date of the next review conference")


@pytest.mark.parametrize(("typed", "words"), [
    ("2026-11-23", "The next review conference must be after today."),
    ("2026-10-01", "The next review conference must be after today."),
    ("2027-13-01", "Please choose a date from the calendar."),
])
def test_a_review_date_that_cannot_be_used_is_refused_and_nothing_is_stored(people, slack, app, typed, words):
    case = held_review_case(people, slack)
    people["sw"].command("schedule", channel=case.channel_id)
    view = opened_view(slack, View.SCHEDULE)
    body = people["sw"].submit(view, {Block.LOCATION: "Room 2", Block.REVIEW: typed}).json()
    assert body == {"response_action": "errors", "errors": {Block.REVIEW: body["errors"][Block.REVIEW]}}
    assert words in body["errors"][Block.REVIEW]
    assert rows(app, select(Meeting)) == []
    assert one(app, select(Case)).review_conference_date == date(2026, 11, 20)


# --- plain words in the reasons for moving and cancelling ------------------------------------------------


def test_initials_in_a_reason_for_moving_are_queried_first_and_can_be_kept(people, slack, app):
    case = new_case(people, slack)
    meeting = schedule_meeting(people, slack, case, date="2026-11-25")
    hv = people["hv"]
    hv.click(Action.MEETING_MOVE, {"c": case.case_id, "m": meeting.id}, channel=case.channel_id)
    view = opened_view(slack, View.MEETING_MOVE)
    values = {Block.DATE: "2026-11-27", Block.REASON: "The social worker is at an RCPC that morning."}
    body = hv.submit(view, values).json()
    assert body["response_action"] == "update"
    assert "RCPC" in json.dumps(body["view"]["blocks"][0]) and "review child protection" in json.dumps(
        body["view"]["blocks"][0])
    kept = next(b for b in body["view"]["blocks"] if b.get("block_id") == Block.REASON)
    assert kept["element"]["initial_value"] == values[Block.REASON]
    assert get(app, Meeting, meeting.id).scheduled_start == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert rows(app, select(MeetingChange)) == []
    again = hv.submit(dict(body["view"], id=view["id"]))
    assert again.body == ""
    assert get(app, Meeting, meeting.id).scheduled_start == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert one(app, select(MeetingChange)).reason == values[Block.REASON]


def test_initials_in_a_reason_for_cancelling_are_queried_first(people, slack, app):
    case = new_case(people, slack)
    meeting = schedule_meeting(people, slack, case)
    sw = people["sw"]
    sw.click(Action.MEETING_CANCEL, {"c": case.case_id, "m": meeting.id}, channel=case.channel_id)
    view = opened_view(slack, View.MEETING_CANCEL)
    body = sw.submit(view, {Block.REASON: "The LADO needs to speak to the school first."}).json()
    assert body["response_action"] == "update" and "LADO" in json.dumps(body["view"]["blocks"][0])
    assert get(app, Meeting, meeting.id).status == MeetingStatus.SCHEDULED
    changed = {Block.REASON: "The school needs to speak to the council's safeguarding adviser first."}
    assert sw.submit(dict(body["view"], id=view["id"]), changed).body == ""
    assert get(app, Meeting, meeting.id).status == MeetingStatus.CANCELLED
    assert "safeguarding adviser" in json.dumps(posted(slack, case.channel_id, "cancelled core group meeting 1")[-1])
