"""`/coregroup members`: see who is in the core group; add, change and remove people."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers import access, case_post, forms, outbox
from handlers.blocks import kit
from handlers.blocks import members as member_blocks
from handlers.commands import Invocation, SubCommand
from handlers.deps import Deps
from handlers.getting_started import refresh_later as refresh_checklist
from handlers.ids import Action, Block, View
from handlers.people import picked, profile
from models import audit, cases, dates, invites, ledger, names, reminders
from models import outbox as outbox_rows
from models.audit import Actor
from models.cases import PersonIn
from models.ledger import Kind
from models.tables import FAMILY_ROLES, PROFESSIONAL_ROLES, Case, Member, MemberStatus

log = logging.getLogger(__name__)

INVITE_ERRORS = {
    "user_not_found": "I could not find that person in Slack.",
    "user_is_restricted": "Slack will not let me add this guest to the channel. Ask your Slack administrator"
                          " to give them access to it first.",
    "cant_invite": "Slack will not let me invite this person.",
    "user_is_bot": "Choose a person, not an app.",
    "ura_max_channels": "This single-channel guest is already in another channel. Ask your Slack"
                        " administrator to make them a multi-channel guest.",
    "user_is_ultra_restricted": "Slack will not let me add this single-channel guest here. Ask your Slack"
                                " administrator to make them a multi-channel guest.",
    "not_in_channel": "CoreGroup is no longer in this case's channel. Add it back to the channel first.",
    "is_archived": "This case's channel is archived, so nobody can be added to it.",
}

# Slack's error codes that any call may give, in words a person can act on. The code itself goes to the log
# only (it is an identifier, not case text): nobody should have to look it up.
SLACK_TROUBLE = {
    "ratelimited": "Slack is busy just now. Please try again in a minute.",
    "ratelimit": "Slack is busy just now. Please try again in a minute.",
    "missing_scope": "CoreGroup has not been given permission to do this. Ask your Slack administrator to"
                     " reinstall it from its manifest.",
    "restricted_action": "Your workspace's settings do not let CoreGroup do this. Ask your Slack administrator.",
    "ekm_access_denied": "Your organisation's Slack security settings stopped this. Ask your Slack administrator.",
    "channel_not_found": "I could not find this case's channel in Slack. It may have been deleted.",
    "is_archived": "This case's channel is archived, so nothing more can be done in it.",
    "invalid_auth": "CoreGroup's connection to Slack is not working. Ask your Slack administrator to check that"
                    " it is still installed.",
    "not_authed": "CoreGroup's connection to Slack is not working. Ask your Slack administrator to check that"
                  " it is still installed.",
    "account_inactive": "CoreGroup's connection to Slack is not working. Ask your Slack administrator to check"
                        " that it is still installed.",
    "token_revoked": "CoreGroup's connection to Slack is not working. Ask your Slack administrator to check that"
                     " it is still installed.",
    "internal_error": "Slack had a problem just then. Please try again in a few minutes.",
    "fatal_error": "Slack had a problem just then. Please try again in a few minutes.",
    "service_unavailable": "Slack had a problem just then. Please try again in a few minutes.",
    "request_timeout": "Slack had a problem just then. Please try again in a few minutes.",
}


def in_words(code: str | None, known: dict[str, str], fallback: str) -> str:
    """A Slack error code in words: the sentence for this call, else a common one, else `fallback`."""
    return known.get(code or "") or SLACK_TROUBLE.get(code or "") or fallback


ADD_FAILED = "Slack would not add them to the channel. Please try again, or ask your Slack administrator."


def name_of(user: dict | None, fallback: str) -> str:
    """The name to record from a users.info user: their display name, else their real name."""
    user = user or {}
    profile_ = user.get("profile") or {}
    return (profile_.get("display_name") or profile_.get("real_name") or user.get("real_name")
            or user.get("name") or fallback)[:120]


def members_view(deps: Deps, case_id: int, *, viewer_team: str | None = None) -> dict:
    """The members list; people from other organisations see it without the buttons to add, invite,
    change or remove people."""
    with deps.session() as session:
        case = cases.get_case(session, case_id)
        people = cases.members(session, case_id)
    council = viewer_team in (None, case.team_id)
    return member_blocks.members_modal(case_id=case_id, reference=case.reference, members=people,
                                       can_add=council, can_change=council)


def show_members(inv: Invocation) -> None:
    if inv.trigger_id:
        inv.client.views_open(trigger_id=inv.trigger_id,
                              view=members_view(inv.deps, inv.case.id, viewer_team=inv.actor.team_id))


def refresh_list(client: WebClient, deps: Deps, body: dict, case_id: int) -> None:
    """Redraw the members list the submitted modal was pushed from, if there is one."""
    view_id = (body.get("view") or {}).get("previous_view_id")
    if not view_id:
        return
    try:
        client.views_update(view_id=view_id, view=members_view(
            deps, case_id, viewer_team=access.actor_of(body).team_id))
    except SlackApiError as error:
        log.info("could not refresh the members list: %s", error.response.get("error"))


def plan_post(session, deps: Deps, case: Case, text: str, notify: str | None, *, key: str) -> list[str]:
    """The channel told of a change of members, through the outbox (handlers/case_post.plan): written in the
    change's transaction (or, for someone invited, before the form closes), sent after it."""
    return case_post.plan(session, deps, key=key, case_id=case.id, channel=case.channel_id, thread_ts=None,
                          message={"text": text, "blocks": [kit.section(text)]}, notify=notify)


