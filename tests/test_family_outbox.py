"""The family's posts that follow a commit go through the outbox (handlers/outbox.py): the request to prepare the
family version after a record is posted, "given to the family" in the record's thread, and the outline for the
family when a meeting is booked. When Slack refuses
them more times than the client retries, the scheduler's run sends them later, once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlmodel import Session, select

from handlers.ids import Action, Block, View
from models.tables import AuditEvent
from tests.family_world import buttons, dm_texts, prepare_and_approve
from tests.helpers import ephemeral_texts, new_case, opened_view, schedule_meeting
from tests.recap_world import Plan, running_meeting
from tests.reminder_world import dispatcher
from tests.test_end import MEMBERS, end_and_post

ASK = "Please prepare the family version"
GIVEN = "read together at a home visit"


@pytest.fixture
def world(people, slack, app):
    info = new_case(people, slack, members=MEMBERS)
    return running_meeting(app.engine, info, people, Plan())


def _refuse(slack, words: str) -> None:
    """Slack refuses the post holding `words`: the first try and both of the client's retries (bot/slack.py)."""
    slack.fail_next("chat.postMessage", status=503, error="service_unavailable", retry_after=0, times=3,
                    where=lambda args: words in json.dumps(args))


def _later(app, slack) -> None:
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=1), tick=True):  # the retry is due
        dispatcher(app.engine, slack).run_once()
    dispatcher(app.engine, slack).run_once()  # a second run has nothing left to send


def test_the_request_to_prepare_the_family_version_is_sent_later_once_when_slack_refused_it(
        people, slack, app, world):
    _refuse(slack, ASK)
    end_and_post(people, slack, world)
    assert ASK not in dm_texts(slack, people["sw"].user_id)

    _later(app, slack)
    asks = [m for m in slack.messages(people["sw"].user_id) if ASK in (m.get("text") or "")]
    assert len(asks) == 1
    assert buttons(asks, Action.FAMILY_PREPARE)  # and it works: the family version can be prepared from it
    prepare_and_approve(people, slack)


def test_given_to_the_family_is_posted_later_once_when_slack_refused_it(people, slack, app, world):
    recap = end_and_post(people, slack, world)
    prepare_and_approve(people, slack)
    given_value = None
    for call in slack.calls_to("response_url"):
        found = buttons([call.args], Action.FAMILY_GIVEN)
        given_value = found[-1] if found else given_value
    people["sw"].click(Action.FAMILY_GIVEN, given_value, channel=people["sw"].user_id)
    _refuse(slack, GIVEN)
    reply = people["sw"].submit(opened_view(slack, View.FAMILY_GIVEN),
                                {Block.GIVEN_ON: "2026-11-23", Block.GIVEN_HOW: "home_visit"})
    assert reply.status == 200 and "Saved." in reply.body

    def notes() -> list[dict]:
        return [m for m in slack.messages(world.channel_id)
                if m.get("thread_ts") == recap.message_ts and GIVEN in (m.get("text") or "")]

    assert notes() == []
    assert any("will be posted" in text for text in ephemeral_texts(slack))  # told it follows, not lost
    _later(app, slack)
    assert len(notes()) == 1


def test_the_outline_for_the_family_is_uploaded_later_once_when_slack_refused_it(people, slack, app):
    case = new_case(people, slack)
    # Slack refuses the upload: the first try and both of the client's retries.
    slack.fail_next("files.getUploadURLExternal", status=503, error="service_unavailable", retry_after=0, times=3)
    meeting = schedule_meeting(people, slack, case, date="2026-11-25")

    def outlines() -> list[dict]:
        return [m for m in slack.messages(people["sw"].user_id) if m.get("files")]

    assert outlines() == []
    _later(app, slack)
    [message] = outlines()
    assert "is booked" in message["text"]
    assert message["files"][0]["name"] == f"CP-TEST-0001-meeting-{meeting.number}-outline-for-the-family.docx"
    with Session(app.engine) as session:
        sent = session.exec(select(AuditEvent).where(AuditEvent.action == "family_outline.sent")).all()
    assert len(sent) == 1
