"""Builders for `/coregroup members`: the list and the add, change and remove forms."""

from __future__ import annotations

import json
from collections.abc import Sequence

from slack_sdk.models.blocks import EmailInputElement

from handlers.blocks import kit
from handlers.blocks.cases import role_choices
from handlers.ids import Action, Block, View, input_id
from models import names
from models.tables import FAMILY_ROLES, PROFESSIONAL_ROLES, Member, MemberStatus


def who(member: Member) -> str:
    """How a member is shown in a message: a mention for Slack people, the recorded name otherwise."""
    if member.slack_user_id and member.status == MemberStatus.ACTIVE:
        return f"<@{member.slack_user_id}>"
    return kit.esc(names.shown(member))


def describe(member: Member) -> str:
    parts = [kit.esc(member.role)]
    if member.relationship:
        parts.append(kit.esc(member.relationship))
    if member.agency:
        parts.append(kit.esc(member.agency))
    text = f"{who(member)} – " + ", ".join(parts)
    if member.is_lead:
        text += " · *lead social worker*"
    if member.status == MemberStatus.INVITED:  # their email address stays on their record, shown to nobody
        text += " · _invited, not yet joined_"
    if not member.slack_user_id and member.status == MemberStatus.ACTIVE:
        text += " · _not on Slack_"
    if member.manager_user_id:
        text += f" · manager <@{member.manager_user_id}>"
    if member.away_until:
        text += f" · away until {member.away_until:%-d %B}"
    return text


def members_modal(*, case_id: int, reference: str, members: Sequence[Member], can_add: bool = True,
                  can_change: bool = True) -> dict:
    """The list, with buttons to add people (`can_add`) and a menu on each person to change or remove them
    (`can_change`), both for those in the council's workspace only."""
    value = {"c": case_id}
    blocks = [kit.section(f"*Core group for {kit.esc(reference)}*")]
    if can_add:
        blocks.append(kit.actions(
            kit.button("Add someone on Slack", Action.MEMBERS_ADD, value, style="primary"),
            kit.button("Invite by work email", Action.MEMBERS_INVITE, value),
            kit.button("Add someone without Slack", Action.MEMBERS_ADD_OFFLINE, value),
            block_id="member_buttons",
        ))
    blocks.append(kit.divider())
    for member in members[:90]:
        if not can_change:
            blocks.append(kit.section(describe(member), block_id=f"member_{member.id}"))
            continue
        member_value = {"c": case_id, "m": member.id}
        overflow = {
            "type": "overflow",
            "action_id": Action.MEMBERS_EDIT,
            "options": [
                {"text": {"type": "plain_text", "text": "Change details"},
                 "value": json.dumps(dict(member_value, o="edit"), separators=(",", ":"))},
                {"text": {"type": "plain_text", "text": "Cancel the invitation" if member.status ==
                          MemberStatus.INVITED else "Remove from the group"},
                 "value": json.dumps(dict(member_value, o="remove"), separators=(",", ":"))},
            ],
        }
        blocks.append(kit.section(describe(member), accessory=overflow, block_id=f"member_{member.id}"))
    if len(members) > 90:
        blocks.append(kit.context(f"And {len(members) - 90} more."))
    if not can_change:
        blocks.append(kit.context("To change your own role or organisation, use *My role and agency* on the pinned"
                                  " message in the case channel."))
    return kit.modal(title="Core group members", blocks=blocks, callback_id="members_list", submit=None,
                     close="Close", private_metadata=value)


def add_member_modal(*, case_id: int) -> dict:
    blocks = [
        kit.input_block("Who", kit.user_select(input_id(Block.USER)), block_id=Block.USER),
        kit.input_block("Role", kit.select(input_id(Block.ROLE), role_choices()), block_id=Block.ROLE),
        kit.input_block("Organisation", kit.plain_input(
            input_id(Block.AGENCY), max_length=120,
            placeholder="For example: the school, the health visiting team"),
                        block_id=Block.AGENCY, optional=True),
        kit.input_block("Their manager", kit.user_select(input_id(Block.MANAGER)), block_id=Block.MANAGER,
                        optional=True, hint="Told if the core group stops meeting, so it can be escalated."),
    ]
    return kit.modal(title="Add to core group", blocks=blocks, callback_id=View.MEMBER_ADD, submit="Add",
                     private_metadata={"c": case_id})


