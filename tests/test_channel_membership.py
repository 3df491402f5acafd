"""Membership changes are not lost.

An event whose handling fails because the database is unavailable is answered with an error, so Slack sends
it again, and the retry is applied. And the periodic check of each case channel's members
(handlers/channel_check.py) repairs whatever was missed: it takes out of the core group people who have left
the channel, and names in the channel people who joined it without being added, once.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlmodel import Session, select

from handlers import channel_check
from models.db import make_engine
from models.tables import AuditEvent, Member, MemberStatus
from tests.case_walk import COUNCIL
from tests.conftest import TEST_DAY
from tests.harness import send_event
from tests.helpers import new_case, posted

DEAD = "postgresql://coregroup:coregroup@127.0.0.1:9/nowhere"
LEFT = "left the channel"
FLAGGED = "is not in the core group yet"


@pytest.fixture
def outage(app):
    """Take the database away from the running app (a PostgreSQL port where nothing listens), and bring it back."""
    working = app.deps.engine
    dead = make_engine(DEAD)

    class Outage:
        def start(self):
            app.deps.engine = dead

        def end(self):
            app.deps.engine = working

    yield Outage()
    app.deps.engine = working
    dead.dispose()


def status_of(app, user_id: str) -> str:
    with Session(app.engine) as session:
        return session.exec(select(Member).where(Member.slack_user_id == user_id)).one().status


def event(kind: str, channel: str, user: str) -> dict:
    return {"type": kind, "user": user, "channel": channel, "channel_type": "G", "team": COUNCIL,
            "event_ts": "1700000002.000100"}


def test_someone_who_left_during_an_outage_is_taken_out_when_slack_sends_it_again(people, slack, app, outage):
    case = new_case(people, slack, members=("hv", "teacher"))
    slack.channels[case.channel_id].members.discard("U0HV")
    outage.start()
    first = send_event(app, event("member_left_channel", case.channel_id, "U0HV"), team_id=COUNCIL,
                       event_id="Ev0OUTAGE1")
    assert first.status >= 500  # not acknowledged: Slack will send it again
    assert posted(slack, case.channel_id, LEFT) == []
    outage.end()
    assert status_of(app, "U0HV") == MemberStatus.ACTIVE  # nothing was half-done

    again = send_event(app, event("member_left_channel", case.channel_id, "U0HV"), team_id=COUNCIL,
                       event_id="Ev0OUTAGE1", retry_num=1)

    assert again.status == 200
    assert status_of(app, "U0HV") == MemberStatus.REMOVED
    assert len(posted(slack, case.channel_id, LEFT)) == 1
    # Slack's next retry (it had not seen the answer, say) changes nothing more.
    send_event(app, event("member_left_channel", case.channel_id, "U0HV"), team_id=COUNCIL, event_id="Ev0OUTAGE1",
               retry_num=2)
    assert len(posted(slack, case.channel_id, LEFT)) == 1


def test_someone_who_joined_during_an_outage_is_flagged_when_slack_sends_it_again(people, slack, app, outage):
    case = new_case(people, slack, members=("hv",))
    slack.channels[case.channel_id].members.add("U0OUT")
    outage.start()
    first = send_event(app, event("member_joined_channel", case.channel_id, "U0OUT"), team_id=COUNCIL,
                       event_id="Ev0OUTAGE2")
    assert first.status >= 500
    outage.end()
    assert posted(slack, case.channel_id, FLAGGED) == []

    again = send_event(app, event("member_joined_channel", case.channel_id, "U0OUT"), team_id=COUNCIL,
                       event_id="Ev0OUTAGE2", retry_num=1)

    assert again.status == 200
    assert len(posted(slack, case.channel_id, FLAGGED)) == 1
    # The periodic check does not name them a second time.
    with time_machine.travel(TEST_DAY + timedelta(minutes=30), tick=True):
        channel_check.check_all(app.deps, app.app.client)
    app.wait_idle()
    assert len(posted(slack, case.channel_id, FLAGGED)) == 1


def test_a_slack_connect_event_during_an_outage_is_answered_with_an_error(people, slack, app, outage):
    outage.start()
    reply = send_event(app, {"type": "shared_channel_invite_declined", "invite": {"id": "I0NOWHERE"},
                             "channel": {"id": "C0NOWHERE"}, "declining_user": {"id": "U0EXT", "team_id": "T0EXT"}},
                       team_id=COUNCIL, event_id="Ev0OUTAGE3")
    assert reply.status >= 500


def check(app) -> dict:
    """The scheduler's check, run a while after the case was set up (past the grace for people just added)."""
    with time_machine.travel(TEST_DAY + timedelta(minutes=30), tick=True):
        outcome = channel_check.check_all(app.deps, app.app.client)
    app.wait_idle()
    return dict(outcome)


