"""Delivering a message to a member, and finding a scheduled message that Slack already has.

A member is sent a direct message. Where Slack or an organisation's policy refuses it (a Slack Connect
member the app may not message, a messages tab turned off, a deactivated account), the message goes
once into a thread in the case channel kept for that member and addressed to them; the ledger records
which way it went (`delivered_via`: dm, thread or channel). A member without Slack is addressed by name
in the channel.

Every scheduled message carries its idempotency key in Slack message metadata, so that after a crash
between Slack accepting a message and the ledger recording it, the sender can look for it
(`find_delivered`) instead of sending it twice.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import update
from sqlmodel import select

from handlers.blocks import reminders as texts
from handlers.deps import Deps
from models import ledger
from models.ledger import Kind, Planned
from models.tables import Case, Member, MessageStatus, ScheduledMessage

log = logging.getLogger(__name__)

METADATA_TYPE = "coregroup_scheduled_message"
# Slack's answers that mean "you may not message this person directly" (conversations.open and
# chat.postMessage): try the case channel instead.
DM_REFUSED = frozenset({
    "invalid_user_combination", "messages_tab_disabled", "channel_not_found", "cannot_dm_bot", "user_not_found",
    "user_not_visible", "user_disabled", "restricted_action", "not_in_channel", "is_archived", "ekm_access_denied",
    "method_not_supported_for_channel_type",
})
SCAN_PAGES = 2  # how far back (100 messages a page) to look for a message that may have been sent
_PROCESS = f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Delivery:
    via: str  # dm, thread or channel
    channel: str
    ts: str


class Refused(Exception):
    """Slack will not let the app message this person, and there is no channel to fall back to."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class Busy(Exception):
    """Another instance is creating the member's thread right now; try again on the next run."""


def metadata(key: str) -> dict:
    return {"event_type": METADATA_TYPE, "event_payload": {"key": key}}


def error_code(error: SlackApiError) -> str:
    return str(error.response.get("error") or "") if isinstance(error.response.data, dict) else ""


def _post(client: WebClient, *, channel: str, text: str, blocks: list[dict], key: str,
          thread_ts: str | None = None) -> dict:
    return client.chat_postMessage(channel=channel, text=text, blocks=blocks, metadata=metadata(key),
                                   thread_ts=thread_ts, unfurl_links=False, unfurl_media=False)


def open_dm(client: WebClient, user_id: str) -> str:
    return client.conversations_open(users=user_id)["channel"]["id"]


def deliver(deps: Deps, client: WebClient, *, member: Member, text: str, blocks: list[dict], case: Case,
            key: str) -> str:
    """Send to a member: "dm", or "thread" (the case channel's thread addressed to them) when Slack refuses
    the direct message, or "channel" for a member without Slack. Raises SlackApiError otherwise."""
    return send_to_member(deps, client, member=member, text=text, blocks=blocks, case=case, key=key).via


def send_to_member(deps: Deps, client: WebClient, *, member: Member, text: str, blocks: list[dict], case: Case,
                   key: str) -> Delivery:
    if member.slack_user_id:
        try:
            reply = _post(client, channel=open_dm(client, member.slack_user_id), text=text, blocks=blocks, key=key)
            return Delivery("dm", reply["channel"], reply["ts"])
        except SlackApiError as error:
            code = error_code(error)
            if code not in DM_REFUSED:
                raise
            log.info("direct message to member %s refused (%s): using the case channel", member.id, code)
        parent = member_thread(deps, client, case=case, member=member)
        text, blocks = texts.addressed(member, text, blocks)
        reply = _post(client, channel=case.channel_id, text=text, blocks=blocks, key=key, thread_ts=parent)
        return Delivery("thread", reply["channel"], reply["ts"])
    text, blocks = texts.addressed(member, text, blocks)
    reply = _post(client, channel=case.channel_id, text=text, blocks=blocks, key=key)
    return Delivery("channel", reply["channel"], reply["ts"])


def send_to_user(client: WebClient, *, team_id: str, user_id: str, text: str, blocks: list[dict], key: str
                 ) -> Delivery:
    """A direct message to someone who is not a member (a manager). Raises Refused if Slack says no."""
    try:
        reply = _post(client, channel=open_dm(client, user_id), text=text, blocks=blocks, key=key)
    except SlackApiError as error:
        if error_code(error) in DM_REFUSED:
            raise Refused(error_code(error)) from None
        raise
    return Delivery("dm", reply["channel"], reply["ts"])


