"""The dispatcher: sends what the ledger says is due, each message once.

One run (`Dispatcher.run_once`, called by the scheduler's interval job) repeatedly claims a batch of
due rows (models/ledger.py), decides what each means now (models/dispatch.py), records the rows that
need no message (skipped, missed, fanned out) and sends the rest one by one: each is re-checked
against the domain just before sending, its claim renewed, and it is marked sent only after Slack
accepted it. A row whose earlier attempt may have reached Slack (a claim that ran out, a 5xx or a
timeout) is first looked for in Slack by its key. A failed send goes back to pending and is retried
on a later run, backing off. Outside working hours only the chair's timekeeping prompt is claimed.

Rows too late to be useful are marked missed, and one report per case and run is planned (itself a
ledger row, so it is sent exactly once like everything else).

Sending happens on the scheduler's thread, never on a thread that answers Slack's requests; the
client's retry handlers (bot/slack.py) honour 429 Retry-After and retry 5xx and connection errors.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers import delivery, journal, outbox, oversight_report
from handlers.blocks import reminders as texts
from handlers.chart import share_missing_charts
from handlers.deps import Deps
from handlers.meetings import refresh_meeting_message
from handlers.people import look_up_names
from handlers.recap_posting import post_pending_recaps
from models import dispatch, ledger, planning, reminders
from models.calendar import WorkingCalendar
from models.ledger import Claimed, Kind, Planned

log = logging.getLogger(__name__)

BATCH = 50
MAX_BATCHES = 100  # per run; whatever is left is claimed on the next run
MAX_RETRY_DELAY = timedelta(minutes=30)
FRESH = timedelta(seconds=5)  # a decision older than this is made again just before sending
UNCERTAIN = ("http:5", "net:", "slack:internal_error", "slack:fatal_error", "slack:request_timeout",
             "slack:service_unavailable", "internal:")


def policy_from(settings) -> planning.Policy:
    calendar = WorkingCalendar(timezone=settings.timezone, day_start=settings.working_day_start,
                               day_end=settings.working_day_end)
    return planning.Policy(calendar=calendar, timekeeping_minutes=settings.timekeeping_minutes,
                           grace=timedelta(minutes=settings.grace_minutes))


def register(app: App, deps: Deps) -> None:
    """No listeners: the hooks that request handlers call plan with the deployment's calendar."""
    reminders.configure(policy_from(deps.settings))


