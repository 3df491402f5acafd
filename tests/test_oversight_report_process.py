"""End to end: the monthly oversight report from real `coregroup run --http` processes, on the first working morning
of December 2026, with COREGROUP_REPORT_CHANNEL set. Two processes on one database both find November's report due
on their first run and race for it; a third started afterwards (a restart) finds it sent. Slack gets one report,
with its chart and workbook once each."""

from __future__ import annotations

import time

import pytest
from sqlmodel import select

from models.ledger import Kind
from models.tables import MessageStatus, ScheduledMessage
from tests.appprocess import AppProcess
from tests.oversight_world import build

pytestmark = pytest.mark.slow

MORNING = "2026-12-01T09:05:00+00:00"  # Tuesday 1 December 2026: November's report is due
LATER = "2026-12-01T09:20:00+00:00"
KEY = "oversight:report:2026-11"


def _reports(slack, channel: str) -> list[dict]:
    return [m for m in slack.messages(channel)
            if (m.get("metadata") or {}).get("event_payload", {}).get("key") == KEY]


def _files(slack, channel: str, ts: str) -> list[str]:
    return sorted(f["title"] for m in slack.messages(channel) if m.get("thread_ts") == ts and m.get("ts") != ts
                  for f in m.get("files") or [])


def _row(session) -> ScheduledMessage:
    session.expire_all()
    return session.exec(select(ScheduledMessage).where(ScheduledMessage.kind == Kind.OVERSIGHT_REPORT,
                                                        ScheduledMessage.key == KEY)).one()


def test_two_processes_and_a_restart_post_the_monthly_report_once(engine, session, slack, tmp_path):
    build(session)
    channel = slack.add_channel("core-group-oversight").id
    url = engine.url.render_as_string(hide_password=False)
    env = {"COREGROUP_REPORT_CHANNEL": channel}
    apps = [AppProcess(tmp_path, name, database_url=url, slack=slack, at=MORNING, instance=name, env=env)
            for name in ("app-1", "app-2")]
    try:
        for app in apps:
            app.wait_for_log("scheduled work: first run done", timeout=90)
        slack.wait_for("files.completeUploadExternal", timeout=60)  # the chart and workbook together
        time.sleep(3)  # both go on running their one-second runs
    finally:
        for app in apps:
            app.stop()
    [message] = _reports(slack, channel)
    assert "CoreGroup oversight report for November 2026" in message["text"]
    assert _files(slack, channel, message["ts"]) == ["Oversight chart, November 2026",
                                                     "Oversight report, November 2026"]
    row = _row(session)
    assert row.status == MessageStatus.SENT and row.slack_ts == message["ts"]
    assert row.claimed_by in ("app-1", "app-2")
    session.commit()  # (on SQLite a session's transaction holds the write lock: end it before the restart)

    restarted = AppProcess(tmp_path, "app-3", database_url=url, slack=slack, at=LATER, instance="app-3", env=env)
    try:
        restarted.wait_for_log("scheduled work: first run done", timeout=90)
        time.sleep(2.5)  # a few more runs
    finally:
        restarted.stop()
    assert len(_reports(slack, channel)) == 1
    assert len(slack.calls_to("files.completeUploadExternal")) == 1
    assert _files(slack, channel, message["ts"]) == ["Oversight chart, November 2026",
                                                     "Oversight report, November 2026"]