def send_to_channel(client: WebClient, *, case: Case, text: str, blocks: list[dict], key: str) -> Delivery:
    reply = _post(client, channel=case.channel_id, text=text, blocks=blocks, key=key)
    return Delivery("channel", reply["channel"], reply["ts"])


# --- the member's thread in the case channel ------------------------------------------------------


def thread_key(case_id: int, member_id: int) -> str:
    return f"thread:{case_id}:{member_id}"


def member_thread(deps: Deps, client: WebClient, *, case: Case, member: Member) -> str:
    """The ts of the member's thread in the case channel, posting its first message if there is none.

    The thread's ledger row (status sent, never dispatched) is both where its ts is kept and a short
    lock, so that two instances do not start two threads for one person."""
    key = thread_key(case.id, member.id)
    now = deps.now()
    with deps.session() as session:
        row = session.exec(select(ScheduledMessage).where(ScheduledMessage.key == key)).first()
        if row is not None and row.slack_ts:
            return row.slack_ts
        retry = row is not None
        if row is None:
            ledger.insert_new(session, [Planned(key=key, kind=Kind.THREAD, case_id=case.id, member_id=member.id,
                                                due_at=now)], now=now)
        taken = session.execute(
            update(ScheduledMessage).where(
                ScheduledMessage.key == key, ScheduledMessage.slack_ts.is_(None),
                ScheduledMessage.claimed_until.is_(None) | (ScheduledMessage.claimed_until < now)
                | (ScheduledMessage.claimed_by == _PROCESS))
            .values(status=MessageStatus.SENT, claimed_by=_PROCESS, claimed_until=now + timedelta(minutes=2),
                    delivered_via="channel")).rowcount
    if not taken:
        raise Busy(key)
    found = _scan(client, key, case.channel_id, None) if retry else None
    if found is None:
        text, blocks = texts.thread_parent(member)
        reply = _post(client, channel=case.channel_id, text=text, blocks=blocks, key=key)
        ts = reply["ts"]
    else:
        ts = found
    with deps.session() as session:
        session.execute(update(ScheduledMessage).where(ScheduledMessage.key == key)
                        .values(slack_channel=case.channel_id, slack_ts=ts, sent_at=now, claimed_until=None))
    return ts


def thread_of(deps: Deps, case_id: int, member_id: int) -> str | None:
    with deps.session() as session:
        return session.exec(select(ScheduledMessage.slack_ts).where(
            ScheduledMessage.key == thread_key(case_id, member_id))).first()


# --- looking for a message Slack may already have -------------------------------------------------


def _scan(client: WebClient, key: str, channel: str, thread_ts: str | None) -> str | None:
    """The ts of the newest message in the conversation (or thread) carrying this key, if any."""
    cursor = None
    for _ in range(SCAN_PAGES):
        if thread_ts:
            page = client.conversations_replies(channel=channel, ts=thread_ts, include_all_metadata=True,
                                                limit=100, cursor=cursor)
        else:
            page = client.conversations_history(channel=channel, include_all_metadata=True, limit=100,
                                                cursor=cursor)
        for message in page.get("messages") or []:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if (message.get("metadata") or {}).get("event_type") == METADATA_TYPE and payload.get("key") == key:
                return message["ts"]
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None
    return None


def find_delivered(deps: Deps, client: WebClient, *, key: str, case: Case, member: Member | None = None,
                   user: tuple[str, str] | None = None) -> Delivery | None:
    """Where a message with this key already is, looking everywhere it could have gone; None if nowhere
    (or if Slack cannot be asked: then it is sent, as a lost reminder is worse than a repeated one)."""
    places: list[tuple[str, str, str | None]] = []
    try:
        person = user[1] if user else (member.slack_user_id if member else None)
        if person:
            try:
                places.append(("dm", open_dm(client, person), None))
            except SlackApiError as error:
                if error_code(error) not in DM_REFUSED:
                    raise
        if member is not None:
            thread = thread_of(deps, case.id, member.id)
            if thread:
                places.append(("thread", case.channel_id, thread))
        if user is None and (member is None or not member.slack_user_id):
            places.append(("channel", case.channel_id, None))
        for via, channel, thread_ts in places:
            ts = _scan(client, key, channel, thread_ts)
            if ts:
                return Delivery(via, channel, ts)
    except SlackApiError as error:
        log.warning("could not look in Slack for scheduled message %s (%s)", key, error_code(error) or "error")
    return None