def instance_name(deps: Deps) -> str:
    """COREGROUP_INSTANCE if set (stable across restarts), else host, process and a random part."""
    return deps.settings.instance_name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _error(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        if status == 429 or status >= 500:
            return f"http:{status}"
        return f"slack:{delivery.error_code(exc) or 'error'}"
    if isinstance(exc, OSError):
        return f"net:{type(exc).__name__}"
    return f"internal:{type(exc).__name__}"


class Dispatcher:
    """Claims, decides and sends; one per running instance."""

    def __init__(self, deps: Deps, client: WebClient, *, instance: str | None = None, batch: int = BATCH):
        self.deps = deps
        self.client = client
        self.instance = instance or instance_name(deps)
        self.batch = batch
        self.lease = timedelta(seconds=deps.settings.claim_lease_seconds)
        self.interval = timedelta(seconds=deps.settings.scheduler_interval_seconds)
        self.runs = 0
        self._stopping = threading.Event()
        self._names_not_before: dict[str, float] = {}

    def stop(self) -> None:
        """Finish the message being sent, hand back the rest of the batch, and stop (on shutdown)."""
        self._stopping.set()

    @property
    def tz(self) -> str:
        return self.deps.settings.timezone

    def start(self) -> None:
        """A configured, stable instance name: claims held before a restart are looked at now, not after
        their lease has run out."""
        if self.deps.settings.instance_name:
            with self.deps.session() as session:
                released = ledger.release_own(session, self.instance, self.deps.now())
            if released:
                log.info("scheduled work: %s claims from before the restart will be checked", released)

    def run_once(self) -> Counter:
        """One run: everything due now, in batches. Returns how many rows ended which way."""
        outcome: Counter = Counter()
        self.post_pending_recaps()
        self.plan_report()
        for _ in range(MAX_BATCHES):
            if self._stopping.is_set():
                break
            now = self.deps.now()
            anytime_only = not reminders.policy().calendar.in_working_hours(now)
            with self.deps.session() as session:
                rows = ledger.claim_due(session, now=now, me=self.instance, lease_until=now + self.lease,
                                        limit=self.batch, anytime_only=anytime_only)
            if not rows:
                break
            self._batch(rows, outcome)
        if outcome:
            log.info("scheduled work: %s", ", ".join(f"{k} {v}" for k, v in sorted(outcome.items())))
        self.runs += 1
        return outcome

    def look_up_names(self, deps: Deps, client: WebClient) -> int:
        """Names Slack has not given yet, asked for again (backing off from those it would not describe)."""
        return look_up_names(deps, client, not_before=self._names_not_before)

    def post_pending_recaps(self) -> None:
        """Forms answered but not saved yet (the journal), records of meetings left half-posted by a crash, and
        charts whose upload failed: at start and on every run; and names Slack would not give before are asked
        for again. A problem with any of these must not stop the reminders."""
        for finish in (journal.process_pending, post_pending_recaps, share_missing_charts, self.look_up_names):
            try:
                finish(self.deps, self.client)
            except Exception as exc:
                log.error("%s failed: %s\n%s", finish.__name__, type(exc).__name__,
                          "".join(traceback.format_tb(exc.__traceback__)))

    def plan_report(self) -> None:
        """Last month's oversight report, when a report channel is set: its ledger row, planned once."""
        if not self.deps.settings.report_channel:
            return
        try:
            with self.deps.session() as session:
                oversight_report.plan(session, reminders.policy().calendar, self.deps.now())
        except Exception as exc:
            log.error("planning the oversight report failed: %s", type(exc).__name__)

    # --- one batch ----------------------------------------------------------------------------------

    def _batch(self, rows: list[Claimed], outcome: Counter) -> None:
        mail = [row for row in rows if row.kind in ledger.OUTBOX]  # what commits promised: handlers/outbox.py
        rows = [row for row in rows if row.kind not in ledger.OUTBOX]
        for index, row in enumerate(mail):
            if self._stopping.is_set():
                with self.deps.session() as session:
                    ledger.release(session, [r.id for r in mail[index:]] + [r.id for r in rows], self.instance)
                return
            try:
                outcome[f"outbox {outbox.send_claimed(self.deps, self.client, row, self.instance)}"] += 1
            except Exception as exc:  # the database failing mid-way: the claim runs out and it is tried again
                log.error("outbox %s failed: %s", row.id, type(exc).__name__)
        if not rows:
            return
        now = self.deps.now()
        decided: list[tuple[Claimed, dispatch.Decision]] = []
        broken: list[tuple[Claimed, Exception]] = []
        with self.deps.session() as session:
            for row in rows:
                try:
                    decided.append((row, dispatch.decide(session, row, now)))
                except Exception as exc:
                    broken.append((row, exc))
        for row, exc in broken:  # recorded once the deciding session is closed (SQLite has one writer)
            self._failed(row, exc, now)
            outcome["failed"] += 1
        finals = [(row, d) for row, d in decided if not isinstance(d, dispatch.Send)]
        if finals:
            self._record(finals, now, outcome)
        sends = [(row, decision) for row, decision in decided if isinstance(decision, dispatch.Send)]
        for index, (row, decision) in enumerate(sends):
            if self._stopping.is_set():
                with self.deps.session() as session:
                    ledger.release(session, [r.id for r, _ in sends[index:]], self.instance)
                break
            try:
                outcome[self._send(row, decision, now)] += 1
            except Exception as exc:
                self._failed(row, exc, self.deps.now())
                outcome["failed"] += 1

    def _record(self, finals: list[tuple[Claimed, dispatch.Decision]], now: datetime, outcome: Counter) -> None:
        """Skipped, missed and fanned-out rows, in one transaction with what follows from them."""
        missed: dict[int, list[int]] = defaultdict(list)
        with self.deps.session() as session:
            for row, decision in finals:
                if isinstance(decision, dispatch.Expand):
                    ledger.insert_new(session, decision.children, now=now)
                    if ledger.mark_sent(session, row.id, self.instance, now=now, via="fanout"):
                        reminders.after_final(session, row, now)
                        outcome["fanned out"] += 1
                    continue
                status = ledger.MessageStatus.MISSED if isinstance(decision, dispatch.Missed) \
                    else ledger.MessageStatus.SKIPPED
                if ledger.mark_final(session, row.id, self.instance, status, decision.reason):
                    reminders.after_final(session, row, now)
                    outcome[str(status)] += 1
                    if status == ledger.MessageStatus.MISSED and row.case_id is not None:
                        missed[row.case_id].append(row.id)
            for case_id, ids in missed.items():
                ledger.insert_new(session, [Planned(key=f"case:{case_id}:missed:{min(ids)}", kind=Kind.MISSED_REPORT,
                                                    case_id=case_id, due_at=now, detail={"rows": sorted(ids)})],
                                  now=now)

    def _failed(self, row: Claimed, exc: BaseException, now: datetime) -> None:
        code = _error(exc)
        if code.startswith("internal:"):
            log.error("scheduled message %s (%s) failed: %s\n%s", row.id, row.kind, type(exc).__name__,
                      "".join(traceback.format_tb(exc.__traceback__)))
        else:
            log.warning("scheduled message %s (%s) not sent: %s", row.id, row.kind, code)
        # Not again in this run; then half an interval, one and a half, three and a half, ... up to 30 minutes.
        delay = min(self.interval * (2 ** row.attempts) - self.interval / 2, MAX_RETRY_DELAY)
        with self.deps.session() as session:
            ledger.mark_failed(session, row.id, self.instance, error=code, retry_at=now + delay)

    # --- one message ----------------------------------------------------------------------------------

    def _send(self, row: Claimed, decision: dispatch.Decision, decided_at: datetime) -> str:
        now = self.deps.now()
        with self.deps.session() as session:
            if now - decided_at > FRESH:  # the batch took a while: look at the domain again
                decision = dispatch.decide(session, row, now)
            if isinstance(decision, dispatch.Send) and not ledger.renew(session, row.id, self.instance,
                                                                         now + self.lease):
                return "lost claim"
        if not isinstance(decision, dispatch.Send):
            outcome: Counter = Counter()
            self._record([(row, decision)], now, outcome)
            return next(iter(outcome), "lost claim")
        if row.kind == Kind.OVERSIGHT_REPORT:
            return self._send_report(row, decision, now)
        if row.reclaimed or (row.attempts and (row.last_error or "").startswith(UNCERTAIN)):
            found = delivery.find_delivered(self.deps, self.client, key=row.key, case=decision.case,
                                            member=decision.member, user=decision.user)
            if found is not None:
                log.info("scheduled message %s was already in Slack: recorded, not sent again", row.id)
                return self._followed_up(decision, self._sent(row, found, now))
        text, blocks = texts.for_send(decision, kind=row.kind, tz=self.tz,
                                      today=planning.local_day(reminders.policy().calendar, now))
        try:
            if decision.member is not None:
                result = delivery.send_to_member(self.deps, self.client, member=decision.member, text=text,
                                                 blocks=blocks, case=decision.case, key=row.key)
            elif decision.user is not None:
                team_id, user_id = decision.user
                result = delivery.send_to_user(self.client, team_id=team_id, user_id=user_id, text=text,
                                               blocks=blocks, key=row.key)
            else:
                result = delivery.send_to_channel(self.client, case=decision.case, text=text, blocks=blocks,
                                                  key=row.key)
        except delivery.Refused as refused:
            outcome = Counter()
            self._record([(row, dispatch.Skip(f"dm_refused:{refused.code}"))], now, outcome)
            return "skipped"
        except delivery.Busy:
            self._failed(row, OSError("busy"), self.deps.now())
            return "failed"
        except (SlackApiError, OSError) as exc:
            self._failed(row, exc, self.deps.now())
            return "failed"
        return self._followed_up(decision, self._sent(row, result, self.deps.now()))

    def _followed_up(self, decision: dispatch.Send, outcome: str) -> str:
        """After the notice that a meeting left open was closed without a record: its message and the chair's
        panel say it has ended and keep only Write the record, so nobody presses buttons that no longer work."""
        facts = decision.facts
        if outcome == "sent" and isinstance(facts, dispatch.LeftOpen) and facts.closed:
            refresh_meeting_message(self.client, self.deps, facts.meeting.id)
        return outcome

    def _send_report(self, row: Claimed, decision: dispatch.Send, now: datetime) -> str:
        if not self.deps.settings.report_channel:
            outcome: Counter = Counter()
            self._record([(row, dispatch.Skip("no_report_channel"))], now, outcome)
            return "skipped"
        try:
            result = oversight_report.post(self.deps, self.client, key=row.key, month=decision.facts.month)
        except (SlackApiError, OSError) as exc:
            self._failed(row, exc, self.deps.now())
            return "failed"
        return self._sent(row, result, self.deps.now())

    def _sent(self, row: Claimed, result: delivery.Delivery, now: datetime) -> str:
        with self.deps.session() as session:
            if not ledger.mark_sent(session, row.id, self.instance, now=now, via=result.via, channel=result.channel,
                                    ts=result.ts):
                log.warning("scheduled message %s was sent but its claim had passed to another instance", row.id)
                return "lost claim"
            reminders.after_final(session, row, now)
        return "sent"
