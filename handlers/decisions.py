"""`/coregroup decision` and the "Record as decision" message shortcut.

The chair records decisions (PRODUCT.md: `decision` is the chair's); the lead social worker may stand
in. During a meeting a decision belongs to it and is posted in its thread.
"""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers import access, case_post, forms
from handlers.actions import NOT_A_CASE_CHANNEL
from handlers.blocks import actions as action_blocks
from handlers.commands import Invocation, SubCommand, start_from_button
from handlers.deps import Deps
from handlers.ids import Action as ActionId
from handlers.ids import Block, Shortcut, View
from handlers.plain import jargon_gate
from models import audit, cases, current_meeting, decisions
from models.decisions import MAX_DECISION
from models.names import shown
from models.tables import Case, Member

log = logging.getLogger(__name__)

CHAIR_ONLY = ("Only the chair of the meeting or the lead social worker can record a decision. If the group has"
              " agreed something, ask the chair to record it.")


def may_decide(deps: Deps, case: Case, member: Member) -> tuple[bool, bool]:
    """(may record, a meeting is in progress)."""
    with deps.session() as session:
        meeting = current_meeting.in_progress(session, case.id)
        chair_of = meeting or current_meeting.upcoming(session, case.id)
        return current_meeting.is_chair(session, chair_of, member), meeting is not None


def open_decision(deps: Deps, client: WebClient, body: dict, trigger_id: str | None, case: Case, member: Member,
                  *, text: str, refuse) -> None:
    allowed, in_meeting = may_decide(deps, case, member)
    if not allowed:
        refuse(CHAIR_ONLY)
        return
    view = action_blocks.decision_modal(case_id=case.id, in_meeting=in_meeting, text=text)
    case_post.open_view(client, body, trigger_id, view)


def start_decision(inv: Invocation) -> None:
    """`/coregroup decision [text]`."""
    open_decision(inv.deps, inv.client, inv.body, inv.trigger_id, inv.case, inv.member, text=inv.args,
                  refuse=inv.reply)


def submit_decision(ack, body: dict, client: WebClient, deps: Deps) -> None:
    checked = access.check_submission(deps, ack, body, title="Record a decision")
    if checked is None:
        return
    case, by = checked
    allowed, _in_meeting = may_decide(deps, case, by)
    if not allowed:
        ack(response_action="update", view=access.notice_view("Record a decision", CHAIR_ONLY))
        return
    errors: dict[str, str] = {}
    text = forms.text(forms.values(body).get(Block.DECISION_TEXT), Block.DECISION_TEXT, errors, required=True,
                      limit=MAX_DECISION, what="the decision")
    if errors:
        ack(response_action="errors", errors=errors)
        return
    if not jargon_gate(ack, body, deps, fields=[Block.DECISION_TEXT]):
        return
    key = f"view:{body['view']['id']}"
    with deps.session() as session:
        if not audit.claim_once(session, key):
            ack()
            return
        channel, thread, meeting_id = case_post.where(session, case)
        decision = decisions.record(session, case_id=case.id, meeting_id=meeting_id, text=text, member_id=by.id,
                                    actor=access.actor_of(body), now=deps.now(), source_key=key)
        message = action_blocks.decision_post(decision=decision, by=by)
        decision_id = decision.id
    ack()
    log.info("decision %s recorded on case %s (meeting %s)", decision_id, case.id, meeting_id)
    case_post.post(client, channel=channel, thread_ts=thread, message=message, what="a decision",
                   notify=access.actor_of(body).user_id)


def shortcut_record_decision(ack, body: dict, client: WebClient, respond, deps: Deps) -> None:
    """"Record as decision" on a message in a case channel: the form, filled in with the message."""
    ack()
    with deps.session() as session:
        case = cases.case_for_channel(session, access.channel_of(body))
        if case is None:
            access.tell(client, body, NOT_A_CASE_CHANNEL, respond)
            return
        case, member, why_not = access.member_for(session, case.id, access.actor_of(body))
        names = {m.slack_user_id: shown(m) for m in cases.members(session, case.id) if m.slack_user_id}
    if why_not:
        access.tell(client, body, why_not, respond)
        return
    text = action_blocks.plain_from_message((body.get("message") or {}).get("text") or "", names)
    try:
        open_decision(deps, client, body, body.get("trigger_id"), case, member, text=text,
                      refuse=lambda why: access.tell(client, body, why, respond))
    except SlackApiError as error:
        log.warning("could not open the decision form: %s", error.response.get("error"))


def register(app: App, deps: Deps) -> None:
    deps.commands.add(SubCommand("decision", "Record a decision of the core group (the chair)", start_decision))

    @app.view(View.DECISION)
    def decision_submitted(ack, body, client):
        submit_decision(ack, body, client, deps)

    @app.shortcut(Shortcut.RECORD_DECISION)
    def record_decision(ack, body, client, respond):
        shortcut_record_decision(ack, body, client, respond, deps)

    @app.action(ActionId.DECISION_START)
    def decision_clicked(ack, body, client, respond):
        ack()
        start_from_button(deps, "decision", body, client, respond, access.button_value(body).get("c"))
