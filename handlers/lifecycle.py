"""`/coregroup close`: the plan ended, the case stepped up, or it moved to another area.

The lead social worker or a team manager closes the case with a reason and a date. The case is
closed in the database first (meetings not yet held are cancelled, scheduled messages withdrawn,
the closure audited), then the closing message is posted and the channel archived. If Slack will
not archive the channel, the case stays closed and the person who closed it is told what to do.
"""

from __future__ import annotations

import logging
from datetime import date

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers import access, case_post, forms
from handlers.blocks import lifecycle as lifecycle_blocks
from handlers.blocks import members as member_blocks
from handlers.blocks.meetings import when_text
from handlers.case_post import SLACK_FAILED
from handlers.commands import Invocation, SubCommand
from handlers.deps import Deps
from handlers.ids import Block, View
from handlers.plain import jargon_gate
from models import audit, lifecycle
from models.cases import DomainError
from models.tables import Case, Member

log = logging.getLogger(__name__)

TITLE = "Close the case"
FIELD_BLOCKS = {"outcome": Block.OUTCOME, "reason": Block.REASON, "date": Block.DATE}


def open_close(inv: Invocation) -> None:
    """Check who is asking and whether a meeting is running, then open the form."""
    if not lifecycle.may_close(inv.member):
        inv.reply(lifecycle.ONLY_LEAD)
        return
    with inv.deps.session() as session:
        closing = lifecycle.preview(session, inv.case.id)
    if closing.meeting_running:
        inv.reply(lifecycle.MEETING_RUNNING)
        return
    if not inv.trigger_id:
        return
    summary = lifecycle_blocks.what_happens(open_actions=closing.open_actions,
                                            meetings_to_cancel=closing.meetings_to_cancel,
                                            pending_messages=closing.pending_messages, tz=inv.deps.tz)
    inv.client.views_open(trigger_id=inv.trigger_id, view=lifecycle_blocks.close_modal(
        case_id=inv.case.id, reference=inv.case.reference, today=inv.deps.today(), summary=summary))


def submit_close(ack, body: dict, client: WebClient, deps: Deps) -> None:
    checked = access.check_submission(deps, ack, body, title=TITLE)
    if checked is None:
        return
    case, closer = checked
    if not lifecycle.may_close(closer):
        ack(response_action="update", view=access.notice_view(TITLE, lifecycle.ONLY_LEAD))
        return
    raw = forms.values(body)
    errors: dict[str, str] = {}
    outcome = raw.get(Block.OUTCOME)
    reason = raw.get(Block.REASON) if isinstance(raw.get(Block.REASON), str) else ""
    closed_on = forms.parse_date(raw.get(Block.DATE), Block.DATE, errors)
    if Block.DATE not in errors:
        problems = lifecycle.check_close(case=case, outcome=outcome, reason=reason, closed_on=closed_on,
                                         today=deps.today())
        errors.update({FIELD_BLOCKS[field]: message for field, message in problems.items()})
    if errors:
        ack(response_action="errors", errors=errors)
        return
    if not jargon_gate(ack, body, deps, fields=[Block.REASON]):
        return
    actor = access.actor_of(body)
    try:
        with deps.session() as session:
            if not audit.claim_once(session, f"view:{body['view']['id']}"):
                ack()
                return
            fresh = session.get(Case, case.id)
            cancelled = [when_text(m, deps.tz) for m in lifecycle.preview(session, case.id).meetings_to_cancel]
            lifecycle.close_case(session, case=fresh, outcome=outcome, reason=reason, closed_on=closed_on,
                                 actor=actor, now=deps.now(), today=deps.today())
            closer_text = member_blocks.who(session.get(Member, closer.id))
    except DomainError as error:
        # Someone else closed it, or a meeting started, while this form was open. Nothing was saved.
        ack(response_action="update", view=access.notice_view(TITLE, str(error)))
        return
    ack()
    log.info("case %s closed by %s/%s", case.id, actor.team_id, actor.user_id)
    finish_closing(client, body, case=case, closer_text=closer_text, outcome=outcome, reason=reason.strip(),
                   closed_on=closed_on, cancelled=cancelled)


def finish_closing(client: WebClient, body: dict, *, case: Case, closer_text: str, outcome: str, reason: str,
                   closed_on: date, cancelled: list[str]) -> None:
    """After the modal has closed: the last message in the channel, then archive it."""
    if not case.channel_id:
        return
    message = lifecycle_blocks.closed_message(reference=case.reference, closer=closer_text, outcome=outcome,
                                              reason=reason, closed_on=closed_on, cancelled=cancelled)
    case_post.post(client, channel=case.channel_id, thread_ts=None, message=message, what="the closing message",
                   notify=access.actor_of(body).user_id)
    try:
        client.conversations_archive(channel=case.channel_id)
    except SLACK_FAILED as error:
        code = (error.response.get("error", "") if isinstance(error, SlackApiError) else type(error).__name__
                ) or "unknown"
        if code == "already_archived":
            return
        log.warning("could not archive %s for case %s: %s", case.channel_id, case.id, code)
        access.tell(client, body, lifecycle_blocks.archive_failed_text(reference=case.reference,
                                                                       channel_id=case.channel_id, code=code))


def register(app: App, deps: Deps) -> None:
    deps.commands.add(SubCommand(
        "close", "Close the case when the plan ends, steps up to court or moves to another area", open_close,
        usage="Lead social worker or team manager only"))

    @app.view(View.CLOSE)
    def close_submitted(ack, body, client):
        submit_close(ack, body, client, deps)
