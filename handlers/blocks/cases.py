"""Builders for `/coregroup new`."""

from __future__ import annotations

from datetime import date

from handlers.blocks import kit
from handlers.ids import Block, View, input_id
from models.tables import PROFESSIONAL_ROLES


def role_choices(roles: tuple[str, ...] = PROFESSIONAL_ROLES) -> list[tuple[str, str]]:
    return [(role, role) for role in roles]


def new_case_modal(*, creator: str, today: date) -> dict:
    """The form for a new case: everything needed to open the case channel."""
    blocks = [
        kit.section("Set up a private channel for a core group. Please do not use the children's names"
                    " anywhere: use a label and an age, such as “Child A (7)”."),
        kit.input_block("Case reference", kit.plain_input(input_id(Block.REFERENCE), max_length=40,
                                                          placeholder="CP-2026-0142"),
                        block_id=Block.REFERENCE, hint="The reference from your case management system."
                        " The channel is named from it."),
        kit.input_block("Children (one a line, label and age)",
                        kit.plain_input(input_id(Block.CHILDREN), multiline=True, max_length=600,
                                        placeholder="Child A (7)\nChild B (4)"),
                        block_id=Block.CHILDREN),
        kit.input_block("Date of the initial child protection conference",
                        kit.date_input(input_id(Block.INITIAL), initial=today), block_id=Block.INITIAL),
        kit.input_block("Date of the review conference", kit.date_input(input_id(Block.REVIEW)),
                        block_id=Block.REVIEW, optional=True,
                        hint="Usually within three months of the initial conference."),
        kit.input_block("Meet every … weeks", kit.number_input(input_id(Block.FREQUENCY), initial=6, minimum=1,
                                                               maximum=12),
                        block_id=Block.FREQUENCY, hint="Six weeks unless the conference agreed otherwise."),
        kit.input_block("Professionals in the core group", kit.users_select(input_id(Block.PROFESSIONALS)),
                        block_id=Block.PROFESSIONALS, optional=True,
                        hint="People in this Slack workspace. You can add others, and family members"
                        " without Slack, afterwards with /coregroup members."),
        kit.input_block("Professionals from other organisations (work emails, one a line)",
                        kit.plain_input(input_id(Block.EMAILS), multiline=True, max_length=2000,
                                        placeholder="name@organisation.nhs.uk"),
                        block_id=Block.EMAILS, optional=True,
                        hint="Someone in this workspace (guests too) is added straight away. Anyone else is"
                        " sent an invitation to the channel from their own organisation's Slack; they can post"
                        " but not invite others. Set their roles afterwards with /coregroup members."),
        kit.input_block("Lead social worker", kit.user_select(input_id(Block.LEAD), initial=creator),
                        block_id=Block.LEAD),
        kit.input_block("Your role", kit.select(input_id(Block.CREATOR_ROLE), role_choices(),
                                                initial="Social worker"),
                        block_id=Block.CREATOR_ROLE),
    ]
    return kit.modal(title="New core group", blocks=blocks, callback_id=View.NEW_CASE, submit="Create")
