"""The trajectory charts in a posted recap's thread: one PNG per standing scaling question.

Called by handlers.recap_posting once a recap version is wholly in Slack. Each chart is claimed once
(`chart:<recap id>:<question id>`, a primary key) before it is uploaded, so two instances or a resumed
posting never upload it twice. A chart that did not reach Slack gives its claim back, so it is uploaded
the next time the recap's charts are shared (`share_missing_charts`). When Slack's answer was lost on the
way (a time-out), Slack may have taken it all the same: that is remembered (`unsure_key`), and before
trying again the thread is read, so a chart Slack did take is recorded, not uploaded a second time. A
failed chart never stops or repeats the record itself.
"""

from __future__ import annotations

import logging
import traceback
from datetime import timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError, SlackRequestError
from sqlmodel import col, select

from handlers.deps import Deps
from models import audit, chart
from models.audit import Actor
from models.tables import Meeting, ProcessedRequest, Recap, RecapStatus

log = logging.getLogger(__name__)

RETRY_WITHIN = timedelta(days=2)  # how long after a recap was posted its missing charts are still tried


def once_key(recap_id: int, question_id: int) -> str:
    return f"chart:{recap_id}:{question_id}"


def unsure_key(recap_id: int, question_id: int) -> str:
    """Marks a chart whose upload had no answer: look in the thread before uploading it again."""
    return f"chart-unsure:{recap_id}:{question_id}"


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


def _claimed(session, recap_id: int, question_ids: list[int]) -> set[int]:
    keys = {once_key(recap_id, q): q for q in question_ids}
    found = session.exec(select(ProcessedRequest.key).where(col(ProcessedRequest.key).in_(list(keys))))
    return {keys[key] for key in found}


def upload_charts(deps: Deps, client: WebClient, recap_id: int) -> int:
    """Upload the charts of a posted recap not yet in its thread; returns how many were uploaded now.
    Safe to call again at any time: a chart already uploaded (or being uploaded) is left alone."""
    with deps.session() as session:
        recap = session.get(Recap, recap_id)
        if recap is None or recap.status != RecapStatus.POSTED or not recap.message_ts:
            return 0
        meeting = session.get(Meeting, recap.meeting_id)
        channel, thread, case_id = recap.channel_id, recap.message_ts, meeting.case_id
        questions = chart.questions_to_chart(session, meeting)
        done = _claimed(session, recap_id, questions)
        charts = [(index, question_id, chart.trajectory(session, question_id, up_to=meeting, tz=deps.tz))
                  for index, question_id in enumerate(questions, start=1) if question_id not in done]
    uploaded = 0
    for index, question_id, drawing in charts:
        if drawing is None:
            continue
        key, title = once_key(recap_id, question_id), chart_title(drawing.question)
        with deps.session() as session:
            if not audit.claim_once(session, key):
                continue  # uploaded, or being uploaded right now by another instance
        with deps.reading() as session:
            unsure = session.get(ProcessedRequest, unsure_key(recap_id, question_id)) is not None
        shared = unsure and _in_thread(client, channel, thread, title)
        if shared:
            log.info("chart for question %s of recap %s was in its thread already", question_id, recap_id)
        try:
            if not shared:
                png = chart.draw(drawing)
                client.files_upload_v2(content=png, filename=chart.filename(index), title=title,
                                       alt_txt=chart.alt_text(drawing), channel=channel, thread_ts=thread)
                shared = True
        except (SlackApiError, SlackRequestError) as exc:  # Slack answered, and did not take it
            log.warning("chart for question %s of recap %s not uploaded: %s", question_id, recap_id, _error(exc))
        except (SlackClientError, OSError) as exc:  # no answer: Slack may have taken it all the same
            log.warning("chart for question %s of recap %s: no answer from Slack: %s", question_id, recap_id,
                        _error(exc))
            shared = _in_thread(client, channel, thread, title)
            if not shared:
                with deps.session() as session:
                    audit.claim_once(session, unsure_key(recap_id, question_id))
        finally:
            if not shared:  # give the claim back (also if drawing it failed), so it is tried again
                with deps.session() as session:
                    audit.release(session, key)
        if not shared:
            continue
        with deps.session() as session:
            audit.record(session, actor=Actor.app(), action="recap.chart_shared", record_type="recap",
                         record_id=recap_id, case_id=case_id, question_id=question_id)
        uploaded += 1
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


def share_charts(deps: Deps, client: WebClient, recap_id: int) -> None:
    """`upload_charts` for the recap's posting path: the record is already posted, so nothing here may undo or
    repeat it, and a person clicking "Post" must not be told something failed when the record is in Slack."""
    try:
        upload_charts(deps, client, recap_id)
    except Exception as exc:  # a chart is an extra: a drawing or database problem must not reach the poster
        log.error("charts for recap %s failed: %s\n%s", recap_id, type(exc).__name__,
                  "".join(traceback.format_tb(exc.__traceback__)))