COUNCIL_ONLY = ("Only people in the council's own Slack workspace can add or invite people to the core group."
                " Ask the lead social worker.")
CHANGE_COUNCIL_ONLY = ("Only people in the council's own Slack workspace can change or remove other members of the"
                       " core group. Ask the lead social worker. To change your own role or organisation, use"
                       " *My role and agency* on the pinned message in the case channel.")


def may_change(case: Case, actor: Actor, editor: Member, target_id, *, removing: bool) -> bool:
    """Changing and removing members is for people in the council's workspace, like adding them. Someone
    from another organisation may change only their own details (and cannot remove anyone, themselves
    included: leaving the channel does that)."""
    if actor.team_id == case.team_id:
        return True
    return not removing and access.int_or_none(target_id) == editor.id


def _refuse_change(ack, case: Case, actor: Actor, title: str) -> None:
    log.info("refused a change of members in case %s for %s/%s: not in the council's workspace", case.id,
             actor.team_id, actor.user_id)
    ack(response_action="update", view=access.notice_view(title, CHANGE_COUNCIL_ONLY))


ALREADY_IN = "They are already in the core group."


def add_to_channel(deps: Deps, client: WebClient, *, case: Case, person: PersonIn, actor,
                   manager: tuple[str, str] | None = None, only_new: bool = False) -> tuple[int | None, str | None]:
    """Record a person of this workspace (member or guest) and invite them to the case channel.

    Returns (member id, None), or (None, why not) when Slack refuses: a single-channel guest who is
    already in another channel, for example. They are recorded first, so the channel-join event that
    the invitation causes finds a member; a refusal takes the record back out. With `only_new`, someone
    already in the group (added by someone else a moment ago) is (None, ALREADY_IN) and nothing changes.
    """
    with deps.session() as session:
        member, newly_active = cases.add_slack_member(session, case=case, person=person, actor=actor,
                                                      manager=manager)
        member_id = member.id
        if only_new and not newly_active:
            session.rollback()
            return None, ALREADY_IN
    try:
        client.conversations_invite(channel=case.channel_id, users=person.user_id)
    except SlackApiError as error:
        code = error.response.get("error", "")
        if code != "already_in_channel":
            log.info("could not invite %s/%s to %s: %s", person.team_id, person.user_id, case.channel_id, code)
            with deps.session() as session:
                cases.remove_member(session, member=session.get(Member, member_id), actor=actor)
            return None, in_words(code, INVITE_ERRORS, ADD_FAILED)
    return member_id, None


