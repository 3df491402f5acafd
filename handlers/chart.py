"""The trajectory charts in a posted recap's thread: one PNG per standing scaling question.

Called by handlers.recap_posting once a recap version is wholly in Slack. Each chart is claimed once
(`chart:<recap id>:<question id>`) before it is uploaded, so a version gets one chart per question
however often posting is resumed; a failed upload is logged and left, and never stops or repeats the
record itself.
"""

from __future__ import annotations

import logging
import traceback

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from handlers.deps import Deps
from models import audit, chart
from models.audit import Actor
from models.tables import Meeting, Recap, RecapStatus

log = logging.getLogger(__name__)


def once_key(recap_id: int, question_id: int) -> str:
    return f"chart:{recap_id}:{question_id}"


def _error(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or exc.response.status_code)
    return type(exc).__name__


def upload_charts(deps: Deps, client: WebClient, recap_id: int) -> int:
    """Upload the charts of a posted recap into its thread; returns how many were uploaded now."""
    with deps.session() as session:
        recap = session.get(Recap, recap_id)
        if recap is None or recap.status != RecapStatus.POSTED or not recap.message_ts:
            return 0
        meeting = session.get(Meeting, recap.meeting_id)
        channel, thread, case_id = recap.channel_id, recap.message_ts, meeting.case_id
        charts = [(question_id, chart.trajectory(session, question_id, up_to=meeting))
                  for question_id in chart.questions_to_chart(session, meeting)]
    uploaded = 0
    for index, (question_id, drawing) in enumerate(charts, start=1):
        if drawing is None:
            continue
        with deps.session() as session:
            if not audit.claim_once(session, once_key(recap_id, question_id)):
                continue
        try:
            png = chart.draw(drawing)
            client.files_upload_v2(content=png, filename=chart.filename(index),
                                   title=f"Scores over time: {drawing.question}"[:250],
                                   alt_txt=chart.alt_text(drawing), channel=channel, thread_ts=thread)
        except (SlackClientError, OSError) as exc:
            log.warning("chart for question %s of recap %s not uploaded: %s", question_id, recap_id, _error(exc))
            continue
        with deps.session() as session:
            audit.record(session, actor=Actor.app(), action="recap.chart_shared", record_type="recap",
                         record_id=recap_id, case_id=case_id, question_id=question_id)
        uploaded += 1
    if uploaded:
        log.info("recap %s: %s chart(s) uploaded", recap_id, uploaded)
    return uploaded


def share_charts(deps: Deps, client: WebClient, recap_id: int) -> None:
    """`upload_charts` for the recap's posting path: the record is already posted, so nothing here may undo or
    repeat it, and a person clicking "Post" must not be told something failed when the record is in Slack."""
    try:
        upload_charts(deps, client, recap_id)
    except Exception as exc:  # a chart is an extra: a drawing or database problem must not reach the poster
        log.error("charts for recap %s failed: %s\n%s", recap_id, type(exc).__name__,
                  "".join(traceback.format_tb(exc.__traceback__)))