def test_the_periodic_check_repairs_what_the_events_missed(people, slack, app, monkeypatch):
    monkeypatch.setattr(channel_check, "PAGE", 2)  # the channel is read page by page
    case = new_case(people, slack, members=("hv", "teacher", "gp"))
    channel = slack.channels[case.channel_id]
    # Slack's events about these never arrived.
    channel.members.discard("U0TEACH")
    channel.members.add("U0OUT")

    assert check(app) == {"removed": 1, "flagged": 1}

    assert status_of(app, "U0TEACH") == MemberStatus.REMOVED
    assert status_of(app, "U0HV") == MemberStatus.ACTIVE and status_of(app, "U0GP") == MemberStatus.ACTIVE
    assert len(posted(slack, case.channel_id, LEFT)) == 1
    flagged = posted(slack, case.channel_id, FLAGGED)
    assert len(flagged) == 1 and "<@U0OUT>" in flagged[0]["text"]
    pages = slack.calls_to("conversations.members")
    assert len(pages) >= 3 and any(c.args.get("cursor") for c in pages)
    with Session(app.engine) as session:
        removed = session.exec(select(AuditEvent).where(AuditEvent.action == "member.removed")).all()
    assert len(removed) == 1

    # Nothing changes when nothing has changed: no second removal, no second flag.
    assert check(app) == {}
    assert len(posted(slack, case.channel_id, LEFT)) == 1
    assert len(posted(slack, case.channel_id, FLAGGED)) == 1

    # They leave and come back: named again.
    channel.members.discard("U0OUT")
    assert check(app) == {}
    channel.members.add("U0OUT")
    assert check(app) == {"flagged": 1}
    assert len(posted(slack, case.channel_id, FLAGGED)) == 2


def test_the_check_leaves_alone_someone_added_a_moment_ago(people, slack, app):
    case = new_case(people, slack, members=("hv",))
    slack.channels[case.channel_id].members.discard("U0HV")  # their invitation to the channel is on its way
    outcome = channel_check.check_all(app.deps, app.app.client)  # straight after they were added
    app.wait_idle()
    assert dict(outcome) == {}
    assert status_of(app, "U0HV") == MemberStatus.ACTIVE


def test_a_channel_slack_will_not_read_is_skipped_and_the_rest_are_checked(people, slack, app):
    first = new_case(people, slack, members=("hv",))
    second = new_case(people, slack, reference="CP-TEST-0002", members=("teacher",))
    slack.channels[first.channel_id].members.discard(slack.BOT_USER)  # the app was taken out of the channel
    slack.channels[second.channel_id].members.discard("U0TEACH")
    assert check(app) == {"unreadable": 1, "removed": 1}
    assert status_of(app, "U0TEACH") == MemberStatus.REMOVED


def _refuse(slack, words: str) -> None:
    """Slack refuses the post holding `words`: the first try and both of the client's retries (bot/slack.py)."""
    slack.fail_next("chat.postMessage", status=503, error="service_unavailable", retry_after=0, times=3,
                    where=lambda args: words in (args.get("text") or ""))


def _scheduler_later(app, slack, at) -> None:
    """The scheduler's run once the retry is due, and once more (which has nothing left to send)."""
    from tests.reminder_world import dispatcher

    for _ in range(2):
        with time_machine.travel(at, tick=True):
            dispatcher(app.engine, slack).run_once()


