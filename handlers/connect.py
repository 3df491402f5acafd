"""Add a professional by work email: someone in this workspace (guests too) is added to the channel;
anyone else is invited through Slack Connect, limited so they can post but not invite others.

Used by `/coregroup members` ("Invite by work email") and by `/coregroup new` (the work emails
field). The email goes to Slack in the body of a POST, never in a URL, and never into a log or
the audit trail (which records the member id and Slack's invite id).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers import access, case_post, forms
from handlers import members as member_handlers
from handlers.blocks import kit
from handlers.blocks import members as member_blocks
from handlers.deps import Deps
from handlers.ids import Action, Block, View
from handlers.people import picked
from models import audit, cases, invites
from models.audit import Actor
from models.cases import DomainError, PersonIn
from models.tables import PROFESSIONAL_ROLES, Case, Member, MemberStatus

log = logging.getLogger(__name__)

# conversations.inviteShared's documented errors, in words a social worker can act on.
INVITE_SHARED_ERRORS = {
    "not_paid": "Sharing a channel with another organisation (Slack Connect) needs a paid Slack plan."
                " Ask your Slack administrator, or add them as a guest instead.",
    "restricted_action": "Your workspace does not let CoreGroup invite people from other organisations. Ask your"
                         " Slack administrator to allow Slack Connect invitations, or to add them as a guest.",
    "not_allowed_for_grid_workspace": "Slack Connect is not turned on for this workspace. Ask your Slack"
                                      " administrator to turn it on, or to add them as a guest instead.",
    "missing_scope": "CoreGroup has not been given permission to send Slack Connect invitations. Ask your Slack"
                     " administrator to reinstall it from its manifest.",
    "invalid_email": "Slack says this email address is not valid. Check it and try again.",
    "connection_limit_exceeded": "This channel is already shared with as many organisations as Slack allows.",
    "connection_limit_exceeded_pending": "This channel already has an invitation waiting to be accepted. Try"
                                         " again when it has been accepted or has expired.",
    "member_limit_exceeded": "This channel has as many members as Slack allows.",
    "ratelimit": "Slack has had too many invitations from CoreGroup just now. Please try again in a minute.",
    "cannot_share_cross_workspace_channel": "This channel cannot be shared with another organisation.",
    "not_supported": "This channel cannot be shared with another organisation.",
    "channel_archived": "This case's channel is archived, so nobody can be invited to it.",
    "already_in_channel": "They are already in the channel.",
}
LOOKUP_FAILED = "Slack could not check this email address just now. Please try again."
LOOKUP_ERRORS = {
    "missing_scope": "CoreGroup has not been given permission to look people up by email. Ask your Slack"
                     " administrator to reinstall it from its manifest.",
}
INVITE_FAILED = "Slack would not send the invitation. Please try again, or ask your Slack administrator."


@dataclass
class InviteOutcome:
    """What happened to one email: `added` (in this workspace), `invited` (Slack Connect), `failed`."""

    kind: str
    member_id: int | None = None
    error: str | None = None


def _lookup(client: WebClient, email: str) -> dict | None:
    """The workspace user with this email (guests included), or None. POST, so the email is not in a URL."""
    try:
        return client.api_call("users.lookupByEmail", data={"email": email})["user"]
    except SlackApiError as error:
        if error.response.get("error") == "users_not_found":
            return None
        raise


def _invite_shared(client: WebClient, channel_id: str, email: str) -> str:
    """Send a limited Slack Connect invitation (post only, cannot invite others); returns the invite id."""
    reply = client.api_call("conversations.inviteShared",
                            data={"channel": channel_id, "emails": email, "external_limited": True})
    return str(reply.get("invite_id") or "")


def _name_of(user: dict) -> str:
    return member_handlers.name_of(user, fallback=user.get("id") or "")


def invite_email(deps: Deps, client: WebClient, *, case: Case, email: str, role: str, agency: str | None,
                 manager: str | None, actor: Actor) -> InviteOutcome:
    """Add or invite one professional by work email. Errors come back as words for the person asking."""
    with deps.session() as session:
        known = invites.member_with_email(session, case.id, email)
        if known is not None:
            what = "already invited" if known.status == MemberStatus.INVITED else "already in the core group"
            return InviteOutcome("failed", known.id, f"Someone with this email is {what}.")
    try:
        user = _lookup(client, email)
    except SlackApiError as error:
        code = error.response.get("error", "")
        log.warning("email look-up failed for case %s: %s", case.id, code)
        return InviteOutcome("failed", error=member_handlers.in_words(code, LOOKUP_ERRORS, LOOKUP_FAILED))
    manager_of = picked(client, manager, case.team_id)
    if user is not None and (user.get("team_id") or case.team_id) == case.team_id:
        if user.get("deleted"):
            return InviteOutcome("failed", error="This person's Slack account has been deactivated.")
        if user.get("is_bot"):
            return InviteOutcome("failed", error=member_handlers.INVITE_ERRORS["user_is_bot"])
        if manager and manager == user.get("id"):
            return InviteOutcome("failed", error="Choose their manager, not the person themselves.")
        with deps.session() as session:
            if cases.active_member(session, case.id, case.team_id, user["id"]):
                return InviteOutcome("failed", error="They are already in the core group.")
        person = PersonIn(team_id=case.team_id, user_id=user["id"], name=_name_of(user), role=role, agency=agency)
        member_id, problem = member_handlers.add_to_channel(deps, client, case=case, person=person, actor=actor,
                                                            manager=manager_of)
        if problem:
            return InviteOutcome("failed", error=problem)
        log.info("case %s: workspace person %s/%s added by email look-up", case.id, case.team_id, user["id"])
        return InviteOutcome("added", member_id)
    try:
        invite_id = _invite_shared(client, case.channel_id or "", email)
    except SlackApiError as error:
        code = error.response.get("error", "")
        log.warning("Slack Connect invitation refused for case %s: %s", case.id, code)
        return InviteOutcome("failed", error=member_handlers.in_words(code, INVITE_SHARED_ERRORS, INVITE_FAILED))
    with deps.session() as session:
        member = invites.record_invite(session, case=case, email=email, invite_id=invite_id, role=role,
                                       agency=agency, manager=manager_of, actor=actor)
        member_id = member.id
    log.info("case %s: Slack Connect invite %s sent for member %s", case.id, invite_id, member_id)
    return InviteOutcome("invited", member_id)


def invited_text(inviter: str, role: str, agency: str | None) -> str:
    """What the channel is told when someone is invited through Slack Connect (no email address)."""
    whom = kit.esc(role) + (f", {kit.esc(agency)}" if agency else "")
    return (f"{inviter} invited someone from another organisation to join the core group ({whom}). Slack has"
            " emailed them an invitation to this channel: they can post here but cannot invite anyone else."
            " I will say when they join.")


COUNCIL_ONLY = member_handlers.COUNCIL_ONLY


def say_council_only(client: WebClient, body: dict, respond=None) -> None:
    """Explain the refusal where the person is looking: over the modal they clicked in, or privately."""
    if body.get("view") and body.get("trigger_id"):
        client.views_push(trigger_id=body["trigger_id"],
                          view=access.notice_view("Add to core group", COUNCIL_ONLY))
    else:
        access.tell(client, body, COUNCIL_ONLY, respond)


def from_council(case: Case, actor: Actor) -> bool:
    """People from other organisations take part, but do not bring others in (the invitation is limited)."""
    return actor.team_id == case.team_id


def submit_invite(ack, body: dict, client: WebClient, deps: Deps) -> None:
    checked = access.check_submission(deps, ack, body, title="Invite by work email")
    if checked is None:
        return
    case, inviter = checked
    raw = forms.values(body)
    errors: dict[str, str] = {}
    email = ""
    try:
        email = invites.check_email(raw.get(Block.EMAIL), field=Block.EMAIL)
    except DomainError as error:
        errors[Block.EMAIL] = str(error)
    role = raw.get(Block.ROLE)
    if role not in PROFESSIONAL_ROLES:
        errors[Block.ROLE] = "Please choose their role."
    agency = forms.text(raw.get(Block.AGENCY), Block.AGENCY, errors, limit=120, what="the organisation")
    manager = raw.get(Block.MANAGER)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    actor = access.actor_of(body)
    if not from_council(case, actor):
        ack(response_action="update", view=access.notice_view("Invite by work email", COUNCIL_ONLY))
        return
    key = f"view:{body['view']['id']}"
    with deps.session() as session:  # the same form sent twice sends one invitation
        if not audit.claim_once(session, key):
            ack()
            return
    try:
        outcome = invite_email(deps, client, case=case, email=email, role=role, agency=agency or None,
                               manager=manager, actor=actor)
    except BaseException:
        with deps.session() as session:
            audit.release(session, key)
        raise
    if outcome.kind == "failed":
        with deps.session() as session:
            audit.release(session, key)  # corrected, the same form can be sent again
        ack(response_action="errors", errors={Block.EMAIL: outcome.error or "Slack would not invite them."})
        return
    with deps.session() as session:  # the channel's note, written before the form closes
        member = session.get(Member, outcome.member_id)
        if outcome.kind == "added":
            text = f"{member_blocks.who(inviter)} added {member_blocks.describe(member)} to the core group."
        else:
            text = invited_text(member_blocks.who(inviter), member.role, member.agency)
        keys = member_handlers.plan_post(session, deps, case, text, actor.user_id,
                                         key=f"member:{member.id}:{outcome.kind}:{key}")
    ack()
    case_post.send(deps, client, keys)
    member_handlers.refresh_list(client, deps, body, case.id)


def register(app: App, deps: Deps) -> None:
    @app.action(Action.MEMBERS_INVITE)
    def invite_clicked(ack, body, client, respond):
        ack()
        checked = access.check_click(deps, body, client, access.button_value(body).get("c"), respond)
        if checked is None:
            return
        if not from_council(checked[0], access.actor_of(body)):
            say_council_only(client, body, respond)
            return
        view = member_blocks.invite_modal(case_id=checked[0].id)
        if body.get("view"):
            client.views_push(trigger_id=body["trigger_id"], view=view)
        else:
            client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.view(View.MEMBER_INVITE)
    def invite_submitted(ack, body, client):
        submit_invite(ack, body, client, deps)
