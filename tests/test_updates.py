"""Written updates end to end: Send apologies, `/coregroup update`, versions, the meeting's thread."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlmodel import Session, select

from handlers.ids import Action, Block, View
from handlers.plain import BLOCK_ID as PLAIN_LANGUAGE
from models import meetings
from models.tables import Action as ActionRow
from models.tables import (
    ActionStatus,
    Attendance,
    AttendanceStatus,
    Member,
    ScalingQuestion,
    Score,
    Update,
    UpdateActionProgress,
)
from tests.helpers import ephemeral_texts, mark_the_rest, new_case, opened_view, posted, schedule_meeting
from tests.reads import get, one, rows

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(MONDAY, tick=True):
        yield


@pytest.fixture
def meeting_case(people, slack):
    case = new_case(people, slack)
    meeting = schedule_meeting(people, slack, case, date="2026-11-30")
    return case, meeting


def member_of(app, case, person) -> Member:
    return one(app, select(Member).where(Member.case_id == case.case_id, Member.slack_user_id == person.user_id))


def thread(slack, channel: str, ts: str) -> list[dict]:
    return [m for m in slack.messages(channel) if m.get("thread_ts") == ts and m["ts"] != ts]


def add_action(app, case, owner: Member, what: str, due: date = date(2026, 11, 27)) -> int:
    with Session(app.engine) as session:
        action = ActionRow(case_id=case.case_id, what=what, owner_member_id=owner.id, due_date=due,
                           measure="Seen at home twice")
        session.add(action)
        session.commit()
        return action.id


def open_via_apologies(person, case, meeting, slack) -> dict:
    person.click(Action.SEND_APOLOGIES, {"c": case.case_id, "m": meeting.id}, channel=case.channel_id)
    return opened_view(slack, View.UPDATE)


def test_send_apologies_records_them_and_the_update_is_posted_in_the_meetings_thread(people, slack, app,
                                                                                  meeting_case):
    case, meeting = meeting_case
    hv = people["hv"]
    view = open_via_apologies(hv, case, meeting, slack)
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert inputs[Block.UPDATE_ATTENDING]["element"]["initial_option"]["value"] == "apologies"
    order = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
    # The child's views come first (the guidance: "children's views at the fore of your mind").
    assert order.index(Block.UPDATE_CHILD_VIEWS) < order.index(Block.UPDATE_CONTACTS) \
        < order.index(Block.UPDATE_WORRIES)
    # The apologies are known as soon as the form is open, even before the update is sent.
    hv_member = member_of(app, case, hv)
    assert meetings_attendance(app, meeting.id) == {hv_member.id: AttendanceStatus.APOLOGIES}

    reply = hv.submit(view, {
        Block.UPDATE_CHILD_VIEWS: "Child A said she likes her new bedroom <!here>",
        Block.UPDATE_CONTACTS: "Home visit on 20 November; Mother and Child A at home.",
        Block.UPDATE_CHILD_SEEN: "yes", Block.UPDATE_SEEN_ALONE: "no",
        Block.UPDATE_WORKING_WELL: "Mother is keeping appointments.",
        Block.UPDATE_WORRIES: "The home was cold.",
        Block.UPDATE_NEEDS: "Heating repaired by 4 December.",
    })
    assert reply.status == 200 and reply.body == ""
    update = one(app, select(Update))
    assert (update.version, update.attending, update.child_seen, update.seen_alone) == (1, False, "yes", "no")
    assert update.message_ts
    post = next(m for m in slack.messages(case.channel_id) if m["ts"] == update.message_ts)
    assert post["thread_ts"] == meeting.message_ts
    text = json.dumps(post["blocks"])
    assert "sends apologies" in text and "likes her new bedroom &lt;!here&gt;" in text and "<!here>" not in text
    assert text.index("The child's views") < text.index("Contact with the family") < text.index("worried about")
    meeting_post = next(m for m in slack.messages(case.channel_id) if m["ts"] == meeting.message_ts)
    assert f"Apologies: <@{hv.user_id}>" in json.dumps(meeting_post["blocks"])


def meetings_attendance(app, meeting_id: int) -> dict[int, str]:
    query = select(Attendance).where(Attendance.meeting_id == meeting_id)
    return {row.member_id: row.status for row in rows(app, query)}


def test_attending_button_records_the_reply(people, slack, app, meeting_case):
    case, meeting = meeting_case
    people["teacher"].click(Action.ATTENDING, {"c": case.case_id, "m": meeting.id}, channel=case.channel_id)
    teacher = member_of(app, case, people["teacher"])
    assert meetings_attendance(app, meeting.id) == {teacher.id: AttendanceStatus.ATTENDING}
    assert any("you are down as attending" in t for t in ephemeral_texts(slack))
    meeting_post = next(m for m in slack.messages(case.channel_id) if m["ts"] == meeting.message_ts)
    assert f"Attending: <@{people['teacher'].user_id}>" in json.dumps(meeting_post["blocks"])
    # Their update form starts from what they said.
    people["teacher"].click(Action.SEND_UPDATE, {"c": case.case_id, "m": meeting.id}, channel=case.channel_id)
    view = opened_view(slack, View.UPDATE)
    attending = next(b for b in view["blocks"] if b.get("block_id") == Block.UPDATE_ATTENDING)
    assert attending["element"]["initial_option"]["value"] == "attending"


def test_editing_an_update_makes_a_new_version_that_the_record_uses(people, slack, app, meeting_case):
    case, meeting = meeting_case
    hv = people["hv"]
    first = open_via_apologies(hv, case, meeting, slack)
    hv.submit(first, {Block.UPDATE_CHILD_VIEWS: "Child A was quiet.", Block.UPDATE_WORRIES: "Missed appointment."})
    hv.command("update", channel=case.channel_id)
    second = opened_view(slack, View.UPDATE)
    assert second["id"] != first["id"]
    inputs = {b["block_id"]: b["element"] for b in second["blocks"] if b["type"] == "input"}
    assert inputs[Block.UPDATE_CHILD_VIEWS]["initial_value"] == "Child A was quiet."  # what they sent is kept
    assert inputs[Block.UPDATE_ATTENDING]["initial_option"]["value"] == "apologies"
    hv.submit(second, {Block.UPDATE_CHILD_VIEWS: "Child A told me school is better now."})
    versions = rows(app, select(Update).order_by(Update.version))
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].child_views == "Child A was quiet."  # the earlier version is kept
    with Session(app.engine) as session:
        latest = meetings.latest_updates(session, meeting.id)
    assert [(u.version, u.child_views) for u in latest] == [(2, "Child A told me school is better now.")]
    assert latest[0].worries == "Missed appointment."  # kept from the form's initial value
    post = next(m for m in slack.messages(case.channel_id) if m["ts"] == versions[1].message_ts)
    assert post["thread_ts"] == meeting.message_ts
    assert "this replaces the update they sent earlier" in json.dumps(post["blocks"])


def test_the_recap_is_built_from_the_latest_version(people, slack, app, meeting_case):
    recap = pytest.importorskip("models.recap")
    case, meeting = meeting_case
    hv = people["hv"]
    hv.submit(open_via_apologies(hv, case, meeting, slack), {Block.UPDATE_CHILD_VIEWS: "First account."})
    hv.submit(open_via_apologies(hv, case, meeting, slack), {Block.UPDATE_CHILD_VIEWS: "Corrected account."})
    with Session(app.engine) as session:
        content = recap.build_content(session, meeting_id=meeting.id, outcome={}, today=date(2026, 11, 30))
    assert [(u["version"], u["child_views"]) for u in content["updates"]] == [(2, "Corrected account.")]


def test_progress_on_own_actions_done_on_track_or_delayed(people, slack, app, meeting_case):
    case, _meeting = meeting_case
    hv_member = member_of(app, case, people["hv"])
    teacher_member = member_of(app, case, people["teacher"])
    visit = add_action(app, case, hv_member, "Visit the family at home")
    course = add_action(app, case, hv_member, "Book the parenting course", due=date(2026, 12, 11))
    someone_elses = add_action(app, case, teacher_member, "Check attendance")
    people["hv"].command("update", channel=case.channel_id)
    view = opened_view(slack, View.UPDATE)
    blocks = {b.get("block_id") for b in view["blocks"]}
    assert f"{Block.UPDATE_ACTION_STATUS}_{visit}" in blocks and f"{Block.UPDATE_ACTION_STATUS}_{course}" in blocks
    assert f"{Block.UPDATE_ACTION_STATUS}_{someone_elses}" not in blocks
    values = {Block.UPDATE_ATTENDING: "attending", f"{Block.UPDATE_ACTION_STATUS}_{visit}": "done",
              f"{Block.UPDATE_ACTION_NOTE}_{visit}": "Visited on 20 November.",
              f"{Block.UPDATE_ACTION_STATUS}_{course}": "delayed"}
    errors = people["hv"].submit(view, values).json()
    assert errors == {"response_action": "errors",
                      "errors": {f"{Block.UPDATE_ACTION_NOTE}_{course}": "Please say what is holding it up."}}
    values[f"{Block.UPDATE_ACTION_NOTE}_{course}"] = "No places until January."
    assert people["hv"].submit(view, values).body == ""
    progress = rows(app, select(UpdateActionProgress).order_by(UpdateActionProgress.action_id))
    assert [(p.action_id, p.status) for p in progress] == [(visit, "done"), (course, "delayed")]
    assert get(app, ActionRow, visit).status == ActionStatus.DONE  # the actions feature completes it
    assert get(app, ActionRow, course).status == ActionStatus.OPEN
    update = one(app, select(Update))
    post = next(m for m in slack.messages(case.channel_id) if m["ts"] == update.message_ts)
    text = json.dumps(post["blocks"])
    assert "*Done*: Visit the family at home" in text and "No places until January." in text
    assert "will attend" in text


def test_standing_scaling_questions_can_be_scored_in_the_update_without_showing_the_score(
        people, slack, app, meeting_case):
    case, meeting = meeting_case
    with Session(app.engine) as session:
        question = ScalingQuestion(case_id=case.case_id, question="How safe is Child A at home?",
                                   zero_means="not safe at all", ten_means="completely safe", standing=True)
        session.add(question)
        session.commit()
        question_id = question.id
    view = open_via_apologies(people["hv"], case, meeting, slack)
    assert "0 means not safe at all" in json.dumps(view["blocks"])
    score, reason = f"{Block.UPDATE_SCORE}_{question_id}", f"{Block.UPDATE_SCORE_REASON}_{question_id}"
    errors = people["hv"].submit(view, {score: "4"}).json()
    assert errors["errors"] == {reason: "Please say why you gave that score."}
    assert people["hv"].submit(view, {score: "4", reason: "The heating is still broken."}).body == ""
    saved = one(app, select(Score))
    assert (saved.score, saved.reason, saved.member_id) == (4, "The heating is still broken.",
                                                             member_of(app, case, people["hv"]).id)
    update = one(app, select(Update))
    post = next(m for m in slack.messages(case.channel_id) if m["ts"] == update.message_ts)
    text = json.dumps(post["blocks"])
    assert "Scored 1 scaling question" in text and "heating is still broken" not in text


def test_jargon_is_queried_first_and_kept_when_sent_again(people, slack, app, meeting_case):
    case, meeting = meeting_case
    view = open_via_apologies(people["hv"], case, meeting, slack)
    values = {Block.UPDATE_WORRIES: "Concerns were raised at the ICPC."}
    reply = people["hv"].submit(view, values).json()
    assert reply["response_action"] == "update"
    returned = reply["view"]
    assert returned["blocks"][0]["block_id"] == PLAIN_LANGUAGE and "ICPC" in returned["blocks"][0]["text"]["text"]
    assert rows(app, select(Update)) == []
    returned.update(id=view["id"])
    assert people["hv"].submit(returned, values).body == ""
    assert one(app, select(Update)).worries == "Concerns were raised at the ICPC."


def test_very_long_answers_are_posted_in_full_within_block_kit_limits(people, slack, app, meeting_case):
    case, meeting = meeting_case
    view = open_via_apologies(people["hv"], case, meeting, slack)
    long_texts = {block: (block + " word" * 700)[:2999] + "." for block in (
        Block.UPDATE_CHILD_VIEWS, Block.UPDATE_CONTACTS, Block.UPDATE_WORKING_WELL, Block.UPDATE_WORRIES,
        Block.UPDATE_NEEDS)}
    assert people["hv"].submit(view, long_texts).body == ""
    update = one(app, select(Update))
    assert len(update.worries) == 3000
    replies = thread(slack, case.channel_id, meeting.message_ts)
    assert replies, "the update was not posted (the stand-in rejects blocks over the limits)"
    sections = [b["text"]["text"] for m in replies for b in m["blocks"] if b["type"] == "section"]
    assert all(len(s) <= 3000 for s in sections)
    words = sum(s.count("word") for s in sections)
    assert words == sum(t.count("word") for t in long_texts.values())  # nothing dropped


def test_updates_are_refused_once_the_meeting_has_started(people, slack, app, meeting_case):
    case, meeting = meeting_case
    hv = people["hv"]
    hv.command("update", channel=case.channel_id)
    stale = opened_view(slack, View.UPDATE)
    people["sw"].command("start", channel=case.channel_id)
    view = opened_view(slack, View.START)
    assert people["sw"].submit(view, mark_the_rest(view, "absent")).body == ""
    reply = hv.submit(stale, {Block.UPDATE_ATTENDING: "apologies", Block.UPDATE_WORRIES: "Late news."}).json()
    assert reply["response_action"] == "update" and "already started" in json.dumps(reply["view"])
    slack.reset()
    hv.click(Action.SEND_UPDATE, {"c": case.case_id, "m": meeting.id}, channel=case.channel_id)
    notice = slack.calls_to("views.open")[-1].args["view"]
    assert notice["callback_id"] != View.UPDATE and "already started" in json.dumps(notice)
    hv.click(Action.SEND_APOLOGIES, {"c": case.case_id, "m": meeting.id}, channel=case.channel_id)
    hv.click(Action.ATTENDING, {"c": case.case_id, "m": meeting.id}, channel=case.channel_id)
    assert any("already started" in t for t in ephemeral_texts(slack))
    assert rows(app, select(Update)) == []
    assert meetings_attendance(app, meeting.id)[member_of(app, case, hv).id] == AttendanceStatus.ABSENT


def test_update_without_a_meeting_says_so(people, slack, app):
    case = new_case(people, slack)
    people["hv"].click(Action.HERE_UPDATE, {"c": case.case_id}, channel=case.channel_id)
    notice = slack.calls_to("views.open")[-1].args["view"]
    assert "No meeting is scheduled yet" in json.dumps(notice)


def test_here_update_from_the_pinned_message_opens_the_next_meeting(people, slack, app, meeting_case):
    case, meeting = meeting_case
    people["teacher"].click(Action.HERE_UPDATE, {"c": case.case_id}, channel=case.channel_id)
    view = opened_view(slack, View.UPDATE)
    assert json.loads(view["private_metadata"]) == {"c": case.case_id, "m": meeting.id}


def test_people_outside_the_core_group_are_refused_on_every_entry_point(people, slack, app, meeting_case):
    case, meeting = meeting_case
    people["hv"].command("update", channel=case.channel_id)
    hv_view = opened_view(slack, View.UPDATE)
    outsider = people["outsider"]
    slack.channels[case.channel_id].members.add(outsider.user_id)
    slack.reset()
    outsider.command("update", channel=case.channel_id)
    value = {"c": case.case_id, "m": meeting.id}
    for action_id in (Action.ATTENDING, Action.SEND_APOLOGIES, Action.SEND_UPDATE, Action.HERE_UPDATE):
        outsider.click(action_id, value, channel=case.channel_id)
    assert slack.calls_to("views.open") == []
    assert sum("Only members of this core group" in t for t in ephemeral_texts(slack)) == 5
    refused = outsider.submit(hv_view, {Block.UPDATE_ATTENDING: "apologies", Block.UPDATE_WORRIES: "x"}).json()
    assert refused["response_action"] == "update" and "Only members" in json.dumps(refused["view"])
    assert rows(app, select(Update)) == [] and rows(app, select(Attendance)) == []
    assert posted(slack, case.channel_id, "Update from") == []


def test_an_update_form_naming_another_cases_meeting_or_a_forged_id_saves_nothing(people, slack, app, meeting_case):
    """The form's metadata says which meeting it is for; the meeting must belong to the case, and an id that is not
    a number a database could hold is no meeting at all (not a failure)."""
    case, meeting = meeting_case
    other = new_case(people, slack, reference="CP-TEST-0002")
    elsewhere = schedule_meeting(people, slack, other, date="2026-11-27")
    people["hv"].command("update", channel=case.channel_id)
    view = opened_view(slack, View.UPDATE)
    typed = {Block.UPDATE_ATTENDING: "apologies", Block.UPDATE_WORRIES: "The rent is behind."}
    for forged in (elsewhere.id, 2**63, "1e3", None, [meeting.id]):
        reply = people["hv"].submit(view, typed, private_metadata=json.dumps({"c": case.case_id, "m": forged}))
        answer = reply.json()
        assert answer["response_action"] == "update", forged
        assert "No meeting is scheduled" in json.dumps(answer["view"]), forged
    reply = people["hv"].submit(view, typed, private_metadata=json.dumps({"c": 2**70, "m": meeting.id})).json()
    assert reply["response_action"] == "update" and "could not find that case" in json.dumps(reply["view"])
    assert rows(app, select(Update)) == []
    assert app.executor.errors == []
