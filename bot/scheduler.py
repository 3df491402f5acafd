"""APScheduler 3 inside `coregroup run` (Socket Mode and HTTP): an interval job that sends due messages, and one
that checks each open case channel's members against its core group (handlers/channel_check.py, every 15
minutes, first one interval after start).

The job is deliberately simple, because exactly-once lives in the ledger, not in the scheduler:

- one job with an explicit id and ``replace_existing=True``; its only argument is an id (the
  dispatcher's instance name), looked up in this process;
- ``coalesce=True`` and ``max_instances=1``: runs that piled up while one was slow become one run, and
  two runs never overlap in one process;
- ``misfire_grace_time`` of one interval: a run a little late still happens; one later than that is
  dropped, which loses nothing, because the next run claims whatever is due (APScheduler's own default
  of one second would drop runs quietly; here a dropped run only means the next one does the work);
- the scheduler's timezone is COREGROUP_TIMEZONE, and its job store is memory: each instance has its
  own scheduler and they share only the database (APScheduler's FAQ: a job store is never shared by two
  running schedulers);
- the first run is at start, so whatever fell due while the app was down is sent (or, past the grace,
  recorded as missed) straight away, and recaps left half-posted are finished.

Sending happens on the scheduler's worker thread, never on a thread answering Slack's requests. When
the scheduler shuts down (SIGTERM), the dispatcher finishes the message it is sending and hands the
rest of its batch back to the ledger, so a restart or another instance picks them up at once.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk import WebClient

from handlers import channel_check
from handlers.deps import Deps
from handlers.reminders import Dispatcher, policy_from
from models import reminders

log = logging.getLogger(__name__)

JOB_ID = "coregroup-send-due-messages"
CHECK_JOB_ID = "coregroup-check-case-channels"
_dispatchers: dict[str, Dispatcher] = {}


def send_due_messages(instance: str) -> None:
    """The job: one dispatcher run for this process's instance."""
    dispatcher = _dispatchers.get(instance)
    if dispatcher is None:
        log.warning("scheduled work: no dispatcher %s in this process", instance)
        return
    outcome = dispatcher.run_once()
    if dispatcher.runs == 1:
        log.info("scheduled work: first run done (%s)",
                 ", ".join(f"{k} {v}" for k, v in sorted(outcome.items())) or "nothing due")


def check_case_channels(instance: str) -> None:
    """The job: the members of every open case channel against the core group, for this process's instance."""
    dispatcher = _dispatchers.get(instance)
    if dispatcher is None:
        log.warning("channel check: no dispatcher %s in this process", instance)
        return
    outcome = channel_check.check_all(dispatcher.deps, dispatcher.client)
    if outcome:
        log.info("channel check: %s", ", ".join(f"{k} {v}" for k, v in sorted(outcome.items())))


def start_scheduler(deps: Deps, client: WebClient) -> BackgroundScheduler:
    """Start the background scheduler with the dispatch job; returns it started."""
    settings = deps.settings
    reminders.configure(policy_from(settings))
    dispatcher = Dispatcher(deps, client)
    dispatcher.start()
    _dispatchers[dispatcher.instance] = dispatcher
    tz = ZoneInfo(settings.timezone)
    interval = max(1, settings.scheduler_interval_seconds)
    scheduler = BackgroundScheduler(timezone=tz, executors={"default": ThreadPoolExecutor(max_workers=2)})
    scheduler.add_job(
        send_due_messages,
        trigger=IntervalTrigger(seconds=interval, timezone=tz),
        args=[dispatcher.instance],
        id=JOB_ID,
        name="send scheduled messages that are due",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=interval,
        next_run_time=datetime.now(tz),
    )
    every = int(channel_check.CHECK_EVERY.total_seconds())
    scheduler.add_job(  # its own worker, so a slow check never holds up the messages that are due
        check_case_channels,
        trigger=IntervalTrigger(seconds=every, timezone=tz),
        args=[dispatcher.instance],
        id=CHECK_JOB_ID,
        name="check case channels' members against their core groups",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=every,
    )
    scheduler.add_listener(lambda _event: dispatcher.stop(), EVENT_SCHEDULER_SHUTDOWN)
    scheduler.start()
    log.info("scheduled work: started as %s, every %s seconds", dispatcher.instance, interval)
    return scheduler
