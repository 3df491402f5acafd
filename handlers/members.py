"""`/coregroup members`: see who is in the core group; add, change and remove people."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers import access, forms
from handlers.blocks import kit
from handlers.blocks import members as member_blocks
from handlers.commands import Invocation, SubCommand
from handlers.deps import Deps
from handlers.ids import Action, Block, View
from handlers.people import display_name
from models import cases, reminders
from models.cases import PersonIn
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
}


def members_view(deps: Deps, case_id: int) -> dict:
    with deps.session() as session:
        case = cases.get_case(session, case_id)
        people = cases.members(session, case_id)
    return member_blocks.members_modal(case_id=case_id, reference=case.reference, members=people)


def show_members(inv: Invocation) -> None:
    if inv.trigger_id:
        inv.client.views_open(trigger_id=inv.trigger_id, view=members_view(inv.deps, inv.case.id))


def _refresh_list(client: WebClient, deps: Deps, body: dict, case_id: int) -> None:
    view_id = (body.get("view") or {}).get("previous_view_id")
    if not view_id:
        return
    try:
        client.views_update(view_id=view_id, view=members_view(deps, case_id))
    except SlackApiError as error:
        log.info("could not refresh the members list: %s", error.response.get("error"))


def _post(client: WebClient, case: Case, text: str) -> None:
    client.chat_postMessage(channel=case.channel_id, text=text, blocks=[kit.section(text)])


def submit_add(ack, body: dict, client: WebClient, deps: Deps, bot_user_id: str | None) -> None:
    checked = access.check_submission(deps, ack, body, title="Add to core group")
    if checked is None:
        return
    case, adder = checked
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
    team_id = (body.get("team") or {}).get("id") or case.team_id
    if not errors:
        with deps.session() as session:
            if cases.active_member(session, case.id, team_id, user_id):
                errors[Block.USER] = "They are already in the core group."
    if errors:
        ack(response_action="errors", errors=errors)
        return
    # Record them first, so the channel-join event that the invitation causes finds a member.
    person = PersonIn(team_id=team_id, user_id=user_id, name=user_id, role=role, agency=agency or None)
    actor = access.actor_of(body)
    with deps.session() as session:
        member, _ = cases.add_slack_member(session, case=case, person=person, actor=actor,
                                           manager=(team_id, manager) if manager else None)
        member_id = member.id
    try:
        client.conversations_invite(channel=case.channel_id, users=user_id)
    except SlackApiError as error:
        code = error.response.get("error", "")
        if code != "already_in_channel":
            with deps.session() as session:
                cases.remove_member(session, member=session.get(Member, member_id), actor=actor)
            ack(response_action="errors", errors={Block.USER: INVITE_ERRORS.get(
                code, f"Slack would not add them to the channel ({code}).")})
            return
    ack()
    with deps.session() as session:
        member = session.get(Member, member_id)
        member.name = display_name(client, user_id, fallback=member.name)
        text = f"{member_blocks.who(adder)} added {member_blocks.describe(member)} to the core group."
    _post(client, case, text)
    _refresh_list(client, deps, body, case.id)


def submit_add_offline(ack, body: dict, client: WebClient, deps: Deps) -> None:
    checked = access.check_submission(deps, ack, body, title="Add to core group")
    if checked is None:
        return
    case, adder = checked
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
    ack()
    _post(client, case, text)
    _refresh_list(client, deps, body, case.id)


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
    case, _editor = checked
    raw = forms.values(body)
    errors: dict[str, str] = {}
    agency = forms.text(raw.get(Block.AGENCY), Block.AGENCY, errors, limit=120, what="the organisation")
    role = raw.get(Block.ROLE)
    if role not in FAMILY_ROLES + PROFESSIONAL_ROLES:
        errors[Block.ROLE] = "Please choose a role."
    away = forms.parse_date(raw.get(Block.AWAY_UNTIL), Block.AWAY_UNTIL, errors, required=False)
    if away and away < deps.today():
        errors[Block.AWAY_UNTIL] = "Choose a date from today onwards, or leave it empty."
    with deps.session() as session:
        member = _target(session, case.id, access.metadata(body).get("m"))
        if member is None:
            ack(response_action="update", view=access.notice_view("Change details",
                                                                  "That person is no longer in the core group."))
            return
        manager = raw.get(Block.MANAGER)
        if member.slack_user_id and role in FAMILY_ROLES:
            errors[Block.ROLE] = "Choose a professional role for someone on Slack."
        if manager and manager == member.slack_user_id:
            errors[Block.MANAGER] = "Choose their manager, not the person themselves."
        if errors:
            ack(response_action="errors", errors=errors)
            return
        cases.update_member(
            session, member=member, actor=access.actor_of(body), role=role, agency=agency,
            manager=((member.slack_team_id, manager) if manager else None) if member.slack_user_id else False,
            away_until=away if member.slack_user_id else False,
        )
        reminders.member_changed(session, member=member, now=deps.now())
    ack()
    _refresh_list(client, deps, body, case.id)


def submit_remove(ack, body: dict, client: WebClient, deps: Deps) -> None:
    checked = access.check_submission(deps, ack, body, title="Remove from group")
    if checked is None:
        return
    case, remover = checked
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
        slack_user = member.slack_user_id if member.slack_team_id == case.team_id else None
        external = member.slack_user_id if member.slack_team_id != case.team_id else None
        cases.remove_member(session, member=member, actor=access.actor_of(body))
        reminders.member_changed(session, member=member, now=deps.now())
        text = f"{member_blocks.who(remover)} removed {kit.esc(member.name)} ({kit.esc(member.role)}) from the" \
               " core group. What they wrote stays in the record."
    ack()
    for user_id in filter(None, (slack_user, external)):
        try:
            client.conversations_kick(channel=case.channel_id, user=user_id)
        except SlackApiError as error:
            if error.response.get("error") not in ("not_in_channel", "user_not_found"):
                log.warning("could not remove %s from %s: %s", user_id, case.channel_id,
                            error.response.get("error"))
    _post(client, case, text)
    _refresh_list(client, deps, body, case.id)


def register(app: App, deps: Deps) -> None:
    deps.commands.add(SubCommand("members", "See who is in the core group; add, change or remove people",
                                 show_members, aliases=("member",)))

    def push(body, client, view_for, case_id, respond=None):
        checked = access.check_click(deps, body, client, case_id, respond)
        if checked is None:
            return
        case, _member = checked
        view = view_for(case)
        if view is None:
            return
        if body.get("view"):
            client.views_push(trigger_id=body["trigger_id"], view=view)
        else:
            client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.action(Action.MEMBERS_ADD)
    def add_clicked(ack, body, client):
        ack()
        push(body, client, lambda case: member_blocks.add_member_modal(case_id=case.id),
             access.button_value(body).get("c"))

    @app.action(Action.MEMBERS_ADD_OFFLINE)
    def add_offline_clicked(ack, body, client):
        ack()
        push(body, client, lambda case: member_blocks.add_offline_modal(case_id=case.id),
             access.button_value(body).get("c"))

    @app.action(Action.MEMBERS_EDIT)
    def member_menu(ack, body, client):
        ack()
        choice = access.button_value(body)

        def view_for(case):
            with deps.session() as session:
                member = _target(session, case.id, choice.get("m"))
            if member is None:
                return None
            if choice.get("o") == "remove":
                return member_blocks.remove_member_modal(case_id=case.id, member=member)
            return member_blocks.edit_member_modal(case_id=case.id, member=member)

        push(body, client, view_for, choice.get("c"))

    @app.action(Action.HERE_MEMBERS)
    def here_members(ack, body, client, respond):
        ack()
        push(body, client, lambda case: members_view(deps, case.id), access.button_value(body).get("c"), respond)

    @app.action(Action.HERE_MY_DETAILS)
    def here_my_details(ack, body, client, respond):
        ack()
        checked = access.check_click(deps, body, client, access.button_value(body).get("c"), respond)
        if checked is None:
            return
        case, member = checked
        client.views_open(trigger_id=body["trigger_id"],
                          view=member_blocks.edit_member_modal(case_id=case.id, member=member))

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