def test_a_membership_post_slack_refused_is_sent_later_once(people, slack, app):
    case = new_case(people, slack, members=("hv", "teacher"))
    slack.channels[case.channel_id].members.discard("U0HV")
    _refuse(slack, LEFT)
    reply = send_event(app, event("member_left_channel", case.channel_id, "U0HV"), team_id=COUNCIL,
                       event_id="Ev0REFUSED1")
    app.wait_idle()
    assert reply.status == 200 and status_of(app, "U0HV") == MemberStatus.REMOVED
    assert posted(slack, case.channel_id, LEFT) == []

    _scheduler_later(app, slack, TEST_DAY + timedelta(hours=1))
    assert len(posted(slack, case.channel_id, LEFT)) == 1


def test_the_periodic_checks_posts_slack_refused_are_sent_later_once(people, slack, app):
    case = new_case(people, slack, members=("hv", "teacher"))
    channel = slack.channels[case.channel_id]
    channel.members.discard("U0TEACH")
    channel.members.add("U0OUT")
    _refuse(slack, LEFT)
    _refuse(slack, FLAGGED)
    assert check(app) == {"removed": 1, "flagged": 1}
    assert posted(slack, case.channel_id, LEFT) == [] and posted(slack, case.channel_id, FLAGGED) == []

    _scheduler_later(app, slack, TEST_DAY + timedelta(hours=2))
    assert len(posted(slack, case.channel_id, LEFT)) == 1
    assert len(posted(slack, case.channel_id, FLAGGED)) == 1
    assert check(app) == {}  # and the next check names nobody again
    assert len(posted(slack, case.channel_id, FLAGGED)) == 1


CANCELLED = "had cancelled, so I took them out"


def _cancelled_invitation(people, slack, app) -> tuple:
    """An invitation sent by email and cancelled from the members list; returns (case, invite id)."""
    from tests.test_multi_agency import invite_by_email, member_by_email, remove_via_members_list

    case = new_case(people, slack)
    invite_by_email(people["sw"], slack, case)
    invite_id = slack.calls_to("conversations.inviteShared")[-1].response["invite_id"]
    assert remove_via_members_list(people["sw"], slack, case, member_by_email(app.engine).id).body == ""
    assert member_by_email(app.engine).status == MemberStatus.REMOVED
    return case, invite_id


def test_a_cancelled_invitation_accepted_when_slack_refused_the_post_is_told_later_once(people, slack, app):
    from tests.test_multi_agency import HV_ID, accepted_event

    case, invite_id = _cancelled_invitation(people, slack, app)
    slack.accept_shared_invite(invite_id, HV_ID)
    _refuse(slack, "had cancelled")
    reply = send_event(app, accepted_event(invite_id, case.channel_id), team_id=COUNCIL, event_id="Ev0CANCEL1")
    app.wait_idle()
    assert reply.status == 200
    assert HV_ID not in slack.channels[case.channel_id].members  # taken out at once
    assert posted(slack, case.channel_id, "had cancelled") == []

    # Slack sends the event again: it is not acted on twice.
    send_event(app, accepted_event(invite_id, case.channel_id), team_id=COUNCIL, event_id="Ev0CANCEL1", retry_num=1)
    _scheduler_later(app, slack, TEST_DAY + timedelta(hours=1))
    assert len(posted(slack, case.channel_id, CANCELLED)) == 1
    assert HV_ID not in slack.channels[case.channel_id].members
    assert len(slack.calls_to("conversations.kick")) <= 2  # at most once more, by the run that told the channel


