"""The monthly oversight report (issue 14), posted once to COREGROUP_REPORT_CHANNEL with its chart and workbook.

It goes through the ledger of scheduled messages like every other scheduled message: one row per month
(`oversight:report:YYYY-MM`, due on the first working morning of the next month), planned by every instance's
dispatcher (the unique key makes that once), claimed by one instance, and marked sent only once Slack has it.

Sending is three steps that are each done once: the message (carrying its key in message metadata, so that after a
crash it is found rather than posted again), then the chart and the workbook in its thread (looked for by title
before uploading, so that a retry uploads only what is missing). Figures only: no case reference, child's label or
text, as an analyst would see them.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from slack_sdk import WebClient
from sqlmodel import Session

from handlers import delivery
from handlers.blocks import kit
from handlers.deps import Deps
from models import audit, ledger, oversight, oversight_files, planning
from models.audit import Actor
from models.calendar import WorkingCalendar
from models.ledger import Kind, Planned

log = logging.getLogger(__name__)

WHOLE_DEPLOYMENT = ("SELECT id FROM cases", {})


def report_key(month: date) -> str:
    return f"oversight:report:{month:%Y-%m}"


def month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def planned_report(calendar: WorkingCalendar, now: datetime) -> Planned:
    """The row for last month's report: due at the start of this month's first working day."""
    today = planning.local_day(calendar, now)
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    due = calendar.at(calendar.next_working_day(this_month), calendar.day_start)
    return Planned(key=report_key(last_month), kind=Kind.OVERSIGHT_REPORT, case_id=None, due_at=due,
                   detail={"month": f"{last_month:%Y-%m}"})


def plan(session: Session, calendar: WorkingCalendar, now: datetime) -> None:
    """Make sure last month's report has its row (nothing changes if it is there, in whatever state)."""
    ledger.insert_new(session, [planned_report(calendar, now)], now=now)


def titles(month: date) -> tuple[str, str]:
    return (f"Oversight chart, {month:%B %Y}", f"Oversight report, {month:%B %Y}")


def _summary(report: oversight.Report, month: date) -> tuple[str, list[dict]]:
    first, later = report.table("first_meeting"), report.table("later_meetings")
    records, left_open = report.table("records"), report.table("left_open")
    attendance, lapses = report.table("attendance"), report.table("lapses")
    due = first.total("on_time") + first.total("late") + first.total("overdue") + later.total("meetings")
    on_time = first.total("on_time") + later.total("on_time")
    lines = [
        f"• Core groups due: {due}; held on time: {on_time}.",
        f"• Records posted within 1 working day: {records.total('record_on_time')} of {records.total('meetings')}.",
        f"• Family versions given within 5 working days: {records.total('family_on_time')} of"
        f" {records.total('meetings')}.",
        f"• Meetings left open: {left_open.total('meetings')}. Lapse escalations sent: {lapses.total('escalations')}.",
    ]
    without = [f"{kit.esc(row['organisation'])} {row['apologies_only']}" for row in attendance.rows
               if row["apologies_only"]]
    if without:
        lines.append("• Apologies without a written update: " + ", ".join(without) + ".")
    text = f"CoreGroup oversight report for {month:%B %Y}"
    blocks = [kit.header(text), *kit.sections("\n".join(lines)),
              kit.context("Figures only, for every core group in CoreGroup. The chart and the workbook (one sheet"
                          " per measure, with what each counts) are in the thread.")]
    return text, blocks


def post(deps: Deps, client: WebClient, *, key: str, month: date) -> delivery.Delivery:
    """Post the month's report (or finish posting it); raises SlackApiError when Slack refuses."""
    channel = deps.settings.report_channel
    end = month_end(month)
    with deps.reading() as session:  # the month as it stood at its end
        report = oversight.report(session, scope=WHOLE_DEPLOYMENT, start=month, end=end, today=end)
        figures = oversight.figures(session, scope=WHOLE_DEPLOYMENT, today=end)
    text, blocks = _summary(report, month)
    ts = delivery._scan(client, key, channel, None)
    if ts is None:
        ts = client.chat_postMessage(channel=channel, text=text, blocks=blocks, metadata=delivery.metadata(key),
                                     unfurl_links=False, unfurl_media=False)["ts"]
    chart_title, book_title = titles(month)
    there = set()
    replies = client.conversations_replies(channel=channel, ts=ts, limit=200)
    for message in replies.get("messages") or []:
        there |= {item.get("title") for item in message.get("files") or []}
    uploads = []
    if chart_title not in there:
        uploads.append({"content": oversight_files.draw_chart(figures, title=f"Core groups to {month:%B %Y}"),
                        "filename": f"oversight-{month:%Y-%m}.png", "title": chart_title,
                        "alt_txt": oversight_files.chart_alt_text(figures)})
    if book_title not in there:
        uploads.append({"content": oversight_files.to_xlsx(report), "filename": f"oversight-{month:%Y-%m}.xlsx",
                        "title": book_title})
    if uploads:
        client.files_upload_v2(file_uploads=uploads, channel=channel, thread_ts=ts)
    with deps.session() as session:
        audit.record(session, actor=Actor.app(), action="oversight.monthly_report", record_type="oversight",
                     record_id=None, case_id=None, month=f"{month:%Y-%m}", channel=channel)
    log.info("oversight report for %s posted", f"{month:%Y-%m}")
    return delivery.Delivery("channel", channel, ts)
