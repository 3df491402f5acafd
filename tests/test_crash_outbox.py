"""The app killed (SIGKILL) at the moments a commit has been made and Slack not yet told: after updates were
answered, after a meeting's start was committed, during the recap's follow-up and during a chart upload. After a
restart nothing answered as saved is missing, and every post arrives exactly once (counted by the key each carries
in its Slack message metadata, or a chart by its title in the recap's thread).

Each moment is made deterministic with the stand-in holding one Slack call open (`delay_next`, `wait_held`): the
process is killed while it waits for Slack's answer, and the call then lands, so Slack has the message and the app
never recorded it — the hard case, in which it must be found and not posted again. Both processes use the same
COREGROUP_INSTANCE, as the README asks, so the restart takes up its own claims at once."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from bot.slack import make_client
from handlers.delivery import METADATA_TYPE
from handlers.ids import Action, Block, View
from models.tables import Meeting, MeetingStatus, MessageStatus, Recap, RecapStatus, ScheduledMessage, SubmissionJournal
from models.tables import Update as UpdateRow
from tests.appprocess import AppProcess
from tests.harness import SlackUser
from tests.helpers import new_case, opened_view, schedule_meeting
from tests.recap_world import preview_value, recap_messages_in, running_meeting

pytestmark = pytest.mark.slow

INSTANCE = "crash-test"
HOLD = 4.0  # seconds the stand-in holds the chosen call open; the process is killed meanwhile
PATIENCE = 60  # seconds to wait for anything on a loaded machine


def serving(tmp_path: Path, name: str, engine, slack, **kwargs) -> AppProcess:
    process = AppProcess(tmp_path, name, database_url=engine.url.render_as_string(hide_password=False), slack=slack,
                         at=datetime.now(UTC).isoformat(), instance=INSTANCE, **kwargs)
    process.wait_serving()
    return process


def keyed(slack, channel: str, prefix: str) -> Counter:
    """How many times each outbox part whose key starts with `prefix` is in the channel (threads included)."""
    found: Counter = Counter()
    for message in slack.messages(channel):
        metadata = message.get("metadata") or {}
        key = (metadata.get("event_payload") or {}).get("key") or ""
        if metadata.get("event_type") == METADATA_TYPE and key.startswith(prefix):
            found[key] += 1
    return found


def wait_until(condition, what: str, timeout: float = PATIENCE, process: AppProcess | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    log = process.log.read_text() if process is not None else ""
    raise AssertionError(f"{what} did not happen within {timeout}s\n{log[-4000:]}")


def outbox_done(engine, prefix: str) -> bool:
    with Session(engine) as session:
        rows = session.exec(select(ScheduledMessage).where(col(ScheduledMessage.key).startswith(prefix))).all()
        return bool(rows) and all(r.status in (MessageStatus.SENT, MessageStatus.SKIPPED) for r in rows)


def settle(seconds: float = 2.5) -> None:
    """Let more scheduler runs (one a second) happen: nothing more may be posted."""
    time.sleep(seconds)


def test_killed_after_updates_were_answered_every_one_is_saved_and_posted_once(
        people, slack, app, engine, tmp_path):
    case = new_case(people, slack, members=("hv", "teacher", "gp", "police"))
    meeting = schedule_meeting(people, slack, case, chair="hv")
    senders = ("teacher", "gp", "police", "hv")
    views = {}
    for who in senders:
        people[who].command("update", channel=case.channel_id)
        views[who] = opened_view(slack, View.UPDATE)
    app.stop()

    first = serving(tmp_path, "first", engine, slack, scheduler=False)
    replies = {}
    try:
        # The first post in the meeting's thread is held, so at least that update is saved and not yet posted
        # when the process dies; the others may be answered and not yet saved.
        slack.delay_next("chat.postMessage", HOLD, where=lambda args: "Worry of" in json.dumps(args))

        def send(who):
            user = SlackUser(first, slack, people[who].user_id, people[who].team_id)
            replies[who] = user.submit(views[who], {Block.UPDATE_ATTENDING: "apologies",
                                                    Block.UPDATE_WORRIES: f"Worry of {who}."}, wait=False)

        threads = [threading.Thread(target=send, args=(who,)) for who in senders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(PATIENCE)
        assert {who: (r.status, r.body) for who, r in replies.items()} == {who: (200, "") for who in senders}
        held = slack.wait_held("chat.postMessage", timeout=PATIENCE).args["metadata"]["event_payload"]["key"]
    finally:
        first.kill()
    with Session(engine) as session:
        answered = session.exec(select(SubmissionJournal)).all()
    assert len(answered) == len(senders)  # everything answered was in the journal before its answer
    wait_until(lambda: keyed(slack, case.channel_id, "update:")[held], "the held post landing")

    second = serving(tmp_path, "second", engine, slack)
    try:
        def all_posted():
            with Session(engine) as session:
                saved = session.exec(select(UpdateRow).where(UpdateRow.meeting_id == meeting.id)).all()
            return len(saved) == len(senders) and all(u.message_ts for u in saved)

        wait_until(all_posted, "every update saved and posted", process=second)
        settle()
    finally:
        second.stop()
    with Session(engine) as session:
        saved = session.exec(select(UpdateRow).where(UpdateRow.meeting_id == meeting.id)).all()
        left = session.exec(select(SubmissionJournal).where(col(SubmissionJournal.processed_at).is_(None))).all()
    assert sorted(u.worries for u in saved) == sorted(f"Worry of {who}." for who in senders)  # each once
    assert left == []
    posts = keyed(slack, case.channel_id, "update:")
    assert len(posts) == len(senders) and set(posts.values()) == {1}, posts


def test_killed_after_the_start_was_committed_the_opening_post_arrives_once(people, slack, app, engine, tmp_path):
    case = new_case(people, slack, members=("hv", "teacher", "gp"))
    meeting = schedule_meeting(people, slack, case, chair="hv")
    people["teacher"].click(Action.SEND_APOLOGIES, {"c": case.case_id, "m": meeting.id}, channel=case.channel_id)
    people["teacher"].submit(opened_view(slack, View.UPDATE), {Block.UPDATE_WORRIES: "Child A came to school hungry."})
    people["hv"].command("start", channel=case.channel_id)
    view = opened_view(slack, View.START)
    app.stop()

    first = serving(tmp_path, "first", engine, slack, scheduler=False)
    try:
        slack.delay_next("chat.postMessage", HOLD, where=lambda args: "has started" in json.dumps(args))
        chair = SlackUser(first, slack, people["hv"].user_id, people["hv"].team_id)
        marks = {block["block_id"]: ((block["element"].get("initial_option") or {}).get("value") or "present")
                 for block in view["blocks"] if block.get("block_id", "").startswith(f"{Block.START_ATTENDANCE}_")}
        assert chair.submit(view, marks, wait=False).status == 200
        slack.wait_held("chat.postMessage", timeout=PATIENCE)
    finally:
        first.kill()
    with Session(engine) as session:
        assert session.get(Meeting, meeting.id).status == MeetingStatus.IN_PROGRESS
    prefix = f"meeting:{meeting.id}:opening/"
    wait_until(lambda: keyed(slack, case.channel_id, prefix), "the held first message landing")

    second = serving(tmp_path, "second", engine, slack)
    try:
        wait_until(lambda: all(outbox_done(engine, f"meeting:{meeting.id}:{what}")
                               for what in ("opening", "redraw", "chair_panel")), "the opening post", process=second)
        settle()
    finally:
        second.stop()
    parts = keyed(slack, case.channel_id, prefix)
    assert sorted(parts) == [f"{prefix}{n}" for n in range(len(parts))] and len(parts) >= 3, parts
    assert set(parts.values()) == {1}, parts  # the first message Slack had is found, not posted again
    text = json.dumps(slack.messages(case.channel_id))
    assert len([m for m in slack.messages(case.channel_id) if "Core group meeting 1 has started" in m["text"]]) == 1
    assert "Child A came to school hungry." in text  # the written update, in the opening post's thread
    assert list(keyed(slack, case.channel_id, f"meeting:{meeting.id}:chair_panel/").values()) == [1]  # the buttons
    started = [c for c in slack.calls_to("chat.update") if "started" in json.dumps(c.args).lower()]
    assert started, "the meeting's message was not redrawn as started"


@pytest.mark.parametrize("moment", ["follow-up", "chart"])
def test_killed_during_the_recaps_follow_up_or_a_chart_upload_everything_arrives_once(
        people, slack, app, engine, tmp_path, moment):
    info = new_case(people, slack, members=("hv", "teacher", "gp", "police"))
    world = running_meeting(app.engine, info, people)
    shown = make_client(app.settings).chat_postMessage(channel=info.channel_id, text="Core group meeting 2")
    with Session(engine) as session:  # the meeting's own message, to be redrawn as ended
        meeting = session.get(Meeting, world.meeting_id)
        meeting.channel_id, meeting.message_ts = info.channel_id, shown["ts"]
        session.add(meeting)
        session.commit()
    people["hv"].command("end", channel=info.channel_id)
    people["hv"].submit(opened_view(slack, View.END), {
        Block.RECAP_KEY_POINTS: "Good progress at school.", Block.RECAP_RISK: "reducing",
        Block.RECAP_CHILD_VIEWS: "Child A is happy.", Block.RECAP_RECOMMENDATION: "continue"})
    value = preview_value(slack)
    app.stop()

    first = serving(tmp_path, "first", engine, slack, scheduler=False)
    try:
        if moment == "follow-up":  # the ended meeting's message being redrawn
            slack.delay_next("chat.update", HOLD, where=lambda args: args.get("ts") == shown["ts"])
            held = "chat.update"
        else:
            slack.delay_next("files.completeUploadExternal", HOLD)
            held = "files.completeUploadExternal"
        chair = SlackUser(first, slack, people["hv"].user_id, people["hv"].team_id)
        assert chair.click(Action.RECAP_POST, value, channel=info.channel_id, wait=False).status == 200
        slack.wait_held(held, timeout=PATIENCE)
    finally:
        first.kill()
    slack.wait_for(held, timeout=PATIENCE)  # the held call lands now
    with Session(engine) as session:
        recap = session.exec(select(Recap).where(Recap.meeting_id == world.meeting_id)).one()
        assert recap.status == RecapStatus.POSTED
        recap_id, thread = recap.id, recap.message_ts
        following = session.exec(select(Meeting).where(Meeting.case_id == world.case_id,
                                                       Meeting.status == MeetingStatus.SCHEDULED)).one()

    second = serving(tmp_path, "second", engine, slack)
    try:
        rows = (f"chart:{recap_id}:", f"meeting:{following.id}:post", f"meeting:{world.meeting_id}:redraw:ended")
        wait_until(lambda: all(outbox_done(engine, prefix) for prefix in rows),
                   "the follow-up and the charts", process=second)
        settle()
    finally:
        second.stop()
    firsts = [m for m in recap_messages_in(slack, info.channel_id, recap_id) if m.get("thread_ts") in (None, m["ts"])]
    assert len(firsts) == 1  # the record itself, once
    announced = keyed(slack, info.channel_id, f"meeting:{following.id}:post/")
    assert list(announced.values()) == [1], announced  # meeting 3 announced, once
    ended = [c for c in slack.calls_to("chat.update") if c.args.get("ts") == shown["ts"] and c.response.get("ok")]
    assert ended and "ended" in json.dumps(ended[-1].args).lower()  # meeting 2's message says it ended
    charts = Counter(f["title"] for m in slack.messages(info.channel_id) if m.get("thread_ts") == thread
                     for f in m.get("files") or [])
    assert sorted(charts) == ["Scores over time: How safe is Child A at home?",
                              "Scores over time: How well is Child A doing at school?"]
    assert set(charts.values()) == {1}, charts


def test_killed_while_telling_the_channel_of_a_cancelled_invitation_accepted_it_is_told_once(
        people, slack, app, engine, tmp_path):
    from tests.harness import send_event
    from tests.test_multi_agency import HV_ID, accepted_event, invite_by_email, member_by_email, remove_via_members_list

    case = new_case(people, slack)
    invite_by_email(people["sw"], slack, case)
    invite_id = slack.calls_to("conversations.inviteShared")[-1].response["invite_id"]
    assert remove_via_members_list(people["sw"], slack, case, member_by_email(engine).id).body == ""
    slack.accept_shared_invite(invite_id, HV_ID)  # they accept the cancelled invitation all the same
    app.stop()

    first = serving(tmp_path, "first", engine, slack, scheduler=False)
    try:
        slack.delay_next("chat.postMessage", HOLD, where=lambda args: "had cancelled" in json.dumps(args))
        reply = send_event(first, accepted_event(invite_id, case.channel_id), team_id=slack.TEAM,
                           event_id="Ev0CANCELKILL", wait=False)
        assert reply.status == 200
        slack.wait_held("chat.postMessage", timeout=PATIENCE)
    finally:
        first.kill()
    wait_until(lambda: keyed(slack, case.channel_id, "cancelled_accepted:"), "the held note landing")

    second = serving(tmp_path, "second", engine, slack)
    try:
        wait_until(lambda: outbox_done(engine, "cancelled_accepted:"), "the note about the cancelled invitation",
                   process=second)
        settle()
    finally:
        second.stop()
    told = keyed(slack, case.channel_id, "cancelled_accepted:")
    assert list(told.values()) == [1], told  # the note Slack had is found, not posted again
    assert len([m for m in slack.messages(case.channel_id) if "had cancelled" in (m.get("text") or "")]) == 1
    assert HV_ID not in slack.channels[case.channel_id].members
