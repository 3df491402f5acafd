"""Sending the outbox: what a commit promised Slack, sent exactly once, resumed after a crash or a restart.

A change that must be followed by something in Slack (a started meeting's opening post, a saved update in the
meeting's thread, the next meeting announced after a recap, a chart, a scaling question, a meeting's message
redrawn) writes a ledger row of kind `outbox.*` in its own transaction (models/outbox.py). After the commit the
thread that made the change sends it at once (`send_now`); whatever that thread did not finish — the process died,
or Slack still failed after the client's retries — the scheduler's run (at start, then every interval) claims like
any other due row (handlers/reminders.py) and sends here.

Exactly once, as for scheduled messages (README, "Exactly once"): the row is claimed with a lease; every message
carries `<row key>/<part>` in its Slack message metadata; each part is recorded in the row (its `detail`) as soon
as Slack accepts it, so a resumed row posts only what is missing; the part whose fate is unknown (a claim that ran
out, a timeout, a 5xx) is first looked for in Slack by its metadata (`conversations.history`/`.replies` with
`include_all_metadata`) and recorded if it is there. A timeout is looked into at once, so a message Slack did take
has its timestamp recorded (a scaling question's "Show the scores" needs it) instead of being posted again.
"""

from __future__ import annotations

import logging
import os
import socket
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from handlers import access, delivery
from handlers.deps import Deps
from models import ledger
from models.ledger import Claimed
from models.tables import Case, MessageStatus

log = logging.getLogger(__name__)

MAX_RETRY_DELAY = timedelta(minutes=30)
# Errors after which Slack may have done it all the same: the next attempt looks in Slack first.
UNCERTAIN = ("http:5", "net:", "slack:internal_error", "slack:fatal_error", "slack:request_timeout",
             "slack:service_unavailable", "internal:", "timeout:")


class Skipped(Exception):
    """Raised by a sender when there is nothing (left) to do: the row is recorded as skipped, with the reason."""


class NotYet(Exception):
    """Raised by a sender when what it needs is not there yet (another row must be sent first): tried again later,
    without an error in the log or a word to the person who acted."""


@dataclass
class Sender:
    send: Callable[[Job], None]
    unconfirmed: str | None = None  # told privately to the person who acted when the first attempt fails


SENDERS: dict[str, Sender] = {}


def sender(kind: str, *, unconfirmed: str | None = None):
    """Register the function that sends rows of this kind (each feature registers its own, at import)."""
    def register(fn: Callable[[Job], None]) -> Callable[[Job], None]:
        SENDERS[str(kind)] = Sender(fn, unconfirmed)
        return fn
    return register


