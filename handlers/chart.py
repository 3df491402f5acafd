"""The trajectory charts in a posted recap's thread: one PNG per standing scaling question.

Each chart is an outbox row (`chart:<recap id>:<question id>`, models/outbox.py), written in the transaction that
marks the recap posted, and uploaded through handlers/outbox.py: claimed with a lease, so two instances or a
resumed posting never upload it twice, and taken up by the scheduler's run if the process dies before it is done
(or if Slack failed). A file cannot carry message metadata, so a chart whose fate is unknown (a claim that ran out
after a crash, an upload whose answer was lost) is looked for in the recap's thread by its title before it is
uploaded again, and recorded if Slack has it. A failed chart never stops or repeats the record itself.
"""

from __future__ import annotations

import logging
import traceback
from datetime import timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError, SlackRequestError
from sqlmodel import col, select

from handlers import outbox
from handlers.deps import Deps
from models import audit, chart, recap_posting
from models.audit import Actor
from models.ledger import Kind
from models.tables import Meeting, Recap, RecapStatus

log = logging.getLogger(__name__)

RETRY_WITHIN = timedelta(days=2)  # how long after a recap was posted its missing charts are still tried


def chart_title(question: str) -> str:
    return f"Scores over time: {question}"[:250]


def _error(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or exc.response.status_code)
    return type(exc).__name__


def _in_thread(client: WebClient, channel: str, thread: str, title: str) -> bool:
    """Whether the thread already holds a file with this title (an upload whose answer was lost)."""
    try:
        reply = client.conversations_replies(channel=channel, ts=thread, limit=200)
    except (SlackClientError, OSError) as exc:
        log.info("could not read a recap's thread to look for its chart: %s", _error(exc))
        return False
    return any(item.get("title") == title for message in reply.get("messages") or []
               for item in message.get("files") or [])


@outbox.sender(Kind.CHART)
def upload_chart(job: outbox.Job) -> None:
    """Upload one chart into its recap's thread, unless Slack has it already."""
    deps, detail = job.deps, job.detail
    recap_id, question_id = detail["recap"], detail["question"]
    with deps.session() as session:
        recap = session.get(Recap, recap_id)
        if recap is None or recap.status != RecapStatus.POSTED or not recap.message_ts:
            raise outbox.Skipped("recap_not_posted")
        meeting = session.get(Meeting, recap.meeting_id)
        channel, thread, case_id = recap.channel_id, recap.message_ts, meeting.case_id
        drawing = chart.trajectory(session, question_id, up_to=meeting, tz=deps.tz)
    if drawing is None:
        raise outbox.Skipped("nothing_to_draw")
    title = chart_title(drawing.question)
    job.channel, job.ts = channel, thread
    shared = job.unsure and _in_thread(job.client, channel, thread, title)
    if shared:
        log.info("chart for question %s of recap %s was in its thread already", question_id, recap_id)
    else:
        try:
            job.client.files_upload_v2(content=chart.draw(drawing), filename=chart.filename(detail["index"]),
                                       title=title, alt_txt=chart.alt_text(drawing), channel=channel,
                                       thread_ts=thread)
        except (SlackApiError, SlackRequestError):  # Slack answered, and did not take it
            raise
        except (SlackClientError, OSError):  # no answer: Slack may have taken it all the same
            if not _in_thread(job.client, channel, thread, title):
                raise
    with deps.session() as session:
        audit.record(session, actor=Actor.app(), action="recap.chart_shared", record_type="recap",
                     record_id=recap_id, case_id=case_id, question_id=question_id)


def upload_charts(deps: Deps, client: WebClient, recap_id: int) -> int:
    """Upload the charts of a posted recap not yet in its thread; returns how many were uploaded now.
    Safe to call again at any time: a chart already uploaded (or being uploaded) is left alone."""
    with deps.session() as session:
        recap = session.get(Recap, recap_id)
        if recap is None or recap.status != RecapStatus.POSTED or not recap.message_ts:
            return 0
        keys = [key for key in recap_posting.follow_ups(session, recap, now=deps.now(), write=False)
                if key.startswith("chart:")]
    uploaded = sum(outbox.send_now(deps, client, key) == "sent" for key in keys)
    if uploaded:
        log.info("recap %s: %s chart(s) uploaded", recap_id, uploaded)
    return uploaded


def share_missing_charts(deps: Deps, client: WebClient, *, within: timedelta = RETRY_WITHIN) -> int:
    """Upload the charts that did not reach Slack the first time, for recaps posted in the last `within`;
    for the scheduler's regular run. Returns how many were uploaded."""
    with deps.reading() as session:
        recent = list(session.exec(select(Recap.id).where(Recap.status == RecapStatus.POSTED,
                                                          col(Recap.posted_at) >= deps.now() - within)))
    uploaded = 0
    for recap_id in recent:
        try:
            uploaded += upload_charts(deps, client, recap_id)
        except Exception as exc:  # one recap's charts must not stop the others'
            log.error("charts for recap %s failed: %s\n%s", recap_id, type(exc).__name__,
                      "".join(traceback.format_tb(exc.__traceback__)))
    return uploaded
