"""Posting what the core group decided or agreed: in the meeting's thread while a meeting is on,
otherwise in the case channel. Also opening a modal from wherever a person clicked."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlmodel import Session

from handlers import access, outbox
from handlers.deps import Deps
from models import current_meeting
from models import outbox as outbox_rows
from models.ledger import Kind
from models.tables import Case

log = logging.getLogger(__name__)


def where(session: Session, case: Case) -> tuple[str | None, str | None, int | None]:
    """(channel, thread ts, meeting id): the meeting's thread when a meeting is in progress."""
    meeting = current_meeting.in_progress(session, case.id)
    if meeting is None:
        return case.channel_id, None, None
    channel = meeting.channel_id or case.channel_id
    return channel, meeting.message_ts, meeting.id


# What Slack may do to a call: refuse it or keep failing (SlackApiError, after the client's retries), or not
# answer in time (a timeout or a dropped connection: the call may still have been carried out).
SLACK_FAILED = (SlackClientError, OSError)


def post(client: WebClient, *, channel: str | None, thread_ts: str | None, message: dict,
         what: str, notify: str | None = None) -> str | None:
    """Post, and return the message ts; a refusal by Slack is logged (ids only), not raised, and the person
    who acted (`notify`, a user id) is told privately that the record is saved but may not be in the channel."""
    if not channel:
        return None
    try:
        reply = client.chat_postMessage(channel=channel, thread_ts=thread_ts, **message)
    except SLACK_FAILED as error:
        code = error.response.get("error") if isinstance(error, SlackApiError) else type(error).__name__
        log.warning("could not post %s in %s: %s", what, channel, code)
        if notify:
            access.tell_in_channel(client, channel, notify, access.NOT_CONFIRMED)
        return None
    return reply.get("ts")


def plan(session: Session, deps: Deps, *, key: str, case_id: int, channel: str | None, thread_ts: str | None,
         message: dict, notify: str | None = None) -> list[str]:
    """`post`, but through the outbox: written in the change's own transaction (so it is not lost if the process
    dies after the commit, nor dropped if Slack refuses past the client's retries); send the keys with `send`
    after the commit. `key` names the change (its once-only claim or its record); `notify` (a user id) is told
    privately if Slack does not take it at once."""
    return outbox_rows.case_post(session, key=key, case_id=case_id, channel=channel, thread_ts=thread_ts,
                                 message=message, notify=notify, now=deps.now())


def send(deps: Deps, client: WebClient, keys: list[str]) -> None:
    """Send what `plan` wrote, now (after the commit); the scheduler's run sends whatever this does not."""
    outbox.send_all_now(deps, client, keys)


@outbox.sender(Kind.CASE_POST, unconfirmed=access.NOT_CONFIRMED)
def _send_planned(job: outbox.Job) -> None:
    """A message planned by `plan`, posted as it was built, once."""
    detail = job.detail
    job.post(channel=detail["channel"], message=detail["message"], thread_ts=detail.get("thread"))


def in_modal(body: dict) -> bool:
    """Was this click inside a modal (so a new form is pushed on top of it)?"""
    return (body.get("view") or {}).get("type") == "modal"


def open_view(client: WebClient, body: dict, trigger_id: str | None, view: dict) -> str | None:
    """Open the form, or push it on top of the modal the person clicked in. Returns the id Slack gave it."""
    if not trigger_id:
        return None
    if in_modal(body):
        opened = client.views_push(trigger_id=trigger_id, view=view)
    else:
        opened = client.views_open(trigger_id=trigger_id, view=view)
    return ((opened.get("view") if opened is not None else None) or {}).get("id")