def add_offline_modal(*, case_id: int) -> dict:
    blocks = [
        kit.section("Parents and family are always part of the core group. Add people who are not on Slack"
                    " so the record shows them; the chair shares their views and the notes with them."),
        kit.input_block("Name or label", kit.plain_input(input_id(Block.NAME), max_length=120,
                                                         placeholder="For example: Mother of Child A"),
                        block_id=Block.NAME),
        kit.input_block("Role", kit.select(input_id(Block.ROLE),
                                           role_choices(FAMILY_ROLES + PROFESSIONAL_ROLES), initial="Parent"),
                        block_id=Block.ROLE),
        kit.input_block("Relationship to the children", kit.plain_input(input_id(Block.RELATIONSHIP),
                                                                        max_length=120),
                        block_id=Block.RELATIONSHIP, optional=True),
        kit.input_block("Organisation (for professionals)", kit.plain_input(input_id(Block.AGENCY),
                                                                            max_length=120),
                        block_id=Block.AGENCY, optional=True),
    ]
    return kit.modal(title="Add to core group", blocks=blocks, callback_id=View.MEMBER_ADD_OFFLINE, submit="Add",
                     private_metadata={"c": case_id})


def edit_member_modal(*, case_id: int, member: Member, own: bool = False) -> dict:
    """Change details; `own`: someone's own, from *My role and agency* (so "your", not "their")."""
    on_slack = member.slack_user_id or member.status == MemberStatus.INVITED or member.email
    roles = FAMILY_ROLES + PROFESSIONAL_ROLES if not on_slack else PROFESSIONAL_ROLES
    blocks = [
        kit.section(f"Details for {describe(member)}"),
        kit.input_block("Your name" if own else "Name", kit.plain_input(input_id(Block.NAME), max_length=120,
                                                initial=member.name if names.known(member) else None),
                        block_id=Block.NAME, optional=bool(member.slack_user_id),
                        hint="As they would like it shown in forms and documents." + (
                            "" if names.known(member) else " Slack has not told us their name yet.")),
        kit.input_block("Role", kit.select(input_id(Block.ROLE), role_choices(roles), initial=member.role),
                        block_id=Block.ROLE),
        kit.input_block("Organisation", kit.plain_input(input_id(Block.AGENCY), max_length=120,
                                                        initial=member.agency),
                        block_id=Block.AGENCY, optional=True),
    ]
    if member.slack_user_id:
        blocks.append(kit.input_block("Your manager" if own else "Their manager",
                                      kit.user_select(input_id(Block.MANAGER), initial=member.manager_user_id),
                                      block_id=Block.MANAGER, optional=True,
                                      hint="Told if the core group stops meeting, so it can be escalated."))
        blocks.append(kit.input_block("Away until", kit.date_input(input_id(Block.AWAY_UNTIL),
                                                                   initial=member.away_until),
                                      block_id=Block.AWAY_UNTIL, optional=True,
                                      hint="No reminders until then; their actions are shown to the group."))
    return kit.modal(title="Change details", blocks=blocks, callback_id=View.MEMBER_EDIT,
                     private_metadata={"c": case_id, "m": member.id})


def remove_member_modal(*, case_id: int, member: Member) -> dict:
    if member.status == MemberStatus.INVITED:
        blocks = [kit.section(f"Cancel the invitation to {describe(member)}? If they accept it later, I will"
                              " take them out of the channel again.")]
        return kit.modal(title="Cancel invitation", blocks=blocks, callback_id=View.MEMBER_REMOVE,
                         submit="Cancel invitation", close="Keep it",
                         private_metadata={"c": case_id, "m": member.id})
    blocks = [kit.section(f"Remove {describe(member)} from the core group? They will leave the channel."
                          " What they have written stays in the record.")]
    return kit.modal(title="Remove from group", blocks=blocks, callback_id=View.MEMBER_REMOVE, submit="Remove",
                     private_metadata={"c": case_id, "m": member.id})


def invite_modal(*, case_id: int) -> dict:
    """Invite a professional by work email: found in this workspace, or invited through Slack Connect."""
    blocks = [
        kit.section("For professionals who are not in this Slack workspace, such as a health visitor from the NHS"
                    " trust or a teacher from the school. If the email belongs to someone here (guests too), I add"
                    " them straight away. Otherwise Slack emails them an invitation to this channel from their own"
                    " organisation's Slack: they can post here but cannot invite anyone else."),
        kit.input_block("Work email", EmailInputElement(
            action_id=input_id(Block.EMAIL), placeholder="name@organisation.nhs.uk").to_dict(),
                        block_id=Block.EMAIL),
        kit.input_block("Role", kit.select(input_id(Block.ROLE), role_choices()), block_id=Block.ROLE),
        kit.input_block("Organisation", kit.plain_input(
            input_id(Block.AGENCY), max_length=120,
            placeholder="For example: the health visiting team, the school"),
                        block_id=Block.AGENCY, optional=True),
        kit.input_block("Their manager", kit.user_select(input_id(Block.MANAGER)), block_id=Block.MANAGER,
                        optional=True, hint="If their manager is in this workspace: told if the core group stops"
                        " meeting, so it can be escalated."),
    ]
    return kit.modal(title="Invite by work email", blocks=blocks, callback_id=View.MEMBER_INVITE,
                     submit="Invite", private_metadata={"c": case_id})
