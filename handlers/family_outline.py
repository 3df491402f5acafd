"""The outline for the family, sent privately to the lead social worker when a meeting is booked or moved.

The document (models/family_outline.py) is uploaded into the lead social worker's direct message with the
app, never into a channel. Each booking and each new time is sent once (`outline:{meeting}:{start}`), claimed
after Slack took the file: a crash in between may send it twice, never not at all.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from handlers.deps import Deps
from models import audit, cases, reminders
from models.audit import Actor
from models.family_outline import outline_docx, outline_name
from models.meetings import long_date
from models.tables import Case, Meeting, MeetingStatus, ProcessedRequest

log = logging.getLogger(__name__)


def send_outline(deps: Deps, client: WebClient, meeting_id: int, *, moved: bool = False) -> bool:
    """Upload the outline to the lead social worker; False when there is nobody to send it to or Slack said no."""
    with deps.session() as session:
        meeting = session.get(Meeting, meeting_id)
        if meeting is None or meeting.status != MeetingStatus.SCHEDULED:
            return False
        case = session.get(Case, meeting.case_id)
        lead = cases.lead_member(session, case.id)
        if lead is None or not lead.slack_user_id:
            log.info("no lead social worker in Slack to send the outline of meeting %s to", meeting_id)
            return False
        key = f"outline:{meeting.id}:{reminders.stamp(meeting.scheduled_start)}"
        if session.get(ProcessedRequest, key) is not None:
            return False  # this booking's outline was sent already
        data = outline_docx(session, meeting, tz=deps.tz)
        name, number = outline_name(case, meeting), meeting.number
        day = long_date(meeting.scheduled_start.astimezone(deps.tz).date())
        user_id, lead_id, case_id = lead.slack_user_id, lead.id, case.id
    why = "has moved" if moved else "is booked"
    comment = (f"Meeting {number} for {case.reference} {why}: {day}. Here is an outline for the family, in plain"
               f" words, to share with them before the meeting. Add your phone number before you give it to them.")
    try:
        im = client.conversations_open(users=user_id)["channel"]["id"]
        client.files_upload_v2(file_uploads=[{"content": data, "filename": name,
                                              "title": f"Outline for the family: meeting {number}"}],
                               channel=im, initial_comment=comment)
    except (SlackApiError, SlackClientError, OSError) as error:
        log.warning("outline of meeting %s not sent: %s", meeting_id, type(error).__name__)
        return False
    with deps.session() as session:
        if audit.claim_once(session, key):
            audit.record(session, actor=Actor.app(), action="family_outline.sent", record_type="meeting",
                         record_id=meeting_id, case_id=case_id, member_id=lead_id)
    return True