def submit_add(ack, body: dict, client: WebClient, deps: Deps, bot_user_id: str | None) -> None:
    checked = access.check_submission(deps, ack, body, title="Add to core group")
    if checked is None:
        return
    case, adder = checked
    actor = access.actor_of(body)
    if actor.team_id != case.team_id:
        ack(response_action="update", view=access.notice_view("Add to core group", COUNCIL_ONLY))
        return
    raw = forms.values(body)
    errors: dict[str, str] = {}
    user_id = raw.get(Block.USER)
    role = raw.get(Block.ROLE)
    agency = forms.text(raw.get(Block.AGENCY), Block.AGENCY, errors, limit=120, what="the organisation")
    manager = raw.get(Block.MANAGER)
    if not user_id:
        errors[Block.USER] = "Please choose someone."
    elif user_id == bot_user_id:
        errors[Block.USER] = INVITE_ERRORS["user_is_bot"]
    if role not in PROFESSIONAL_ROLES:
        errors[Block.ROLE] = "Please choose their role."
    if manager and manager == user_id:
        errors[Block.MANAGER] = "Choose their manager, not the person themselves."
    team_id, name = case.team_id, user_id
    if not errors:
        # One look-up gives their name and their organisation: someone picked from a channel shared with
        # another organisation is (their team, their user), not the council's. If Slack will not say, they
        # are taken to be in the council's workspace, as the picker offers.
        user = profile(client, user_id)
        if user and user.get("is_bot"):
            errors[Block.USER] = INVITE_ERRORS["user_is_bot"]
        team_id = (user or {}).get("team_id") or case.team_id
        name = name_of(user, fallback=user_id)
    if not errors:
        with deps.session() as session:
            if cases.active_member(session, case.id, team_id, user_id):
                errors[Block.USER] = ALREADY_IN
    if errors:
        ack(response_action="errors", errors=errors)
        return
    person = PersonIn(team_id=team_id, user_id=user_id, name=name, role=role, agency=agency or None)
    key = f"view:{body['view']['id']}"
    with deps.session() as session:  # the same form sent twice (a retry, a double click) adds them once
        if not audit.claim_once(session, key):
            ack()
            return
    try:
        member_id, problem = add_to_channel(deps, client, case=case, person=person, actor=actor,
                                            manager=picked(client, manager, case.team_id), only_new=True)
    except BaseException:
        with deps.session() as session:
            audit.release(session, key)
        raise
    if problem:
        with deps.session() as session:
            audit.release(session, key)  # they may choose someone else and send the form again
        ack(response_action="errors", errors={Block.USER: problem})
        return
    with deps.session() as session:  # the channel's note, written before the form closes
        member = session.get(Member, member_id)
        text = f"{member_blocks.who(adder)} added {member_blocks.describe(member)} to the core group."
        keys = plan_post(session, deps, case, text, actor.user_id, key=f"member:{member_id}:added:{key}")
    ack()
    case_post.send(deps, client, keys)
    refresh_list(client, deps, body, case.id)
    refresh_checklist(deps, client, case.id)


def submit_add_offline(ack, body: dict, client: WebClient, deps: Deps) -> None:
    checked = access.check_submission(deps, ack, body, title="Add to core group")
    if checked is None:
        return
    case, adder = checked
    if access.actor_of(body).team_id != case.team_id:
        ack(response_action="update", view=access.notice_view("Add to core group", COUNCIL_ONLY))
        return
    raw = forms.values(body)
    errors: dict[str, str] = {}
    name = forms.text(raw.get(Block.NAME), Block.NAME, errors, required=True, limit=120, what="a name or label")
    relationship = forms.text(raw.get(Block.RELATIONSHIP), Block.RELATIONSHIP, errors, limit=120,
                              what="the relationship")
    agency = forms.text(raw.get(Block.AGENCY), Block.AGENCY, errors, limit=120, what="the organisation")
    role = raw.get(Block.ROLE)
    if role not in FAMILY_ROLES + PROFESSIONAL_ROLES:
        errors[Block.ROLE] = "Please choose their role."
    if errors:
        ack(response_action="errors", errors=errors)
        return
    with deps.session() as session:
        if not access_claim(session, body):
            ack()
            return
        member = cases.add_person_without_slack(session, case=case, name=name, role=role,
                                                relationship=relationship or None, agency=agency or None,
                                                actor=access.actor_of(body))
        text = f"{member_blocks.who(adder)} added {member_blocks.describe(member)} to the core group."
        keys = plan_post(session, deps, case, text, access.actor_of(body).user_id,
                          key=f"member:{member.id}:added:view:{body['view']['id']}")
    ack()
    case_post.send(deps, client, keys)
    refresh_list(client, deps, body, case.id)
    refresh_checklist(deps, client, case.id)


def access_claim(session, body: dict) -> bool:
    from models.audit import claim_once

    return claim_once(session, f"view:{body['view']['id']}")


