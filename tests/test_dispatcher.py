"""The dispatcher in-process: a real database, the Slack stand-in, and a clock moved with time-machine.

Each test plans through the same hooks the features call, moves the clock, runs the dispatcher, and
checks what reached Slack and what the ledger says.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import time_machine

from handlers import delivery
from handlers.ids import Action as ActionId
from models import ledger, reminders
from models.ledger import Kind
from models.planning import Policy
from models.tables import MessageStatus
from tests.reminder_world import at, dispatcher, make_world

PLANNED = at("2026-11-23T12:00")  # a Monday, when things are planned
MEETING = at("2026-12-08T10:00")  # Tuesday 8 December 2026, 10:00 (winter: London is UTC)
TWO_DAYS_BEFORE = at("2026-12-04T09:00")  # Friday


@pytest.fixture(autouse=True)
def default_policy():
    reminders.configure(Policy())
    yield
    reminders.configure(Policy())


@pytest.fixture
def world(engine, slack):
    return make_world(engine, slack, now=PLANNED)


def run(engine, slack, when, **settings):
    with time_machine.travel(when, tick=False):
        return dispatcher(engine, slack, **settings).run_once()


def blocks_text(message: dict) -> str:
    return json.dumps(message.get("blocks") or [], ensure_ascii=False)


def test_meeting_reminder_reaches_every_member_once_with_update_and_apologies_buttons(engine, slack, world):
    meeting = world.meeting(MEETING, now=PLANNED)
    assert run(engine, slack, TWO_DAYS_BEFORE - timedelta(minutes=1)) == {}
    run(engine, slack, TWO_DAYS_BEFORE + timedelta(minutes=1))
    for key in ("sw", "hv", "teacher"):
        messages = world.dms(key)
        assert len(messages) == 1, key
        assert "Core group meeting for CP-TEST-0101" in messages[0]["text"]
        buttons = next(b for b in messages[0]["blocks"] if b["type"] == "actions")["elements"]
        assert [b["action_id"] for b in buttons] == [ActionId.ATTENDING, ActionId.SEND_APOLOGIES, ActionId.SEND_UPDATE]
        assert json.loads(buttons[0]["value"]) == {"c": world.case_id, "m": meeting}
        assert messages[0]["metadata"]["event_payload"]["key"].startswith(f"meeting:{meeting}:remind2d:")
    sent = world.rows(kind=Kind.REMIND_2D_MEMBER, status=MessageStatus.SENT)
    assert {r.delivered_via for r in sent} == {"dm"} and len(sent) == 3
    run(engine, slack, TWO_DAYS_BEFORE + timedelta(minutes=30))
    assert sum(len(world.dms(k)) for k in ("sw", "hv", "teacher")) == 3


def test_moved_meeting_withdraws_the_old_reminders(engine, slack, world):
    meeting = world.meeting(MEETING, now=PLANNED)
    world.change_meeting(meeting, now=PLANNED, scheduled_start=MEETING + timedelta(days=7))
    run(engine, slack, TWO_DAYS_BEFORE + timedelta(minutes=5))
    assert world.dms("hv") == []
    assert {r.status for r in world.rows(kind=Kind.REMIND_2D)} == {MessageStatus.CANCELLED, MessageStatus.PENDING}
    run(engine, slack, TWO_DAYS_BEFORE + timedelta(days=7, minutes=5))
    assert len(world.dms("hv")) == 1 and "15 December" in world.dms("hv")[0]["text"]


def test_cancelled_meeting_sends_nothing(engine, slack, world):
    meeting = world.meeting(MEETING, now=PLANNED)
    world.change_meeting(meeting, now=PLANNED, status="cancelled")
    run(engine, slack, MEETING - timedelta(hours=1))
    assert world.dms("sw") == world.dms("hv") == world.dms("teacher") == []
    assert {r.status for r in world.rows() if r.meeting_id == meeting} == {MessageStatus.CANCELLED}


def overdue_action(world, *, owner="hv"):
    # Due Monday 7 December: the first nudge is on Tuesday 8 December at 09:00.
    return world.action(owner, date(2026, 12, 7), now=PLANNED)


NUDGE = at("2026-12-08T09:00")


def test_overdue_nudge_has_done_progress_and_new_date_buttons(engine, slack, world):
    action = overdue_action(world)
    run(engine, slack, NUDGE + timedelta(minutes=2))
    [message] = world.dms("hv")
    assert "Your action for CP-TEST-0101 is overdue" in blocks_text(message)
    buttons = next(b for b in message["blocks"] if b["type"] == "actions")["elements"]
    assert [b["action_id"] for b in buttons] == [ActionId.ACTION_DONE, ActionId.ACTION_PROGRESS,
                                                 ActionId.ACTION_NEW_DATE]
    assert json.loads(buttons[0]["value"]) == {"c": world.case_id, "a": action}
    # The next nudge is planned: three working days overdue.
    [nxt] = world.pending(Kind.OVERDUE)
    assert nxt.due_at == at("2026-12-10T09:00")


def test_rate_limited_then_accepted_arrives_once(engine, slack, world):
    overdue_action(world)
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    run(engine, slack, NUDGE + timedelta(minutes=2))
    posts = slack.calls_to("chat.postMessage")
    assert [c.status for c in posts] == [429, 200]
    assert len(world.dms("hv")) == 1
    assert world.rows(kind=Kind.OVERDUE, status=MessageStatus.SENT)[0].attempts == 0


def test_server_error_is_retried_by_the_client(engine, slack, world):
    overdue_action(world)
    slack.fail_next("chat.postMessage", status=503)
    run(engine, slack, NUDGE + timedelta(minutes=2))
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [503, 200]
    assert len(world.dms("hv")) == 1


def test_a_send_that_keeps_failing_stays_pending_and_goes_on_the_next_run(engine, slack, world):
    overdue_action(world)
    slack.fail_next("chat.postMessage", status=500, times=3)  # the first try and both of the client's retries
    run(engine, slack, NUDGE + timedelta(minutes=2))
    assert world.dms("hv") == []
    [row] = world.rows(kind=Kind.OVERDUE)
    assert (row.status, row.attempts, row.last_error) == (MessageStatus.PENDING, 1, "http:500")
    run(engine, slack, NUDGE + timedelta(minutes=3))
    assert len(world.dms("hv")) == 1
    # A 5xx may have posted it after all, so Slack was asked before sending again.
    assert slack.calls_to("conversations.history")
    assert world.rows(kind=Kind.OVERDUE, status=MessageStatus.SENT)[0].attempts == 1


def test_past_the_grace_it_is_missed_and_reported_once(engine, slack, world):
    overdue_action(world)
    # Back a week later: 4 working days (32 working hours) late, more than the 24 hours' grace.
    run(engine, slack, NUDGE + timedelta(days=6, hours=1))
    assert world.dms("hv") == []
    assert world.rows(kind=Kind.OVERDUE, status=MessageStatus.MISSED)
    reports = world.channel_posts("could not be sent in time")
    assert len(reports) == 1
    assert "a reminder about the overdue action “Visit the family at home”" in blocks_text(reports[0])
    run(engine, slack, NUDGE + timedelta(days=6, hours=2))
    assert len(world.channel_posts("could not be sent in time")) == 1
    # The back-off carries on from the next step still to come.
    assert [r.due_at for r in world.pending(Kind.OVERDUE)] == [at("2026-12-16T09:00")]


def test_quiet_hours_hold_nudges_until_the_next_working_morning(engine, slack, world):
    overdue_action(world)
    run(engine, slack, at("2026-12-08T18:30"))  # back up in the evening: not now
    assert world.dms("hv") == []
    run(engine, slack, at("2026-12-09T09:01"))  # next morning: 8 working hours late, within the grace
    assert len(world.dms("hv")) == 1


def test_chair_is_told_to_recap_shortly_before_the_end_even_after_hours(engine, slack, world):
    late = at("2026-12-08T16:30")  # 16:30 to 18:00
    world.meeting(late, now=PLANNED, chair="hv", status="in_progress")
    run(engine, slack, at("2026-12-08T17:49"))
    assert world.dms("hv") == []
    run(engine, slack, at("2026-12-08T17:51"))
    [message] = world.dms("hv")
    assert "recap the main points and the decisions" in blocks_text(message)
    assert "About 9 minutes left" in message["text"]


def test_owner_without_slack_is_chased_through_the_lead_social_worker(engine, slack, world):
    world.add_member("parent", slack=False, name="Parent A", role="Parent")
    overdue_action(world, owner="parent")
    run(engine, slack, NUDGE + timedelta(minutes=2))
    [message] = world.dms("sw")
    assert "Parent A (Parent), who is not on Slack" in blocks_text(message)


def test_away_member_is_not_nudged_and_the_group_is_told(engine, slack, world):
    overdue_action(world)
    world.change_member("hv", now=PLANNED, away_until=date(2026, 12, 18))
    run(engine, slack, PLANNED + timedelta(minutes=1))  # the notice to the group goes at once
    [notice] = world.channel_posts("is away until")
    assert "Health Visitor A (Health visitor) is away until Friday 18 December 2026" in notice["text"]
    assert "Visit the family at home" in blocks_text(notice)
    run(engine, slack, NUDGE + timedelta(minutes=2))
    assert world.dms("hv") == []
    assert world.rows(kind=Kind.OVERDUE, status=MessageStatus.SKIPPED)[0].last_error == "owner_away"


def test_refused_direct_message_goes_once_to_the_members_thread_in_the_channel(engine, slack, world):
    slack.refuse_dm(slack.TEAM, world.user("hv"))
    overdue_action(world)
    world.action("hv", date(2026, 12, 7), now=PLANNED, what="Ring the school")
    run(engine, slack, NUDGE + timedelta(minutes=2))
    messages = slack.messages(world.channel_id)
    parents = [m for m in messages if "Messages for" in m.get("text", "")]
    replies = [m for m in messages if m.get("thread_ts") and m["ts"] != m["thread_ts"]]
    assert len(parents) == 1 and len(replies) == 2
    assert all(r["thread_ts"] == parents[0]["ts"] and r["text"].startswith("<@U0HV>") for r in replies)
    assert {r.delivered_via for r in world.rows(kind=Kind.OVERDUE, status=MessageStatus.SENT)} == {"thread"}


def test_a_message_slack_accepted_before_a_crash_is_not_sent_again(engine, slack, world):
    overdue_action(world)
    with time_machine.travel(NUDGE + timedelta(minutes=1), tick=False):
        sender = dispatcher(engine, slack)
        with sender.deps.session() as session:  # an instance claims the row ...
            [row] = ledger.claim_due(session, now=sender.deps.now(), me="crashed", limit=10,
                                     lease_until=sender.deps.now() + timedelta(minutes=5))
        with sender.deps.session() as session:
            from models.tables import Case, Member

            case, member = session.get(Case, world.case_id), session.get(Member, world.members["hv"])
        delivery.send_to_member(sender.deps, sender.client, member=member, text="Your action is overdue",
                                blocks=[], case=case, key=row.key)  # ... Slack accepts it, and it dies
    run(engine, slack, NUDGE + timedelta(minutes=3))  # its lease has not run out: nothing happens
    run(engine, slack, NUDGE + timedelta(minutes=7))  # it has: the message is found in Slack
    assert len(world.dms("hv")) == 1
    [sent] = world.rows(kind=Kind.OVERDUE, status=MessageStatus.SENT)
    assert sent.slack_ts == world.dms("hv")[0]["ts"]


def test_after_a_crash_a_reply_already_in_the_members_thread_is_not_posted_again(engine, slack, world):
    slack.refuse_dm(slack.TEAM, world.user("hv"))
    overdue_action(world)
    with time_machine.travel(NUDGE + timedelta(minutes=1), tick=False):
        sender = dispatcher(engine, slack)
        with sender.deps.session() as session:
            [row] = ledger.claim_due(session, now=sender.deps.now(), me="crashed", limit=10,
                                     lease_until=sender.deps.now() + timedelta(minutes=5))
        with sender.deps.session() as session:
            from models.tables import Case, Member

            case, member = session.get(Case, world.case_id), session.get(Member, world.members["hv"])
        assert delivery.deliver(sender.deps, sender.client, member=member, text="Your action is overdue",
                                blocks=[], case=case, key=row.key) == "thread"
    run(engine, slack, NUDGE + timedelta(minutes=7))
    replies = [m for m in slack.messages(world.channel_id) if m.get("thread_ts") and m["ts"] != m["thread_ts"]]
    assert len(replies) == 1 and slack.calls_to("conversations.replies")
    [sent] = world.rows(kind=Kind.OVERDUE, status=MessageStatus.SENT)
    assert (sent.delivered_via, sent.slack_ts) == ("thread", replies[0]["ts"])


def test_apologies_follow_up_only_to_those_without_an_update(engine, slack, world):
    from models.tables import Attendance, Update

    meeting = world.meeting(MEETING, now=PLANNED)
    with world.session() as session:
        for key in ("hv", "teacher"):
            session.add(Attendance(meeting_id=meeting, member_id=world.members[key], status="apologies"))
        session.add(Update(meeting_id=meeting, member_id=world.members["teacher"], attending=False))
        session.commit()
    run(engine, slack, at("2026-12-07T09:05"))  # the working day before
    assert [m["text"] for m in world.dms("hv")][-1].startswith("Please send your update")
    assert not any("Please send your update" in m["text"] for m in world.dms("teacher") + world.dms("sw"))


def test_lapse_is_posted_in_the_channel_and_each_manager_is_told_once(engine, slack):
    world = make_world(engine, slack, now=PLANNED, initial=date(2026, 11, 16), opened=True)
    slack.add_user("U0MGR", name="Team Manager A")
    world.change_member("hv", now=PLANNED, manager_team_id=slack.TEAM, manager_user_id="U0MGR")
    world.change_member("teacher", now=PLANNED, manager_team_id=slack.TEAM, manager_user_id="U0MGR")
    # First meeting due within 10 working days of 16 November: by 30 November. Checked on 1 December.
    run(engine, slack, at("2026-12-01T09:10"))
    [post] = world.channel_posts("has not met within the agreed interval")
    assert "by Monday 30 November 2026" in blocks_text(post) and "managers know" in blocks_text(post)
    [dm] = world.dms("manager")
    assert "Health Visitor A (Health visitor), Teacher A (Teacher)" in blocks_text(dm)
    assert "Child" not in blocks_text(dm)
    run(engine, slack, at("2026-12-01T11:00"))
    assert len(world.channel_posts("has not met")) == 1 and len(world.dms("manager")) == 1
    # Still nothing held: the group and managers are told again one interval (six weeks) later.
    assert [r.key for r in world.pending(Kind.LAPSE)] == [f"case:{world.case_id}:lapse:2027-01-11"]


def test_review_conference_prompt_two_weeks_before(engine, slack):
    world = make_world(engine, slack, now=PLANNED, review=date(2027, 2, 8), opened=True)
    run(engine, slack, at("2027-01-25T09:01"))
    [post] = world.channel_posts("agree your recommendation")
    assert "The review conference is on Monday 8 February 2027, in two weeks" in blocks_text(post)
    assert "continue the plan, end the plan, or step up" in blocks_text(post)


def test_stalling_plan_prompts_an_early_review_after_the_meeting(engine, slack, world):
    world.action("hv", date(2026, 12, 20), now=PLANNED, what="Parenting course", carried_forward=3)
    meeting = world.meeting(at("2026-11-24T10:00"), now=PLANNED, status="in_progress")
    world.change_meeting(meeting, now=at("2026-11-24T11:30"), status="ended")
    run(engine, slack, at("2026-11-24T11:31"))
    [post] = world.channel_posts("may be stalling")
    assert "Parenting course" in blocks_text(post) and "carried forward 3 times" in blocks_text(post)
    assert "early review conference" in blocks_text(post)


def test_weekly_drift_summary_flags_an_away_owner(engine, slack):
    world = make_world(engine, slack, now=PLANNED, opened=True)
    world.action("hv", date(2026, 11, 24), now=PLANNED, what="Home visit", carried_forward=2)
    world.change_member("hv", now=at("2026-11-27T12:00"), away_until=date(2026, 12, 11))
    run(engine, slack, at("2026-11-30T09:05"))  # Monday of the next week
    [post] = world.channel_posts("overdue action")
    text = blocks_text(post)
    assert "Home visit" in text and "carried forward twice" in text and "away until Friday 11 December" in text
    assert [r.key for r in world.pending(Kind.DRIFT)] == [f"case:{world.case_id}:drift:2026-W50"]


def test_external_member_gets_the_nudge_directly_or_in_their_thread_when_refused(engine, slack, world):
    from tests.slack_standin import SlackStandIn

    for user_id, name in (("U0EXT1", "Health Visitor B"), ("U0EXT2", "School Nurse B")):
        slack.add_user(user_id, team_id=SlackStandIn.OTHER_TEAM, name=name)
        slack.channels[world.channel_id].members.add(user_id)
        slack.channels[world.channel_id].connected_teams.add(SlackStandIn.OTHER_TEAM)
    with world.session() as session:
        from models.tables import Member

        for key, user_id, name in (("ext1", "U0EXT1", "Health Visitor B"), ("ext2", "U0EXT2", "School Nurse B")):
            member = Member(case_id=world.case_id, name=name, role="Health visitor", agency="NHS trust",
                            slack_team_id=SlackStandIn.OTHER_TEAM, slack_user_id=user_id)
            session.add(member)
            session.commit()
            world.members[key] = member.id
    slack.refuse_dm(SlackStandIn.OTHER_TEAM, "U0EXT2")
    overdue_action(world, owner="ext1")
    overdue_action(world, owner="ext2")
    run(engine, slack, NUDGE + timedelta(minutes=2))
    direct = [m for m in slack.messages("U0EXT1") if m.get("user") == slack.BOT_USER]
    assert len(direct) == 1 and "Your action for CP-TEST-0101 is overdue" in blocks_text(direct[0])
    in_thread = [m for m in slack.messages(world.channel_id) if m.get("text", "").startswith("<@U0EXT2>")]
    assert len(in_thread) == 1 and in_thread[0]["thread_ts"] != in_thread[0]["ts"]
    by_owner = {r.action_id: r.delivered_via for r in world.rows(kind=Kind.OVERDUE, status=MessageStatus.SENT)}
    assert sorted(by_owner.values()) == ["dm", "thread"]


def test_shutdown_finishes_the_message_in_hand_and_hands_back_the_rest(engine, slack, world):
    import threading

    for n in range(3):
        world.action("hv", date(2026, 12, 7), now=PLANNED, what=f"Action {n}")
    slack.delay_next("chat.postMessage", 1.0)
    with time_machine.travel(NUDGE + timedelta(minutes=2), tick=False):
        sender = dispatcher(engine, slack)
        running = threading.Thread(target=sender.run_once)
        running.start()
        slack.wait_for("conversations.open")  # the first message is on its way
        sender.stop()
        running.join(timeout=30)
    assert len(world.dms("hv")) == 1
    first_nudges = [r for r in world.rows(kind=Kind.OVERDUE) if r.key.endswith(":1")]
    assert sorted(r.status for r in first_nudges) == [MessageStatus.PENDING, MessageStatus.PENDING, MessageStatus.SENT]
    assert all(r.attempts == 0 and r.claimed_by is None for r in first_nudges if r.status == MessageStatus.PENDING)
    run(engine, slack, NUDGE + timedelta(minutes=3))  # the next run sends the two handed back
    assert len(world.dms("hv")) == 3


def test_an_away_chair_is_not_prompted_the_lead_social_worker_standing_in_is(engine, slack, world):
    late = at("2026-12-08T16:30")  # 16:30 to 18:00; the health visitor chairs but is away that day
    world.meeting(late, now=PLANNED, chair="hv", status="in_progress")
    world.change_member("hv", now=PLANNED, away_until=date(2026, 12, 11))
    run(engine, slack, at("2026-12-08T17:51"))
    assert world.dms("hv") == []
    [message] = world.dms("sw")
    assert "recap the main points and the decisions" in blocks_text(message)
    [row] = world.rows(kind=Kind.TIMEKEEPING)
    assert (row.status, row.slack_ts) == (MessageStatus.SENT, message["ts"])


def test_an_away_chair_with_the_lead_away_too_is_not_prompted_and_nobody_else_is(engine, slack, world):
    world.meeting(at("2026-12-08T16:30"), now=PLANNED, chair="hv", status="in_progress")
    world.change_member("hv", now=PLANNED, away_until=date(2026, 12, 11))
    world.change_member("sw", now=PLANNED, away_until=date(2026, 12, 9))
    run(engine, slack, at("2026-12-08T17:51"))
    assert world.dms("hv") == world.dms("sw") == world.dms("teacher") == []
    [row] = world.rows(kind=Kind.TIMEKEEPING)
    assert (row.status, row.last_error) == (MessageStatus.SKIPPED, "no_chair")


def test_a_chair_back_from_being_away_is_prompted_again(engine, slack, world):
    world.meeting(at("2026-12-08T16:30"), now=PLANNED, chair="hv", status="in_progress")
    world.change_member("hv", now=PLANNED, away_until=date(2026, 12, 7))  # back on Tuesday the 8th
    run(engine, slack, at("2026-12-08T17:51"))
    assert world.dms("sw") == []
    assert len(world.dms("hv")) == 1


@pytest.mark.parametrize("slack_posted_it", [True, False], ids=["slack-posted-it-late", "slack-never-posted-it"])
def test_a_send_that_times_out_stays_unsent_and_the_next_run_makes_sure_it_arrives_once(
        engine, slack, world, slack_posted_it):
    overdue_action(world)
    # Slack takes 3 seconds to answer; the dispatcher's client gives up after one.
    slack.delay_next("chat.postMessage", 3.0)
    if not slack_posted_it:
        slack.fail_next("chat.postMessage", status=500, times=1)  # ... and in the end it did not post it
    outcome = run(engine, slack, NUDGE + timedelta(minutes=2), timeout=1)
    assert outcome == {"failed": 1}
    [row] = world.rows(kind=Kind.OVERDUE)
    assert (row.status, row.attempts, row.sent_at) == (MessageStatus.PENDING, 1, None)
    assert row.last_error.startswith("net:")  # not known either way: Slack is asked before sending again
    slack.wait_for("chat.postMessage", timeout=10)  # the slow answer has come back by now
    assert len(world.dms("hv")) == (1 if slack_posted_it else 0)
    posts_before = len(slack.calls_to("chat.postMessage"))

    assert run(engine, slack, NUDGE + timedelta(minutes=3), timeout=1)["sent"] == 1
    [message] = world.dms("hv")  # exactly once, either way
    assert "Your action for CP-TEST-0101 is overdue" in blocks_text(message)
    assert slack.calls_to("conversations.history"), "Slack should have been asked first"
    assert len(slack.calls_to("chat.postMessage")) == posts_before + (0 if slack_posted_it else 1)
    [sent] = world.rows(kind=Kind.OVERDUE, status=MessageStatus.SENT)
    assert (sent.id, sent.slack_ts, sent.attempts) == (row.id, message["ts"], 1)
    run(engine, slack, NUDGE + timedelta(minutes=30), timeout=1)
    assert len(world.dms("hv")) == 1


def test_the_timekeeping_prompt_goes_to_whoever_actually_chairs(engine, slack, world):
    meeting = world.meeting(at("2026-12-08T16:30"), now=PLANNED, chair="hv", status="in_progress")
    world.change_meeting(meeting, now=PLANNED, chaired_by_member_id=world.members["teacher"])  # hv sent apologies
    run(engine, slack, at("2026-12-08T17:51"))
    assert world.dms("hv") == [] and world.dms("sw") == []
    [message] = world.dms("teacher")
    assert "recap the main points and the decisions" in blocks_text(message)


def test_before_the_start_a_chair_with_apologies_is_not_prompted_the_lead_social_worker_is(engine, slack, world):
    from models import meetings
    from models.audit import Actor
    from models.tables import Meeting, Member

    meeting = world.meeting(at("2026-12-08T16:30"), now=PLANNED, chair="hv")
    with world.session() as session:
        meetings.set_attendance(session, meeting=session.get(Meeting, meeting),
                                member=session.get(Member, world.members["hv"]), status="apologies",
                                actor=Actor(team_id="T0COUNCIL", user_id="U0HV"), now=PLANNED)
        session.commit()
    run(engine, slack, at("2026-12-08T17:51"))
    assert world.dms("hv") == []
    assert len(world.dms("sw")) == 1
