"""The outline for the family, sent privately to the lead social worker when a meeting is booked or moved.

The document (models/family_outline.py) is uploaded into the lead social worker's direct message with the
app, never into a channel. Each booking and each new time is an outbox row (`outline:{meeting}:{start}`,
models/outbox.py), written in the transaction that books or moves the meeting and sent through handlers/outbox.py:
claimed with a lease, so it is uploaded once, and taken up by the scheduler's run if the process dies first or
Slack refuses it. A file carries no message metadata, so an outline whose fate is unknown (a claim that ran out
after a crash, an upload whose answer was lost) is looked for in the direct message by its title and comment
before it is uploaded again, as the charts are (handlers/chart.py).
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError, SlackRequestError

from handlers import outbox
from models import audit, cases, reminders
from models.audit import Actor
from models.family_outline import outline_docx, outline_name
from models.ledger import Kind
from models.meetings import long_date
from models.tables import Case, Meeting, MeetingStatus

log = logging.getLogger(__name__)


def _in_dm(client: WebClient, channel: str, title: str, comment: str) -> str | None:
    """The timestamp of the message in the direct message that holds this outline already, if any."""
    try:
        reply = client.conversations_history(channel=channel, limit=200)
    except (SlackClientError, OSError) as exc:
        log.info("could not read a direct message to look for an outline: %s", type(exc).__name__)
        return None
    return next((message.get("ts") for message in reply.get("messages") or []
                 if message.get("text") == comment
                 and any(item.get("title") == title for item in message.get("files") or [])), None)


@outbox.sender(Kind.FAMILY_OUTLINE)
def send_outline(job: outbox.Job) -> None:
    """Upload the outline to the lead social worker, unless Slack has it already; skipped when the meeting is no
    longer booked at this time (a later row has the new time) or there is nobody in Slack to send it to."""
    deps, client, meeting_id = job.deps, job.client, job.row.meeting_id
    with deps.session() as session:
        meeting = session.get(Meeting, meeting_id)
        if meeting is None or meeting.status != MeetingStatus.SCHEDULED:
            raise outbox.Skipped("meeting_not_booked")
        if reminders.stamp(meeting.scheduled_start) != job.detail.get("start"):
            raise outbox.Skipped("moved_since")
        case = session.get(Case, meeting.case_id)
        lead = cases.lead_member(session, case.id)
        if lead is None or not lead.slack_user_id:
            log.info("no lead social worker in Slack to send the outline of meeting %s to", meeting_id)
            raise outbox.Skipped("no_lead_in_slack")
        data = outline_docx(session, meeting, tz=deps.tz)
        name, number = outline_name(case, meeting), meeting.number
        day = long_date(meeting.scheduled_start.astimezone(deps.tz).date())
        user_id, lead_id, case_id = lead.slack_user_id, lead.id, case.id
    why = "has moved" if job.detail.get("moved") else "is booked"
    comment = (f"Meeting {number} for {case.reference} {why}: {day}. Here is an outline for the family, in plain"
               f" words, to share with them before the meeting. Add your phone number before you give it to them.")
    title = f"Outline for the family: meeting {number}"
    im = client.conversations_open(users=user_id)["channel"]["id"]
    job.channel = im
    found = _in_dm(client, im, title, comment) if job.unsure else None
    if found:
        log.info("outline of meeting %s was in the direct message already", meeting_id)
    else:
        try:
            client.files_upload_v2(file_uploads=[{"content": data, "filename": name, "title": title}],
                                   channel=im, initial_comment=comment)
        except (SlackApiError, SlackRequestError):  # Slack answered, and did not take it
            raise
        except (SlackClientError, OSError):  # no answer: Slack may have taken it all the same
            if not _in_dm(client, im, title, comment):
                raise
    with deps.session() as session:
        audit.record(session, actor=Actor.app(), action="family_outline.sent", record_type="meeting",
                     record_id=meeting_id, case_id=case_id, member_id=lead_id)