def _target(session, case_id: int, member_id) -> Member | None:
    member = session.get(Member, access.int_or_none(member_id)) if access.int_or_none(member_id) else None
    if member is None or member.case_id != case_id or member.status == MemberStatus.REMOVED:
        return None
    return member


def submit_edit(ack, body: dict, client: WebClient, deps: Deps) -> None:
    checked = access.check_submission(deps, ack, body, title="Change details")
    if checked is None:
        return
    case, editor = checked
    actor = access.actor_of(body)
    if not may_change(case, actor, editor, access.metadata(body).get("m"), removing=False):
        _refuse_change(ack, case, actor, "Change details")
        return
    raw = forms.values(body)
    errors: dict[str, str] = {}
    agency = forms.text(raw.get(Block.AGENCY), Block.AGENCY, errors, limit=120, what="the organisation")
    name = forms.text(raw.get(Block.NAME), Block.NAME, errors, limit=120, what="the name")
    role = raw.get(Block.ROLE)
    if role not in FAMILY_ROLES + PROFESSIONAL_ROLES:
        errors[Block.ROLE] = "Please choose a role."
    away = forms.parse_date(raw.get(Block.AWAY_UNTIL), Block.AWAY_UNTIL, errors, required=False)
    problem = away and dates.check_away_until(away, today=deps.today())
    if problem:
        errors[Block.AWAY_UNTIL] = problem
    manager = raw.get(Block.MANAGER)
    manager_of = picked(client, manager, actor.team_id)  # picked from the workspace of whoever changes the details
    with deps.session() as session:
        member = _target(session, case.id, access.metadata(body).get("m"))
        if member is None:
            ack(response_action="update", view=access.notice_view("Change details",
                                                                  "That person is no longer in the core group."))
            return
        if (member.slack_user_id or member.email) and role in FAMILY_ROLES:
            errors[Block.ROLE] = "Choose a professional role for someone on Slack."
        if manager and manager == member.slack_user_id:
            errors[Block.MANAGER] = "Choose their manager, not the person themselves."
        if errors:
            ack(response_action="errors", errors=errors)
            return
        if not audit.claim_once(session, f"view:{body['view']['id']}"):  # the same form sent twice
            ack()
            return
        if not name and not member.slack_user_id:
            errors[Block.NAME] = "Please give their name or a label, such as Mother of Child A."
            ack(response_action="errors", errors=errors)
            return
        changed = cases.update_member(
            session, member=member, actor=actor, role=role, agency=agency, name=name or None,
            manager=manager_of if member.slack_user_id else False,
            away_until=away if member.slack_user_id else False,
        )
        if changed:
            reminders.member_changed(session, member=member, now=deps.now())
        else:
            session.refresh(member)
            if member.status == MemberStatus.REMOVED:  # removed while the form was open (or at the same moment)
                ack(response_action="update", view=access.notice_view(
                    "Change details", "That person is no longer in the core group, so nothing was changed."))
                return
    ack()
    refresh_list(client, deps, body, case.id)
    refresh_checklist(deps, client, case.id)


