"""Builders for closing a case: the form, and the message left in the channel before it is archived."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, tzinfo

from handlers.blocks import kit
from handlers.blocks.meetings import when_text
from handlers.ids import Block, View, input_id
from models.lifecycle import MAX_REASON_CHARS, OUTCOME_TITLES
from models.meetings import long_date
from models.tables import CloseOutcome, Meeting

OUTCOME_CHOICES = [
    ("The plan ended: a child protection plan is no longer needed", CloseOutcome.PLAN_ENDED),
    ("Stepped up: the council is taking the case to court", CloseOutcome.STEPPED_UP),
    ("Transferred: the family moved and another area takes over", CloseOutcome.TRANSFERRED),
]


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def what_happens(*, open_actions: int, meetings_to_cancel: Sequence[Meeting], pending_messages: int,
                 tz: tzinfo) -> str:
    lines = [
        "*When you close the case*",
        "• The channel is archived. Everyone in it can still read it, but nobody can post.",
        "• Every record is kept as it is, and can still be read and exported. Nothing more can be added.",
    ]
    for meeting in meetings_to_cancel[:3]:
        lines.append(f"• The meeting on {when_text(meeting, tz)} is cancelled.")
    if pending_messages:
        lines.append(f"• {_plural(pending_messages, 'reminder', 'reminders')} will not be sent.")
    if open_actions:
        lines.append(f"• {_plural(open_actions, 'action is', 'actions are')} still open. They stay in the"
                     " record as they are.")
    return "\n".join(lines)


def close_modal(*, case_id: int, reference: str, today: date, summary: str) -> dict:
    """The form: why the case is closing, in a sentence or two, and the date."""
    blocks = [
        kit.section(f"*Close the core group for {kit.esc(reference)}*"),
        kit.section(summary),
        kit.input_block("Why is the case closing?", kit.radio(input_id(Block.OUTCOME), OUTCOME_CHOICES),
                        block_id=Block.OUTCOME),
        kit.input_block("The reason, for the record", kit.plain_input(
            input_id(Block.REASON), multiline=True, max_length=MAX_REASON_CHARS,
            placeholder="For example: the review conference agreed the plan can end because…"),
                        block_id=Block.REASON,
                        hint="Everyone in the core group sees this, and it goes into the case record."),
        kit.input_block("Date the case closed", kit.date_input(input_id(Block.DATE), initial=today),
                        block_id=Block.DATE, hint="For example, the date of the review conference."),
    ]
    return kit.modal(title="Close the case", blocks=blocks, callback_id=View.CLOSE, submit="Close the case",
                     private_metadata={"c": case_id})


def closed_message(*, reference: str, closer: str, outcome: str, reason: str, closed_on: date,
                   cancelled: Sequence[str] = ()) -> dict:
    """chat.postMessage arguments for the last message in the case channel. `closer` is already escaped;
    `cancelled` lists when each cancelled meeting was to be."""
    title = OUTCOME_TITLES.get(outcome, "Closed")
    text = f"The core group for {kit.esc(reference)} is closed: {title.lower()}."
    blocks = [
        kit.header(f"The core group for {reference} is closed"),
        kit.section(f"{closer} closed the case on {long_date(closed_on)}. *{title}.*"),
        *kit.sections(f"*Why*\n{kit.esc(reason)}"),
    ]
    if cancelled:
        blocks.append(kit.section("\n".join(f"The meeting on {when} is cancelled." for when in cancelled[:10])))
    blocks += [
        kit.section("Thank you, everyone, for the work you have done with this family. This channel is now"
                    " archived: you can still read it, and `/coregroup plan` still shows the plan. Every record"
                    " is kept as it is; nothing more can be added, and no more reminders will be sent."),
    ]
    return kit.message(text, blocks[: kit.MESSAGE_BLOCK_LIMIT])


ARCHIVE_ERRORS = {
    "not_in_channel": "CoreGroup is no longer in the channel",
    "restricted_action": "your workspace does not let apps archive channels",
    "missing_scope": "CoreGroup does not have permission to archive channels",
    "channel_not_found": "the channel could not be found",
}


def archive_failed_text(*, reference: str, channel_id: str | None, code: str) -> str:
    why = ARCHIVE_ERRORS.get(code, "Slack did not allow it just now")
    where = f"<#{channel_id}>" if channel_id else "the channel"
    return (f"The case {kit.esc(reference)} is closed and its records are kept read-only, but I could not"
            f" archive {where}: {why}. Please archive it yourself in Slack (channel settings, then"
            " “Archive channel”).")
