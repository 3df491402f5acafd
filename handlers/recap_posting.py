"""Posting an approved recap once, even across a crash; and keeping its message up to date.

Every message of a recap carries the recap's id (and its part number) in Slack message metadata. A
recap left "posting" by a crash is taken up again by `post_pending_recaps` once its lease has run out:
it first looks in the channel's history for the recap's first message (`include_all_metadata`; Slack
asks for the `groups:history` scope in private channels), so a message Slack accepted before the crash
is never posted twice, then posts whatever is missing.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from handlers import outbox
from handlers.blocks.recap import EVENT_TYPE, recap_messages
from handlers.deps import Deps
from models import names
from models import recap as records
from models import recap_posting as lifecycle
from models.tables import Case, Meeting, Recap, RecapStatus

log = logging.getLogger(__name__)

HISTORY_PAGES = 5  # a recap being recovered was approved minutes ago: it is near the top of the channel
# Slack will never let us read the channel (the app lacks `groups:history`): posting then is better than
# never posting the record, so the check is skipped with a warning. Other errors are tried again later.
CANNOT_READ = {"missing_scope", "not_allowed_token_type", "access_denied", "not_in_channel", "channel_not_found"}


def _ours(message: dict, recap_id: int) -> int | None:
    """The part number if the message is part of this recap, else None."""
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    if metadata.get("event_type") != EVENT_TYPE or str(payload.get("recap_id")) != str(recap_id):
        return None
    try:
        return int(payload.get("part") or 0)
    except (TypeError, ValueError):
        return None


def find_posted(client: WebClient, channel: str, recap_id: int) -> str | None:
    """The ts of the recap's first message if Slack already has it."""
    cursor = None
    for _ in range(HISTORY_PAGES):
        try:
            reply = client.conversations_history(channel=channel, include_all_metadata=True, limit=200,
                                                 cursor=cursor)
        except SlackApiError as error:
            if error.response.get("error") not in CANNOT_READ:
                raise
            log.warning("cannot read the channel to check recap %s was not posted already: %s", recap_id,
                        error.response.get("error"))
            return None
        for message in reply.get("messages") or []:
            if _ours(message, recap_id) == 0:
                return message["ts"]
        cursor = (reply.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None
    return None


def parts_in_thread(client: WebClient, channel: str, ts: str, recap_id: int) -> int | None:
    """How many of the recap's messages the thread holds, or None when the thread cannot be read."""
    try:
        reply = client.conversations_replies(channel=channel, ts=ts, include_all_metadata=True, limit=200)
    except SlackApiError as error:
        log.info("could not read the thread of recap %s: %s", recap_id, error.response.get("error"))
        return None
    parts = [p for p in (_ours(m, recap_id) for m in reply.get("messages") or []) if p is not None]
    return max(parts) + 1 if parts else None


def post_recap(deps: Deps, client: WebClient, recap_id: int) -> None:
    """Post the parts of the recap not yet in Slack, recording each as it goes; then mark it posted.

    Raises SlackApiError when Slack refuses a message: what was posted so far stays recorded.
    """
    with deps.session() as session:
        recap = session.get(Recap, recap_id)
        if recap.status == RecapStatus.POSTED:
            return
        meeting = session.get(Meeting, recap.meeting_id)
        case = session.get(Case, meeting.case_id)
        content, start, thread = records.content_of(recap), recap.parts_posted, recap.message_ts
        channel, case_id = recap.channel_id or case.channel_id, case.id
    messages = recap_messages(content, recap_id=recap_id, case_id=case_id)
    for index in range(start, len(messages)):
        kwargs = dict(messages[index])
        if index > 0:
            kwargs["thread_ts"] = thread
        reply = client.chat_postMessage(channel=channel, **kwargs)
        if index == 0:
            thread, channel = reply["ts"], reply.get("channel") or channel
        with deps.session() as session:
            lifecycle.part_posted(session, recap_id=recap_id, part=index, channel_id=channel, ts=reply["ts"],
                                  now=deps.now())
    with deps.session() as session:
        lifecycle.mark_posted(session, recap_id=recap_id, now=deps.now())
    log.info("recap %s posted in %s message(s)", recap_id, len(messages))


def follow_up(deps: Deps, client: WebClient, recap_id: int) -> int | None:
    """What a posted recap is followed by (written to the outbox when it was marked posted): the ended meeting's
    message says so, the next meeting is posted (after the first version), and the charts; sent now, once. A crash
    here loses none of them: the scheduler's run sends whatever is left. Returns the next meeting's id when its
    message was posted here."""
    with deps.session() as session:
        recap = session.get(Recap, recap_id)
        if recap.status != RecapStatus.POSTED:
            return None
        keys = lifecycle.follow_ups(session, recap, now=deps.now(), write=False)
    booked = None
    for key in keys:
        try:
            sent = outbox.send_now(deps, client, key)
        except Exception as exc:  # the database failing: the scheduler's run sends it later
            log.error("outbox %s not sent now: %s", key, type(exc).__name__)
            continue
        if sent == "sent" and key.startswith("meeting:") and key.endswith(":post"):
            booked = int(key.split(":")[1])
    return booked


def post_and_follow_up(deps: Deps, client: WebClient, recap_id: int) -> bool:
    """Post the recap and what follows from it; False when Slack refused (it is posted later, once)."""
    try:
        post_recap(deps, client, recap_id)
    except SlackApiError as error:
        log.warning("recap %s not posted yet: %s", recap_id, error.response.get("error"))
        return False
    except (SlackClientError, OSError) as error:  # no answer in time: checked against the channel when resumed
        log.warning("recap %s not posted yet: %s", recap_id, type(error).__name__)
        return False
    follow_up(deps, client, recap_id)  # the meeting's message, the next meeting and its outline, the charts, the ask
    return True


def _resume(deps: Deps, client: WebClient, recap_id: int) -> bool:
    with deps.session() as session:
        recap = session.get(Recap, recap_id)
        meeting = session.get(Meeting, recap.meeting_id)
        channel = recap.channel_id or session.get(Case, meeting.case_id).channel_id
        first, done = recap.message_ts, recap.parts_posted
    if first is None:
        first = find_posted(client, channel, recap_id)
        if first is not None:
            log.info("recap %s was already in the channel; not posting it again", recap_id)
            with deps.session() as session:
                lifecycle.part_posted(session, recap_id=recap_id, part=0, channel_id=channel, ts=first, now=deps.now())
            done = 1
    if first is not None:
        in_thread = parts_in_thread(client, channel, first, recap_id)
        if in_thread is not None and in_thread > done:
            with deps.session() as session:
                lifecycle.part_posted(session, recap_id=recap_id, part=in_thread - 1, channel_id=channel,
                                      ts=first, now=deps.now())
    return post_and_follow_up(deps, client, recap_id)


def post_pending_recaps(deps: Deps, client: WebClient) -> int:
    """Post, once, any recap a crash left "posting"; the scheduler calls this at start and on each tick."""
    with deps.session() as session:
        waiting = lifecycle.pending_ids(session)
    posted = 0
    for recap_id in waiting:
        with deps.session() as session:
            if not lifecycle.claim(session, recap_id, deps.now()):
                continue  # being posted right now by its approver or another instance
        try:
            if _resume(deps, client, recap_id):
                posted += 1
        except SlackApiError as error:
            log.warning("recap %s still not posted: %s", recap_id, error.response.get("error"))
    return posted


def acknowledged(deps: Deps, client: WebClient, recap_id: int) -> None:
    """Show on the recap's message who has said they read it."""
    with deps.session() as session:
        recap = session.get(Recap, recap_id)
        meeting = session.get(Meeting, recap.meeting_id)
        readers = [{"id": m.id, "name": names.shown(m)} for m in lifecycle.readers(session, recap_id)]
        content, channel, ts = records.content_of(recap), recap.channel_id, recap.message_ts
    if not ts:
        return
    first = recap_messages(content, recap_id=recap_id, case_id=meeting.case_id, read_by=readers)[0]
    try:
        client.chat_update(channel=channel, ts=ts, **first)
    except SlackApiError as error:
        log.info("could not show who read recap %s: %s", recap_id, error.response.get("error"))
