"""`/coregroup export`: a meeting's minutes as Word documents, sent privately to the member who asked.

The minutes for the case record and, only once the lead social worker or the chair has approved one, the
family version (models/family_versions.py); until then the reply says no family version is approved yet.
They are uploaded into the member's direct message with the app, never into
the case channel or anywhere else: the channel opened with `conversations.open` for that one person.
If Slack will not let the app message them directly, they are told so and nothing is uploaded.

`/coregroup export` sends the newest posted record; `/coregroup export 2` the record of meeting 2; the
reply offers the other meetings. It works for a closed case (its records are kept read-only).
"""

from __future__ import annotations

import json
import logging
import re

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from handlers import access
from handlers.blocks import kit
from handlers.commands import Invocation, SubCommand
from handlers.delivery import DM_REFUSED
from handlers.deps import Deps
from handlers.ids import Action
from models import audit, documents
from models.audit import Actor
from models.meetings import long_date
from models.scaling import meeting_date
from models.tables import Meeting, Recap

log = logging.getLogger(__name__)

NOTHING_YET = ("There is no posted record for this case yet. The record of a meeting is posted when the chair ends"
               " it with `/coregroup end`; then you can export it here.")
NO_SUCH_MEETING = "There is no posted record of meeting {number} for this case."
NO_DM = ("I could not send you a direct message, so I have not sent the documents. Slack did not allow it (your"
         " organisation may not let apps send you direct messages). The documents are only ever sent to you"
         " privately, never to a channel. Please ask your Slack administrator, or ask the lead social worker to"
         " export them for the case record.")
TRY_AGAIN = "Slack did not take the documents just now, so nothing was sent. Please try again in a minute."
PRIVATE_NOTE = ("They hold personal information about children and their family: keep them as securely as the case"
                " file. Only a family version approved by the lead social worker or the chair may be given to the"
                " family.")
NO_FAMILY_VERSION = ("No family version of meeting {number} has been approved yet, so I have not sent one. The lead"
                     " social worker or the chair prepares and approves it with `/coregroup family`, or with the"
                     " button in the message I sent them when the record was posted.")


def _number(args: str) -> int | None:
    found = re.search(r"\d+", args or "")
    return int(found.group()) if found else None


def _label(meeting: Meeting) -> str:
    return f"Meeting {meeting.number}, {long_date(meeting_date(meeting))}"


def picker(case_id: int, posted: list[tuple[Meeting, Recap]], *, chosen_id: int | None) -> list[dict]:
    """A menu of the other meetings with a posted record (newest first), or nothing when there is only one."""
    others = [(meeting, recap) for meeting, recap in reversed(posted) if meeting.id != chosen_id][:100]
    if not others:
        return []
    choices = [(_label(meeting), json.dumps({"c": case_id, "m": meeting.id}, separators=(",", ":")))
               for meeting, _ in others]
    return [kit.section("Another meeting's record?",
                        accessory=kit.select(Action.EXPORT_PICK, choices, placeholder="Choose a meeting"))]