def submit_remove(ack, body: dict, client: WebClient, deps: Deps) -> None:
    checked = access.check_submission(deps, ack, body, title="Remove from group")
    if checked is None:
        return
    case, remover = checked
    actor = access.actor_of(body)
    if not may_change(case, actor, remover, access.metadata(body).get("m"), removing=True):
        _refuse_change(ack, case, actor, "Remove from group")
        return
    with deps.session() as session:
        member = _target(session, case.id, access.metadata(body).get("m"))
        if member is None:
            ack(response_action="update", view=access.notice_view("Remove from group",
                                                                  "That person is no longer in the core group."))
            return
        leads = [m for m in cases.members(session, case.id) if m.is_lead and m.status == MemberStatus.ACTIVE]
        if member.is_lead and len(leads) == 1:
            ack(response_action="update", view=access.notice_view(
                "Remove from group", "This is the lead social worker. Make someone else the lead first."))
            return
        if not audit.claim_once(session, f"view:{body['view']['id']}"):  # the same form sent twice
            ack()
            return
        cancelling = member.status == MemberStatus.INVITED
        if cancelling:
            if not invites.cancel(session, member=member, actor=actor):  # settled meanwhile (joined, declined)
                ack()
                return
            reminders.member_changed(session, member=member, now=deps.now())
            whom = kit.esc(member.role) + (f", {kit.esc(member.agency)}" if member.agency else "")
            text = f"{member_blocks.who(remover)} cancelled the invitation to join the core group ({whom})."
            key = outbox_rows.channel_note(session, case_id=case.id, what=f"cancelled:{member.id}", text=text,
                                           now=deps.now())
        else:
            slack_user = member.slack_user_id
            external = member.slack_team_id not in (None, case.team_id)
            if not cases.remove_member(session, member=member, actor=actor):  # removed meanwhile (left the channel)
                ack(response_action="update", view=access.notice_view(
                    "Remove from group", "That person is no longer in the core group."))
                return
            reminders.member_changed(session, member=member, now=deps.now())
            text = f"{member_blocks.who(remover)} removed {kit.esc(names.shown(member))}" \
                   f" ({kit.esc(member.role)}) from the core group. What they wrote stays in the record."
            # Taken out of the channel and the channel told through the outbox, planned with the removal.
            key = outbox_rows.member_removed(session, case_id=case.id, member_id=member.id, user_id=slack_user,
                                             external=external, text=text, notify=actor.user_id, now=deps.now())
    ack()
    outbox.send_all_now(deps, client, [key])
    if cancelling:
        _tell_in_channel(client, case, actor, CANCELLED_NOTE)
    refresh_list(client, deps, body, case.id)


CANCELLED_NOTE = (
    "Slack does not let apps withdraw an email invitation, so the email they were sent still works until it"
    " expires (after 14 days). If they accept it, I will take them out of the channel again straight away."
    " To stop it sooner, a Slack administrator can deny the request under *Manage Slack Connect* → *Requests*."
)
KICK_REFUSED_NOTE = (
    "Slack did not let me take <@{user}> out of the channel ({why}). Please remove them yourself: open the"
    " channel's details, choose *Members*, then *Remove from channel*.{admin}"
)
EXTERNAL_ADMIN_NOTE = (
    " They are from another organisation: if you cannot remove them, a Slack administrator can, under"
    " *Manage Slack Connect* → *External people*."
)


# conversations.kick's refusals, as a reason to put in brackets after "Slack did not let me take them out".
KICK_ERRORS = {
    "restricted_action": "your workspace only lets administrators remove people from channels",
    "not_supported": "Slack does not let apps remove this person from the channel",
    "method_not_supported_for_channel_type": "Slack does not let apps remove people from this kind of channel",
    "cant_kick_from_general": "nobody can be removed from the workspace's general channel",
    "missing_scope": "CoreGroup has not been given permission to remove people from channels",
    "channel_not_found": "I could not find the case's channel",
    "is_archived": "the channel is archived",
    "ratelimited": "Slack was busy",
}


def kick_reason(code: str | None) -> str:
    """Why Slack would not take someone out of the channel, in words (the code is only logged)."""
    return KICK_ERRORS.get(code or "", "Slack did not say why")


def kick(client: WebClient, channel_id: str | None, user_id: str) -> str | None:
    """Take someone out of the case channel. Returns Slack's error code when it refuses (for the log and for
    `kick_reason`), else None."""
    try:
        client.conversations_kick(channel=channel_id, user=user_id)
    except SlackApiError as error:
        code = error.response.get("error", "")
        if code in ("not_in_channel", "user_not_found"):
            return None
        log.warning("could not remove %s from %s: %s", user_id, channel_id, code)
        return code or "error"
    return None


@outbox.sender(Kind.MEMBER_REMOVED, unconfirmed="They are removed from the core group, but Slack did not take the"
               " note in the channel yet. It will be posted there as soon as Slack takes it.")
def send_removed(job: outbox.Job) -> None:
    """Someone removed from the core group (models/outbox.member_removed): take them out of the channel, tell the
    person who removed them privately if Slack would not, then tell the channel, once. Taking out someone no longer
    in the channel is no error, so a resumed row may ask Slack again; once the note is recorded nothing is redone."""
    channel_id = job.case_channel()
    if job.posted(0):
        return
    user_id, notify = job.detail.get("user"), job.detail.get("notify")
    refused = kick(job.client, channel_id, user_id) if user_id else None
    if refused and notify and not job.detail.get("told"):
        access.tell_in_channel(job.client, channel_id, notify, KICK_REFUSED_NOTE.format(
            user=user_id, why=kick_reason(refused), admin=EXTERNAL_ADMIN_NOTE if job.detail.get("external") else ""))
        job.detail["told"] = True  # kept with the row, so a retry does not tell them again
        with job.deps.session() as session:
            ledger.set_detail(session, job.row.id, job.detail)
    text = job.detail["text"]
    job.post(channel=channel_id, message={"text": text, "blocks": [kit.section(text)]})


