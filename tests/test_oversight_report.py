"""The monthly oversight report: posted once to COREGROUP_REPORT_CHANNEL through the ledger, with its chart and its
workbook, across restarts, a crash after Slack took it, a failed upload, and two instances."""

from __future__ import annotations

import io
import json
import threading
from datetime import timedelta

import pytest
import time_machine
from openpyxl import load_workbook
from sqlmodel import Session, select

from models import reminders
from models.ledger import Kind
from models.planning import Policy
from models.tables import MessageStatus, ScheduledMessage
from tests.oversight_world import build
from tests.reminder_world import at, dispatcher

FIRST_WORKING_MORNING = at("2026-12-01T09:05")  # Tuesday 1 December 2026: November's report is due


@pytest.fixture(autouse=True)
def default_policy():
    reminders.configure(Policy())
    yield
    reminders.configure(Policy())


@pytest.fixture
def channel(engine, slack, session):
    build(session)
    return slack.add_channel("core-group-oversight").id


def run(engine, slack, channel, when, instance="test-instance"):
    with time_machine.travel(when, tick=False):
        sender = dispatcher(engine, slack, report_channel=channel)
        sender.instance = instance
        return sender.run_once()


def reports(slack, channel) -> list[dict]:
    return [m for m in slack.messages(channel) if m.get("metadata", {}).get("event_type")
            and m["metadata"]["event_payload"]["key"] == "oversight:report:2026-11"]


def files_in_thread(slack, channel, ts) -> list[dict]:
    return [f for m in slack.messages(channel) if m.get("thread_ts") == ts and m.get("ts") != ts
            for f in m.get("files") or []]


def rows(engine) -> list[ScheduledMessage]:
    with Session(engine) as session:
        return list(session.exec(select(ScheduledMessage).where(ScheduledMessage.kind == Kind.OVERSIGHT_REPORT)))


def test_the_monthly_report_is_posted_once_with_its_chart_and_workbook(engine, slack, channel):
    run(engine, slack, channel, FIRST_WORKING_MORNING)
    [message] = reports(slack, channel)
    assert "CoreGroup oversight report for November 2026" in message["text"]
    text = json.dumps(message["blocks"])
    assert "Meetings left open: 1" in text and "Police" not in text  # no core group held in November
    assert "CP-TEST" not in text and "Child A" not in text
    files = files_in_thread(slack, channel, message["ts"])
    assert sorted(f["title"] for f in files) == ["Oversight chart, November 2026", "Oversight report, November 2026"]
    book_id = next(f["id"] for f in files if f["title"].startswith("Oversight report"))
    book = load_workbook(io.BytesIO(slack.uploaded_files[book_id].content))
    left_open = [[c.value for c in row] for row in book["Meetings left open"].iter_rows()]
    assert left_open[1] == ["2026-11", 1]
    first = [[c.value for c in row] for row in book["First core group on time"].iter_rows()]
    assert first[1][:6] == ["2026-11", 2, 0, 0, 0, 1]  # on 30 November both first meetings are overdue
    assert first[1][5] == 1
    [row] = rows(engine)
    assert row.status == MessageStatus.SENT and row.case_id is None and row.slack_ts == message["ts"]

    # Later runs, a restart (a new dispatcher), another instance: nothing more.
    run(engine, slack, channel, FIRST_WORKING_MORNING + timedelta(minutes=5))
    run(engine, slack, channel, FIRST_WORKING_MORNING + timedelta(days=1), instance="another-instance")
    assert len(reports(slack, channel)) == 1 and len(files_in_thread(slack, channel, message["ts"])) == 2
    assert len(slack.calls_to("files.completeUploadExternal")) == 1


def test_nothing_is_sent_before_it_is_due_or_without_a_report_channel(engine, slack, channel):
    # Monday 30 November: last month's (October's) report is due, not November's.
    run(engine, slack, channel, at("2026-11-30T10:00"))
    assert reports(slack, channel) == []
    with time_machine.travel(FIRST_WORKING_MORNING, tick=False):
        dispatcher(engine, slack).run_once()  # no COREGROUP_REPORT_CHANNEL: no report planned
    assert [r.key for r in rows(engine)] == ["oversight:report:2026-10"]


def test_a_crash_after_slack_took_it_does_not_post_it_again(engine, slack, channel):
    run(engine, slack, channel, FIRST_WORKING_MORNING)
    # As if the instance died after Slack took the report and before the ledger said so: its claim runs out.
    with Session(engine) as session:
        row = session.exec(select(ScheduledMessage).where(ScheduledMessage.key == "oversight:report:2026-11")).one()
        row.status, row.claimed_by = MessageStatus.CLAIMED, "dead-instance"
        row.claimed_until = FIRST_WORKING_MORNING + timedelta(minutes=1)
        session.add(row)
        session.commit()
    run(engine, slack, channel, FIRST_WORKING_MORNING + timedelta(minutes=10), instance="restarted")
    [message] = reports(slack, channel)
    assert len(files_in_thread(slack, channel, message["ts"])) == 2
    assert [r.status for r in rows(engine) if r.key.endswith("2026-11")] == [MessageStatus.SENT]


def test_a_failed_upload_is_finished_later_without_a_second_message(engine, slack, channel):
    slack.fail_next("files.completeUploadExternal", status=200, error="internal_error")
    run(engine, slack, channel, FIRST_WORKING_MORNING)
    [message] = reports(slack, channel)
    assert files_in_thread(slack, channel, message["ts"]) == []
    [row] = [r for r in rows(engine) if r.key.endswith("2026-11")]
    assert row.status == MessageStatus.PENDING and row.attempts == 1
    run(engine, slack, channel, FIRST_WORKING_MORNING + timedelta(minutes=30))
    assert len(reports(slack, channel)) == 1
    assert sorted(f["title"] for f in files_in_thread(slack, channel, message["ts"])) == [
        "Oversight chart, November 2026", "Oversight report, November 2026"]
    assert [r.status for r in rows(engine) if r.key.endswith("2026-11")] == [MessageStatus.SENT]


def test_two_instances_at_once_post_it_once(engine, slack, channel):
    barrier = threading.Barrier(2)
    errors = []

    def instance(name):
        try:
            barrier.wait(timeout=30)
            run(engine, slack, channel, FIRST_WORKING_MORNING, instance=name)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=instance, args=(f"instance-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    [message] = reports(slack, channel)
    assert len(files_in_thread(slack, channel, message["ts"])) == 2
    assert [r.status for r in rows(engine)] == [MessageStatus.SENT]
