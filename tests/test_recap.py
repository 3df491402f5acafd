"""The recap's content and messages: what goes in the record, and that a record of any size fits Slack whole.

Unit tests of `build_content` (rows inserted directly) and of `recap_messages` / `preview_messages`; then
the edges from issue 3 end to end (no scores, nobody sent an update, everyone absent, very long texts,
forty actions), each accepted by the Slack stand-in's Block Kit checks with nothing left out.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from handlers.blocks import kit
from handlers.blocks.recap import EVENT_TYPE, PART_CHARS, body_blocks, preview_messages, recap_messages
from handlers.ids import Action as ActionId
from models import recap as records
from models.audit import Actor
from models.tables import (
    Action,
    ActionEvent,
    ActionEventKind,
    ActionStatus,
    Attendance,
    Decision,
    Meeting,
    MeetingStatus,
    Recap,
    RecapStatus,
    ScalingRound,
    Score,
    Update,
)
from tests.helpers import new_case
from tests.meeting_factories import make_meeting, make_world
from tests.recap_world import Plan, plain_text, preview_value, recap_messages_in, running_meeting, squash
from tests.slack_standin import block_errors
from tests.test_end import MEMBERS, approve, submit_end

NOW = datetime(2026, 12, 8, 11, 0, tzinfo=UTC)
TODAY = date(2026, 12, 8)
OUTCOME = {"key_points": "Main points.", "risk_direction": "increasing", "child_views": "",
           "child_missing": "Child A was in hospital.", "parents_views": "", "recommendation": "step_up",
           "next": None}


# --- build_content -------------------------------------------------------------------------------------


def _action(session, world, what, *, due, status=ActionStatus.OPEN, meeting=None, completed=None, carried=0):
    action = Action(case_id=world.case.id, what=what, owner_member_id=world.hv.id, due_date=due, measure="",
                    status=status, meeting_id=meeting.id if meeting else None, carried_forward=carried,
                    completed_at=completed)
    session.add(action)
    session.flush()
    if completed:
        session.add(ActionEvent(action_id=action.id, kind=ActionEventKind.DONE, at=completed))
    return action


def test_build_content_reports_each_action_once_in_the_right_place(session):
    world = make_world(session)
    earlier = make_meeting(session, world.case, NOW - timedelta(days=42), status=MeetingStatus.ENDED, chair=world.sw)
    earlier.ended_at = NOW - timedelta(days=42)
    meeting = make_meeting(session, world.case, NOW - timedelta(hours=1), chair=world.hv, number=2)
    _action(session, world, "Finished long ago", due=TODAY - timedelta(days=50), status=ActionStatus.DONE,
            completed=NOW - timedelta(days=45))
    _action(session, world, "Finished since", due=TODAY - timedelta(days=5), status=ActionStatus.DONE,
            completed=NOW - timedelta(days=6))
    _action(session, world, "Late", due=TODAY - timedelta(days=1), carried=3)
    _action(session, world, "Due later", due=TODAY + timedelta(days=9))
    _action(session, world, "Agreed today", due=TODAY + timedelta(days=14), meeting=meeting)
    late = session.exec(select(Action).where(Action.what == "Late")).one()
    session.add(ActionEvent(action_id=late.id, kind=ActionEventKind.PROGRESS, note="Phoned twice.",
                            at=NOW - timedelta(days=3)))
    session.flush()

    content = records.build_content(session, meeting_id=meeting.id, outcome=OUTCOME, today=TODAY)

    states = {row["what"]: row["state"] for row in content["actions"]}
    assert states == {"Late": "overdue", "Due later": "on_track", "Finished since": "done"}
    late = content["actions"][0]  # overdue first
    assert late["what"] == "Late"
    assert late["carried_forward"] == 3 and late["note"] == "Phoned twice."
    assert [row["what"] for row in content["new_actions"]] == ["Agreed today"]
    assert content["child_views"] == {"text": "", "not_obtained": "Child A was in hospital."}
    assert content["risk_direction"] == "increasing" and content["recommendation"] == "step_up"
    assert content["next_meeting"] is None
    assert json.loads(records.dumps(content)) == content  # JSON all the way down


def test_build_content_attendance_updates_and_sharing(session):
    world = make_world(session)
    meeting = make_meeting(session, world.case, NOW - timedelta(hours=1), chair=world.hv)
    session.add_all([Attendance(meeting_id=meeting.id, member_id=world.sw.id, status="present"),
                     Attendance(meeting_id=meeting.id, member_id=world.teacher.id, status="apologies")])
    session.add_all([
        Update(meeting_id=meeting.id, member_id=world.teacher.id, version=1, worries="Old worry."),
        Update(meeting_id=meeting.id, member_id=world.teacher.id, version=2, worries="New worry.",
               child_views="Likes reading."),
        Update(meeting_id=meeting.id, member_id=world.sw.id, version=1, attending=True, worries="Present too."),
    ])
    session.flush()

    content = records.build_content(session, meeting_id=meeting.id, outcome=OUTCOME, today=TODAY)

    status = {row["name"]: row["status"] for row in content["attendance"]}
    assert status == {"Social Worker A": "present", "Health Visitor A": "not_recorded", "Teacher A": "apologies",
                      "Mother of Child A": "not_recorded"}
    by_name = {u["name"]: u for u in content["updates"]}
    assert by_name["Teacher A"]["worries"] == "New worry." and not by_name["Teacher A"]["attended"]
    assert by_name["Social Worker A"]["attended"]
    assert {(p["name"], p["via"]) for p in content["shared_with"]} == {
        ("Social Worker A", "channel"), ("Health Visitor A", "channel"), ("Teacher A", "channel"),
        ("Mother of Child A", "outside_slack")}
    assert content["scaling"] == [] and content["decisions"] == []
    assert content["meeting"]["chair"]["name"] == "Health Visitor A"
    assert content["children"] == ["Child A (7)"]


def test_a_meeting_already_booked_is_the_next_meeting(session):
    world = make_world(session)
    meeting = make_meeting(session, world.case, NOW - timedelta(hours=1), chair=world.hv)
    booked = Meeting(case_id=world.case.id, number=2, scheduled_start=NOW + timedelta(days=30),
                     chair_member_id=world.teacher.id, location="School")
    session.add(booked)
    session.flush()
    outcome = dict(OUTCOME, next={"start": (NOW + timedelta(days=40)).isoformat(), "duration": 90, "location": "",
                                  "chair_member_id": world.sw.id})
    content = records.build_content(session, meeting_id=meeting.id, outcome=outcome, today=TODAY)
    assert content["next_meeting"]["meeting_id"] == booked.id
    assert content["next_meeting"]["chair"]["name"] == "Teacher A" and content["next_meeting"]["location"] == "School"


def test_check_outcome_asks_for_the_childs_views_or_why_not():
    assert records.check_outcome(OUTCOME) == {}
    errors = records.check_outcome(dict(OUTCOME, child_missing="", key_points="", risk_direction=None,
                                        recommendation="maybe", parents_views="x" * 3001))
    assert set(errors) == {"child_views", "key_points", "risk_direction", "recommendation", "parents_views"}


def test_versions_never_change_and_a_correction_is_the_next_version(session):
    world = make_world(session)
    meeting = make_meeting(session, world.case, NOW - timedelta(hours=1), chair=world.hv)
    actor = Actor("T0COUNCIL", "U0HV")
    content = records.build_content(session, meeting_id=meeting.id, outcome=OUTCOME, today=TODAY)
    first = records.save_version(session, meeting_id=meeting.id, content=content, member_id=world.hv.id, actor=actor,
                                 now=NOW)
    again = records.save_version(session, meeting_id=meeting.id, content=dict(content, key_points="Edited."),
                                 member_id=world.hv.id, actor=actor, now=NOW)
    assert again.id == first.id and again.version == 1  # an unapproved draft is replaced
    first.status = RecapStatus.POSTED
    session.add(first)
    session.flush()
    frozen = first.content
    corrected = records.compose(session, meeting_id=meeting.id, outcome=dict(OUTCOME, key_points="Corrected."),
                                today=TODAY, previous=records.content_of(first))
    second = records.save_version(session, meeting_id=meeting.id, content=corrected, member_id=world.hv.id,
                                  actor=actor, now=NOW, correction_reason="A typing mistake.")
    assert second.version == 2 and second.id != first.id and first.content == frozen
    stored = records.content_of(second)
    assert stored["version"] == 2 and stored["correction"] == {"of_version": 1, "reason": "A typing mistake."}
    assert stored["key_points"] == "Corrected." and stored["attendance"] == records.content_of(first)["attendance"]
    assert records.latest(session, meeting.id).id == first.id  # the correction is not approved yet


# --- recap_messages ------------------------------------------------------------------------------------


def _long(label: str, length: int = 3000) -> str:
    from tests.recap_world import long_text

    return long_text(label, length)


def sample_content(*, actions: int = 40, length: int = 3000, members: int = 20) -> dict:
    """A record at the limits: every text as long as the forms allow, twenty members, forty actions."""
    people = [{"id": i, "name": f"Member {i}", "role": "Health visitor"} for i in range(members)]
    update_fields = ("contacts", "working_well", "worries", "needs_to_happen", "child_views")
    few = 5 if length > 100 else 1

    def text(label: str, limit: int = 3000) -> str:
        return _long(label, min(length, limit))

    return {
        "schema": 1, "version": 1, "correction": None, "case": {"id": 1, "reference": "CP-TEST-0001"},
        "children": ["Child A (7)"],
        "meeting": {"id": 1, "number": 4, "start": "2026-12-08T10:00:00+00:00", "end": "2026-12-08T11:30:00+00:00",
                    "location": "Room 1", "chair": people[0]},
        "key_points": text("Keypoints <!channel>"),
        "attendance": [{**p, "agency": "", "status": "apologies" if p["id"] % 2 else "present"} for p in people],
        "updates": [{**p, "attended": False, "version": 1, "child_seen": "yes", "seen_alone": "no",
                     **{name: text(f"{name}{p['id']}") for name in update_fields},
                     "progress": [{"action_id": 1, "what": "Visit", "status": "delayed",
                                   "note": text(f"progress{p['id']}", 1000)}]}
                    for p in people if p["id"] % 2],
        "child_views": {"text": text("Childviews"), "not_obtained": ""},
        "parents_views": text("Parentsviews"),
        "actions": [{"id": i, "what": text(f"Action{i}", 1000), "owner": people[i % members], "due": "2026-12-01",
                     "measure": text(f"Measure{i}", 1000), "carried_forward": i % 4, "state": "overdue",
                     "note": text(f"Note{i}", 1000), "reported": None} for i in range(actions)],
        "scaling": [{"question": "How safe?", "zero_means": "not", "ten_means": "very", "child": None, "danger": None,
                     "revealed": True,
                     "scores": [{"name": p["name"], "role": p["role"], "score": p["id"] % 11,
                                 "reason": text(f"Reason{p['id']}", 1000), "to_move_up": "", "in_writing": False}
                                for p in people],
                     "low": 0, "high": 10, "median": 5.0, "spread": 10, "differs": True, "previous_median": 4.0,
                     "previous_date": "2026-10-27", "direction": "up",
                     "trend": [{"date": "2026-10-27", "median": 4.0}, {"date": "2026-12-08", "median": 5.0}]}],
        "decisions": [{"text": text(f"Decision{i}", 2000), "by": people[0]} for i in range(few)],
        "new_actions": [{"id": 100 + i, "what": text(f"Newaction{i}", 1000), "owner": people[1], "due": "2026-12-22",
                         "measure": "", "carried_forward": 0} for i in range(few)],
        "risk_direction": "no_change", "recommendation": "continue",
        "next_meeting": {"meeting_id": None, "start": "2027-01-19T10:00:00+00:00", "duration": 90,
                         "location": "Room 1", "chair": people[-1]},
        "shared_with": [{**p, "via": "channel"} for p in people],
        "outcome": {},
    }


def _texts(content: dict) -> list[str]:
    """Every piece of free text in the record."""
    found = [content["key_points"], content["child_views"]["text"], content["parents_views"]]
    for update in content["updates"]:
        found += [update[k] for k in ("contacts", "working_well", "worries", "needs_to_happen", "child_views")]
        found += [p["note"] for p in update["progress"]]
    for row in content["actions"] + content["new_actions"]:
        found += [row["what"], row["measure"], row.get("note") or ""]
    found += [s["reason"] for q in content["scaling"] for s in q["scores"]]
    found += [d["text"] for d in content["decisions"]]
    return [t for t in found if t]


def test_a_record_at_the_limits_fits_slack_whole():
    content = sample_content()
    messages = recap_messages(content, recap_id=7, case_id=1)
    assert len(messages) > 5
    for index, message in enumerate(messages):
        assert block_errors(message["blocks"]) == [], index
        assert len(message["blocks"]) <= kit.MESSAGE_BLOCK_LIMIT
        assert all(len(b["text"]["text"]) <= kit.SECTION_LIMIT for b in message["blocks"] if b["type"] == "section")
        assert len(json.dumps(message["blocks"], ensure_ascii=False)) <= 12_000
        assert message["metadata"] == {"event_type": EVENT_TYPE, "event_payload": {"recap_id": 7, "part": index}}
    text = plain_text(messages)
    for piece in _texts(content):
        assert squash(kit.esc(piece)) in text, piece[:30]
    assert "<!channel>" not in json.dumps([m["blocks"] for m in messages])
    buttons = [m for m in messages if any(b["type"] == "actions" for b in m["blocks"])]
    assert buttons == messages[:1]
    assert f"({len(messages) - 1} more messages)" in json.dumps(messages[0]["blocks"])
    assert "part 2 of" in json.dumps(messages[1]["blocks"])


def test_a_short_record_is_one_message_with_its_buttons():
    content = sample_content(actions=2, length=50, members=3)
    first = content["shared_with"][0]
    [message] = recap_messages(content, recap_id=3, case_id=9, read_by=[{"id": first["id"], "name": "Member 1"}])
    blocks = json.dumps(message["blocks"])
    assert ActionId.RECAP_READ in blocks and ActionId.RECAP_CORRECT in blocks
    assert "Read by 1 of 3: Member 1" in blocks


def test_someone_who_joined_after_the_record_was_shared_is_named_but_not_counted():
    content = sample_content(actions=2, length=50, members=3)
    first = content["shared_with"][0]
    readers = [{"id": first["id"], "name": "Member 1"}, {"id": 999, "name": "Newcomer A"}]
    [message] = recap_messages(content, recap_id=3, case_id=9, read_by=readers)
    blocks = json.dumps(message["blocks"])
    assert "Read by 1 of 3: Member 1" in blocks and "Read by 2 of 3" not in blocks
    assert "Also read by Newcomer A, who joined afterwards." in blocks
    assert message["text"].startswith("Record of core group meeting 4 on Tuesday 8 December 2026")


def test_the_preview_ends_with_the_chairs_buttons_and_carries_no_metadata():
    content = sample_content()
    messages = preview_messages(content, recap_id=7, case_id=1, check="abc")
    assert all("metadata" not in m for m in messages)
    last = messages[-1]["blocks"][-1]
    assert [e["action_id"] for e in last["elements"]] == [ActionId.RECAP_POST, ActionId.RECAP_EDIT]
    assert json.loads(last["elements"][0]["value"]) == {"c": 1, "r": 7, "h": "abc"}
    assert all(block_errors(m["blocks"]) == [] for m in messages)
    assert squash(plain_text(messages)).count(squash(kit.esc(content["key_points"]))) == 1


def test_a_correction_says_so_with_its_reason():
    content = dict(sample_content(actions=1, length=40, members=2), version=2,
                   correction={"of_version": 1, "reason": "Wrong date <@U123>"})
    first = recap_messages(content, recap_id=8, case_id=1)[0]
    text = plain_text([first])
    assert first["text"].startswith("Correction to the record of core group meeting 4")
    assert "version 2" in text and "Wrong date &lt;@U123&gt;" in text


def test_body_parts_cover_every_part_of_the_record():
    text = plain_text([{"blocks": body_blocks(sample_content(actions=1, length=40, members=2))}])
    for heading in ("Main points", "Attendance and apologies", "Written views of those unable to attend",
                    "The child's views", "The parents' views", "Progress on actions", "Scaling", "Decisions",
                    "New actions", "Are the risks reducing or increasing?", "Recommendation for the review conference",
                    "Next meeting", "Shared with"):
        assert f"*{heading}*" in text
    assert PART_CHARS < 13_000


# --- the edges, end to end -------------------------------------------------------------------------------


EDGES = {
    "no scores": Plan(scores=False),
    "nobody sent an update": Plan(updates_from=()),
    "everyone absent": Plan(present=(), apologies=("sw", "hv", "teacher", "gp", "police"),
                            updates_from=("gp", "teacher", "police")),
    "very long texts and forty actions": Plan(long=1000, old_actions=30, new_actions=10,
                                              decisions=tuple(f"Decision {i}" for i in range(6))),
}


@pytest.mark.parametrize("edge", list(EDGES))
def test_edges_are_posted_whole_and_accepted_by_slack(edge, people, slack, app):
    plan = EDGES[edge]
    info = new_case(people, slack, members=MEMBERS)
    world = running_meeting(app.engine, info, people, plan)
    long = "word " * 599 if plan.long else None
    form = {} if not long else {b: long for b in ("recap_key_points", "recap_child_views", "recap_parents_views")}
    reply = submit_end(people, slack, world, values=form)
    assert reply.status == 200 and reply.body == "", reply.body
    approve(people, slack, world)

    calls = [c for c in slack.calls if c.method in ("chat.postMessage", "chat.postEphemeral", "views.open")]
    assert calls and all(c.response.get("ok") for c in calls), [c.response for c in calls if not c.response["ok"]]
    with Session(app.engine) as session:
        recap = session.exec(select(Recap).where(Recap.meeting_id == world.meeting_id)).one()
        assert recap.status == RecapStatus.POSTED
        expected = [a.what for a in session.exec(select(Action))] + [a.measure for a in session.exec(select(Action))]
        expected += [d.text for d in session.exec(select(Decision))]
        expected += [s.reason for s in session.exec(
            select(Score).join(ScalingRound, ScalingRound.id == Score.round_id)
            .where(ScalingRound.meeting_id == world.meeting_id))]
        for update in session.exec(select(Update)):
            expected += [update.contacts, update.worries, update.working_well, update.needs_to_happen,
                         update.child_views]
    messages = recap_messages_in(slack, world.channel_id, recap.id)
    assert recap.parts_posted == len(messages)
    text = plain_text(messages)
    for piece in filter(None, expected + ([long] if long else [])):
        assert squash(kit.esc(piece)) in text, piece[:40]
    if edge == "no scores":
        assert "No scaling questions were asked at this meeting." in text
    if edge == "nobody sent an update":
        assert "Nobody who was unable to attend sent a written update." in text
    if edge == "everyone absent":
        assert "*Present:*" not in text and "*Apologies:* Social Worker A" in text
    if edge == "very long texts and forty actions":
        assert len(messages) > 3
        with Session(app.engine) as session:
            assert len(session.exec(select(Action)).all()) == 40
        assert preview_value(slack)["r"] == recap.id


# --- finding a recap Slack already has ---------------------------------------------------------------------


class FakeClient:
    """Just enough of WebClient for the look-ups: pages of history, a thread, or a refusal."""

    def __init__(self, pages=(), thread=None, refuse: str | None = None):
        self.pages, self.thread, self.refuse, self.asked = list(pages), thread, refuse, []

    def _refuse(self):
        from slack_sdk.errors import SlackApiError

        raise SlackApiError("refused", {"ok": False, "error": self.refuse})

    def conversations_history(self, **kwargs):
        self.asked.append(kwargs)
        if self.refuse:
            self._refuse()
        page = self.pages[len(self.asked) - 1]
        more = len(self.asked) < len(self.pages)
        return {"messages": page, "response_metadata": {"next_cursor": "next" if more else ""}}

    def conversations_replies(self, **kwargs):
        if self.thread is None:
            self._refuse()
        return {"messages": self.thread}


def _posted(recap_id: int, part: int, ts: str) -> dict:
    return {"ts": ts, "metadata": {"event_type": EVENT_TYPE, "event_payload": {"recap_id": recap_id, "part": part}}}


def test_find_posted_reads_history_with_metadata_page_by_page():
    from handlers.recap_posting import find_posted

    client = FakeClient(pages=[[{"ts": "1"}, _posted(8, 0, "2")], [_posted(7, 1, "3"), _posted(7, 0, "4")]])
    assert find_posted(client, "C1", 7) == "4"
    assert [a["include_all_metadata"] for a in client.asked] == [True, True]
    assert find_posted(FakeClient(pages=[[_posted(8, 0, "2")]]), "C1", 7) is None


def test_without_the_history_scope_the_recap_is_still_posted_but_other_errors_wait():
    from slack_sdk.errors import SlackApiError

    from handlers.recap_posting import find_posted

    assert find_posted(FakeClient(refuse="missing_scope"), "C1", 7) is None
    with pytest.raises(SlackApiError):
        find_posted(FakeClient(refuse="ratelimited"), "C1", 7)


def test_parts_in_thread_counts_what_slack_holds():
    from handlers.recap_posting import parts_in_thread

    thread = [_posted(7, 0, "1"), _posted(7, 1, "2"), {"ts": "3"}, _posted(7, 2, "4")]
    assert parts_in_thread(FakeClient(thread=thread), "C1", "1", 7) == 3
    assert parts_in_thread(FakeClient(refuse="unknown_method"), "C1", "1", 7) is None