def _tell_in_channel(client: WebClient, case: Case, actor, text: str) -> None:
    """An ephemeral note in the case channel for the person who acted."""
    try:
        client.chat_postEphemeral(channel=case.channel_id, user=actor.user_id, text=text,
                                  blocks=[kit.section(text)])
    except SlackApiError as error:
        log.info("could not tell %s in %s: %s", actor.user_id, case.channel_id, error.response.get("error"))


def register(app: App, deps: Deps) -> None:
    deps.commands.add(SubCommand("members", "See who is in the core group; add, change or remove people",
                                 show_members, aliases=("member",)))

    def push(body, client, view_for, case_id, respond=None):
        checked = access.check_click(deps, body, client, case_id, respond)
        if checked is None:
            return
        case, member = checked
        view = view_for(case, member)
        if view is None:
            return
        if body.get("view"):
            client.views_push(trigger_id=body["trigger_id"], view=view)
        else:
            client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.action(Action.MEMBERS_ADD)
    def add_clicked(ack, body, client):
        ack()

        def view_for(case, _member):
            if access.actor_of(body).team_id != case.team_id:
                return access.notice_view("Add to core group", COUNCIL_ONLY)
            return member_blocks.add_member_modal(case_id=case.id)

        push(body, client, view_for, access.button_value(body).get("c"))

    @app.action(Action.MEMBERS_ADD_OFFLINE)
    def add_offline_clicked(ack, body, client):
        ack()

        def view_for(case, _member):
            if access.actor_of(body).team_id != case.team_id:
                return access.notice_view("Add to core group", COUNCIL_ONLY)
            return member_blocks.add_offline_modal(case_id=case.id)

        push(body, client, view_for, access.button_value(body).get("c"))

    @app.action(Action.MEMBERS_EDIT)
    def member_menu(ack, body, client):
        ack()
        choice = access.button_value(body)

        def view_for(case, clicker):
            removing = choice.get("o") == "remove"
            actor = access.actor_of(body)
            if not may_change(case, actor, clicker, choice.get("m"), removing=removing):
                log.info("refused a change of members in case %s for %s/%s: not in the council's workspace",
                         case.id, actor.team_id, actor.user_id)
                return access.notice_view("Remove from group" if removing else "Change details",
                                          CHANGE_COUNCIL_ONLY)
            with deps.session() as session:
                member = _target(session, case.id, choice.get("m"))
            if member is None:
                return None
            if removing:
                return member_blocks.remove_member_modal(case_id=case.id, member=member)
            return member_blocks.edit_member_modal(case_id=case.id, member=member)

        push(body, client, view_for, choice.get("c"))

    @app.action(Action.HERE_MEMBERS)
    def here_members(ack, body, client, respond):
        ack()
        push(body, client, lambda case, _member: members_view(deps, case.id,
                                                              viewer_team=access.actor_of(body).team_id),
             access.button_value(body).get("c"), respond)

    @app.action(Action.HERE_MY_DETAILS)
    def here_my_details(ack, body, client, respond):
        ack()
        checked = access.check_click(deps, body, client, access.button_value(body).get("c"), respond)
        if checked is None:
            return
        case, member = checked
        client.views_open(trigger_id=body["trigger_id"],
                          view=member_blocks.edit_member_modal(case_id=case.id, member=member, own=True))

    @app.view(View.MEMBER_ADD)
    def added(ack, body, client, context):
        submit_add(ack, body, client, deps, context.bot_user_id)

    @app.view(View.MEMBER_ADD_OFFLINE)
    def added_offline(ack, body, client):
        submit_add_offline(ack, body, client, deps)

    @app.view(View.MEMBER_EDIT)
    def edited(ack, body, client):
        submit_edit(ack, body, client, deps)

    @app.view(View.MEMBER_REMOVE)
    def removed(ack, body, client):
        submit_remove(ack, body, client, deps)