def error_text(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        if status == 429 or status >= 500:
            return f"http:{status}"
        return f"slack:{delivery.error_code(exc) or 'error'}"
    if isinstance(exc, (SlackClientError, OSError)):
        return f"net:{type(exc).__name__}"
    if isinstance(exc, NotYet):
        return f"waiting:{exc}"
    return f"internal:{type(exc).__name__}"


def _unknown_fate(exc: BaseException) -> bool:
    """No answer (a timeout, a dropped connection) or a server error: Slack may have carried the call out."""
    if isinstance(exc, SlackApiError):
        return exc.response.status_code >= 500 or delivery.error_code(exc) in ("internal_error", "fatal_error",
                                                                                "request_timeout")
    return isinstance(exc, (SlackClientError, OSError))


class Job:
    """One claimed outbox row being sent: what the sender needs, and `post`, which posts each part once."""

    def __init__(self, deps: Deps, client: WebClient, row: Claimed, me: str, lease: timedelta):
        self.deps, self.client, self.row, self.me, self.lease = deps, client, row, me, lease
        self.detail = dict(row.detail or {})
        self.detail.setdefault("posted", {})
        self.unsure = row.reclaimed or bool(row.attempts and (row.last_error or "").startswith(UNCERTAIN))
        self.channel: str | None = None
        self.ts: str | None = None

    def part_key(self, part: int) -> str:
        return f"{self.row.key}/{part}"

    def case_channel(self) -> str:
        """The row's case channel; Skipped("no_channel") when the case or its channel is gone."""
        with self.deps.reading() as session:
            case = session.get(Case, self.row.case_id) if self.row.case_id else None
            channel_id = case.channel_id if case else None
        if not channel_id:
            raise Skipped("no_channel")
        return channel_id

    def posted(self, part: int) -> tuple[str, str] | None:
        found = self.detail["posted"].get(str(part))
        return (found[0], found[1]) if found else None

    def _record(self, part: int, channel: str, ts: str) -> tuple[str, str]:
        self.detail["posted"][str(part)] = [channel, ts]
        if part == 0 or self.ts is None:
            self.channel, self.ts = channel, ts
        with self.deps.session() as session:
            ledger.set_detail(session, self.row.id, self.detail)
            ledger.renew(session, self.row.id, self.me, self.deps.now() + self.lease)
        return channel, ts

    def _look(self, part: int, channel: str, thread_ts: str | None) -> str | None:
        try:
            return delivery._scan(self.client, self.part_key(part), channel, thread_ts)
        except (SlackClientError, OSError) as exc:  # cannot ask: post (a lost post is worse than a repeated one)
            log.warning("could not look in Slack for %s: %s", self.part_key(part), error_text(exc))
            return None

    def post(self, *, channel: str, message: dict, part: int = 0, thread_ts: str | None = None) -> tuple[str, str]:
        """Post part `part` (in the thread `thread_ts` if given) unless it is recorded or found in Slack; returns
        (channel, ts). Raises what Slack raised when it did not take it."""
        done = self.posted(part)
        if done:
            return done
        if self.unsure:  # the one part whose fate is unknown is the first one not recorded
            self.unsure = False
            found = self._look(part, channel, thread_ts)
            if found:
                log.info("%s was in Slack already: recorded, not posted again", self.part_key(part))
                return self._record(part, channel, found)
        kwargs = dict(message, metadata=delivery.metadata(self.part_key(part)))
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        try:
            reply = self.client.chat_postMessage(channel=channel, **kwargs)
        except (SlackClientError, OSError) as exc:
            if _unknown_fate(exc):
                found = self._look(part, channel, thread_ts)
                if found:
                    log.info("%s had no answer but is in Slack: recorded", self.part_key(part))
                    return self._record(part, channel, found)
            raise
        return self._record(part, reply.get("channel") or channel, reply["ts"])


def instance(deps: Deps) -> str:
    """The name this process claims outbox rows under: COREGROUP_INSTANCE if set (so that after a restart its own
    unfinished claims are taken up at once), else host, process and a random part."""
    if deps.instance is None:
        deps.instance = deps.settings.instance_name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    return deps.instance


def _lease(deps: Deps) -> timedelta:
    return timedelta(seconds=deps.settings.claim_lease_seconds)


def retry_delay(deps: Deps, attempts: int) -> timedelta:
    """Half an interval, then one and a half, three and a half, ... up to 30 minutes (as scheduled messages)."""
    interval = timedelta(seconds=deps.settings.scheduler_interval_seconds)
    return min(interval * (2 ** attempts) - interval / 2, MAX_RETRY_DELAY)


def send_claimed(deps: Deps, client: WebClient, row: Claimed, me: str) -> str:
    """Send a row this instance holds; returns "sent", "skipped", "failed" or "lost claim"."""
    lease = _lease(deps)
    with deps.session() as session:
        if not ledger.renew(session, row.id, me, deps.now() + lease):
            return "lost claim"
    found = SENDERS.get(row.kind)
    job = Job(deps, client, row, me, lease)
    try:
        if found is None:
            raise Skipped("unknown_kind")
        found.send(job)
    except Skipped as skip:
        with deps.session() as session:
            ledger.mark_final(session, row.id, me, MessageStatus.SKIPPED, str(skip))
        return "skipped"
    except Exception as exc:
        code = error_text(exc)
        if code.startswith("internal:"):
            log.error("outbox %s (%s) failed: %s\n%s", row.id, row.kind, type(exc).__name__,
                      "".join(traceback.format_tb(exc.__traceback__)))
        else:
            log.warning("outbox %s (%s) not sent yet: %s", row.id, row.kind, code)
        with deps.session() as session:
            ledger.mark_failed(session, row.id, me, error=code, retry_at=deps.now() + retry_delay(deps, row.attempts))
        if not isinstance(exc, NotYet):
            _tell_unconfirmed(deps, client, row, found)
        return "failed"
    with deps.session() as session:
        if not ledger.mark_sent(session, row.id, me, now=deps.now(), via="outbox", channel=job.channel, ts=job.ts):
            log.warning("outbox %s was sent but its claim had passed to another instance", row.id)
            return "lost claim"
    return "sent"


def _tell_unconfirmed(deps: Deps, client: WebClient, row: Claimed, found: Sender | None) -> None:
    """The first time a post fails, the person who acted is told it will follow (once, privately)."""
    notify = (row.detail or {}).get("notify")
    if row.attempts or not notify or found is None or not found.unconfirmed:
        return
    with deps.reading() as session:
        case = session.get(Case, row.case_id)
        channel = case.channel_id if case else None
    if channel:
        access.tell_in_channel(client, channel, notify, found.unconfirmed)


def send_now(deps: Deps, client: WebClient, key: str) -> str:
    """Send the row with this key now (after the commit that wrote it), unless someone holds it; the scheduler's
    run takes up whatever this does not finish."""
    me = instance(deps)
    now = deps.now()
    with deps.session() as session:
        row = ledger.claim_key(session, key, now=now, me=me, lease_until=now + _lease(deps))
    if row is None:
        return "taken"
    return send_claimed(deps, client, row, me)


def send_all_now(deps: Deps, client: WebClient, keys: list[str]) -> None:
    for key in keys:
        try:
            send_now(deps, client, key)
        except Exception as exc:  # the database failing: the scheduler's run sends it later
            log.error("outbox %s not sent now: %s", key, type(exc).__name__)