def send_documents(deps: Deps, client: WebClient, *, actor: Actor, case_id: int, member_id: int,
                   record: documents.Record, tell, family: tuple[int, dict] | None = None) -> bool:
    """Build the documents and upload them to the person's direct message; `tell(text)` says how it went.

    The family version goes only when one is approved (`family`: its version number and content)."""
    files = documents.documents_for(record, family)
    try:
        opened = client.conversations_open(users=actor.user_id)
        im = (opened.get("channel") or {}).get("id") or ""
    except SlackApiError as error:
        code = str(error.response.get("error") or "")
        log.info("export for case %s: no direct message (%s)", case_id, code)
        tell(NO_DM if code in DM_REFUSED else TRY_AGAIN)
        return False
    if not im.startswith("D"):  # only ever a one-to-one direct message
        log.warning("export for case %s: conversations.open gave a channel that is not a direct message", case_id)
        tell(NO_DM)
        return False
    number, version = record.content["meeting"]["number"], record.version
    family_note = (f" and the family version (version {family[0]}, approved)." if family is not None
                   else ". " + NO_FAMILY_VERSION.format(number=number))
    comment = (f"The record of core group meeting {number} for {record.reference} (version {version}), for the"
               f" case record{family_note} {PRIVATE_NOTE}")
    titles = [f"Minutes of core group meeting {number} for {record.reference} (version {version})",
              f"Family version of core group meeting {number} for {record.reference}"][:len(files)]
    uploads = [{"content": data, "filename": name, "title": title}
               for (name, data), title in zip(files, titles, strict=True)]
    try:
        client.files_upload_v2(file_uploads=uploads, channel=im, initial_comment=comment)
    except SlackApiError as error:
        code = str(error.response.get("error") or "")
        log.info("export for case %s not uploaded: %s", case_id, code)
        tell(NO_DM if code in DM_REFUSED else TRY_AGAIN)
        return False
    except (SlackClientError, OSError) as error:
        log.info("export for case %s not uploaded: %s", case_id, type(error).__name__)
        tell(TRY_AGAIN)
        return False
    with deps.session() as session:
        audit.record(session, actor=actor, action="recap.exported", record_type="recap", record_id=record.recap_id,
                     case_id=case_id, member_id=member_id, version=version,
                     family_version=family[0] if family is not None else None)
    if family is not None:
        tell(f"I have sent you the minutes of meeting {number} (version {version}) and the approved family version"
             f" (version {family[0]}) in a direct message. Only you can see them there.")
    else:
        tell(f"I have sent you the minutes of meeting {number} (version {version}) in a direct message. Only you"
             f" can see them there. {NO_FAMILY_VERSION.format(number=number)}")
    return True


def run_export(inv: Invocation) -> None:
    deps, case = inv.deps, inv.case
    wanted = _number(inv.args)
    with deps.session() as session:
        posted = documents.posted_recaps(session, case.id)
        if not posted:
            inv.reply(NOTHING_YET)
            return
        if wanted is None:
            chosen = posted[-1]
        else:
            chosen = next((pair for pair in posted if pair[0].number == wanted), None)
            if chosen is None:
                inv.reply(NO_SUCH_MEETING.format(number=wanted), [kit.section(NO_SUCH_MEETING.format(number=wanted)),
                                                                  *picker(case.id, posted, chosen_id=None)])
                return
        record = documents.gather(session, chosen[1], tz=deps.settings.timezone)
        family = documents.approved_family(session, chosen[0].id)
        menu = picker(case.id, posted, chosen_id=chosen[0].id)
    replies: list[str] = []
    send_documents(deps, inv.client, actor=inv.actor, case_id=case.id, member_id=inv.member.id, record=record,
                   tell=replies.append, family=family)
    text = " ".join(replies)
    inv.reply(text, [kit.section(kit.esc(text)), *menu] if menu else None)


def picked(body: dict, client: WebClient, respond, deps: Deps) -> None:
    """A meeting chosen from the menu: the same checks as the command, for an open or a closed case."""
    value = access.button_value(body)
    actor = access.actor_of(body)
    with deps.session() as session:
        case, member, why_not = access.member_for(session, value.get("c"), actor, allow_closed=True)
        if why_not:
            access.tell(client, body, why_not, respond)
            return
        posted = documents.posted_recaps(session, case.id)
        chosen = next((pair for pair in posted if pair[0].id == access.int_or_none(value.get("m"))), None)
        if chosen is None:
            access.tell(client, body, "I could not find that record.", respond)
            return
        record = documents.gather(session, chosen[1], tz=deps.settings.timezone)
        family = documents.approved_family(session, chosen[0].id)
    send_documents(deps, client, actor=actor, case_id=case.id, member_id=member.id, record=record,
                   tell=lambda text: access.tell(client, body, text, respond), family=family)


def register(app: App, deps: Deps) -> None:
    deps.commands.add(SubCommand(
        "export", "The minutes as a document for the case record, and a plain-language version for the family",
        run_export, usage="`/coregroup export` for the latest meeting, `/coregroup export 2` for meeting 2",
        allow_closed=True))

    @app.action(Action.EXPORT_PICK)
    def export_picked(ack, body, client, respond):
        ack()
        picked(body, client, respond, deps)