def test_a_cancelled_invitation_accepted_while_the_app_could_not_finish_is_taken_out_by_the_next_run(
        people, slack, app, monkeypatch):
    """The event is committed, then the process stops before anything reaches Slack (nothing after the answer
    runs): the scheduler's run takes them out and tells the channel, once."""
    from tests.test_multi_agency import HV_ID, accepted_event

    case, invite_id = _cancelled_invitation(people, slack, app)
    slack.accept_shared_invite(invite_id, HV_ID)
    monkeypatch.setattr(app.deps, "later", lambda *args, **kwargs: None)  # the process dies after the answer
    reply = send_event(app, accepted_event(invite_id, case.channel_id), team_id=COUNCIL, event_id="Ev0CANCEL2")
    assert reply.status == 200
    assert HV_ID in slack.channels[case.channel_id].members and slack.calls_to("conversations.kick") == []

    _scheduler_later(app, slack, TEST_DAY + timedelta(minutes=1))
    assert HV_ID not in slack.channels[case.channel_id].members
    assert len(posted(slack, case.channel_id, CANCELLED)) == 1


def test_a_cancelled_invitation_accepted_needing_approval_asks_an_administrator_to_deny_it_once(people, slack, app):
    from tests.test_multi_agency import HV_ID, accepted_event

    case, invite_id = _cancelled_invitation(people, slack, app)
    _refuse(slack, "should deny the request")
    send_event(app, accepted_event(invite_id, case.channel_id, approval_required=True), team_id=COUNCIL,
               event_id="Ev0CANCEL3")
    assert slack.calls_to("conversations.kick") == []  # not in the channel yet: nothing to take them out of
    _scheduler_later(app, slack, TEST_DAY + timedelta(hours=1))
    assert len(posted(slack, case.channel_id, "should deny the request")) == 1
    assert HV_ID not in slack.channels[case.channel_id].members


REMOVED = "from the core group. What they wrote stays in the record."


def _remove_teacher(people, slack, app) -> object:
    from tests.test_multi_agency import remove_via_members_list

    case = new_case(people, slack, members=("hv", "teacher"))
    with Session(app.engine) as session:
        teacher = session.exec(select(Member).where(Member.slack_user_id == "U0TEACH")).one()
    assert remove_via_members_list(people["sw"], slack, case, teacher.id).body == ""
    assert status_of(app, "U0TEACH") == MemberStatus.REMOVED
    return case


def test_someone_removed_when_slack_refused_the_note_is_told_later_once(people, slack, app):
    _refuse(slack, REMOVED)
    case = _remove_teacher(people, slack, app)
    assert "U0TEACH" not in slack.channels[case.channel_id].members  # taken out at once
    assert posted(slack, case.channel_id, REMOVED) == []

    _scheduler_later(app, slack, TEST_DAY + timedelta(hours=1))
    assert len(posted(slack, case.channel_id, REMOVED)) == 1


def test_someone_removed_while_the_app_could_not_finish_is_taken_out_by_the_next_run(people, slack, app, monkeypatch):
    """The removal is committed, then nothing reaches Slack (the process stops straight after the answer): the
    scheduler's run takes them out of the channel and tells the channel, once."""
    from handlers import outbox

    monkeypatch.setattr(outbox, "send_all_now", lambda *args, **kwargs: None)  # the process dies after the commit
    case = _remove_teacher(people, slack, app)
    assert "U0TEACH" in slack.channels[case.channel_id].members and posted(slack, case.channel_id, REMOVED) == []
    monkeypatch.undo()

    _scheduler_later(app, slack, TEST_DAY + timedelta(minutes=1))
    assert "U0TEACH" not in slack.channels[case.channel_id].members
    assert len(posted(slack, case.channel_id, REMOVED)) == 1


def test_when_slack_will_not_take_someone_out_the_remover_is_told_once_though_the_note_is_retried(
        people, slack, app):
    from tests.helpers import ephemeral_texts

    slack.fail_next("conversations.kick", error="restricted_action", status=200, times=2)
    _refuse(slack, REMOVED)
    case = _remove_teacher(people, slack, app)
    _scheduler_later(app, slack, TEST_DAY + timedelta(hours=1))
    assert len(posted(slack, case.channel_id, REMOVED)) == 1
    told = [t for t in ephemeral_texts(slack) if "Slack did not let me take" in t]
    assert len(told) == 1 and "only lets administrators remove people" in told[0]
