"""The chair's forms: ending a meeting (`/coregroup end`) and correcting its record."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time

from handlers.blocks import kit
from handlers.blocks.meetings import review_block
from handlers.ids import Block, View, input_id
from models import names
from models.meetings import long_date
from models.recap import MAX_TEXT
from models.tables import Member

RISK_CHOICES = (("The risks are reducing", "reducing"), ("No change in the risks", "no_change"),
                ("The risks are increasing", "increasing"))
RECOMMENDATION_CHOICES = (
    ("Continue the plan: the child protection plan stays in place", "continue"),
    ("End the plan: a child protection plan is no longer needed", "end"),
    ("Step up: consider legal proceedings (going to court)", "step_up"),
)
REFRESH = "refresh"
# "Do not book the next meeting now" on the end-of-meeting form
NO_NEXT_BLOCK, NO_NEXT = Block.RECAP_NEXT_NONE, "none"
# Recommendations under which the plan goes on until the review conference, so the next meeting is booked
KEEPS_MEETING = ("continue", "step_up")


def leave_unbooked(values: dict) -> bool:
    """Whether the chair ticked "Do not book it yet" (the box is on the form only when no meeting is booked)."""
    return NO_NEXT in (values.get(NO_NEXT_BLOCK) or [])


# form field -> block id, for the texts the plain-language check reads and for errors
TEXT_BLOCKS = {
    "key_points": Block.RECAP_KEY_POINTS,
    "child_views": Block.RECAP_CHILD_VIEWS,
    "child_missing": Block.RECAP_CHILD_MISSING,
    "parents_views": Block.RECAP_PARENTS_VIEWS,
}
FIELD_BLOCKS = {**TEXT_BLOCKS, "risk_direction": Block.RECAP_RISK, "recommendation": Block.RECAP_RECOMMENDATION}


def _text(label: str, block: str, initial: str | None, *, optional: bool = True, hint: str | None = None,
          placeholder: str | None = None) -> dict:
    element = kit.plain_input(input_id(block), multiline=True, initial=initial, max_length=MAX_TEXT,
                              placeholder=placeholder)
    return kit.input_block(label, element, block_id=block, optional=optional, hint=hint)


def outcome_blocks(initial: dict | None) -> list[dict]:
    """The chair's part of the record: the same fields when ending a meeting and when correcting it."""
    initial = initial or {}
    return [
        _text("Main points of the meeting", Block.RECAP_KEY_POINTS, initial.get("key_points"), optional=False,
              hint="In plain words: parents read this record."),
        kit.input_block("Are the risks reducing or increasing?",
                        kit.radio(input_id(Block.RECAP_RISK), RISK_CHOICES, initial=initial.get("risk_direction")),
                        block_id=Block.RECAP_RISK),
        _text("The child's views", Block.RECAP_CHILD_VIEWS, initial.get("child_views"),
              hint="What the child said, wants or feels, in their own words where you can.",
              placeholder="For example: Child A says they like it when Mum walks them to school."),
        _text("If the child's views were not obtained, why not?", Block.RECAP_CHILD_MISSING,
              initial.get("child_missing"), hint="Fill in this or the child's views above."),
        _text("The parents' views", Block.RECAP_PARENTS_VIEWS, initial.get("parents_views")),
        kit.input_block("The core group's recommendation for the review conference",
                        kit.radio(input_id(Block.RECAP_RECOMMENDATION), RECOMMENDATION_CHOICES,
                                  initial=initial.get("recommendation")),
                        block_id=Block.RECAP_RECOMMENDATION),
    ]


def _chair_choices(members: Sequence[Member]) -> list[tuple[str, str]]:
    return [(f"{names.shown(m)} – {m.role}", str(m.id)) for m in members[:100]]


def end_modal(*, case_id: int, meeting_id: int, heading: str, initial: dict | None, proposed: date | None,
              reasons: Sequence[str], start_time: time, chairs: Sequence[Member], suggested_chair_id: int | None,
              booked: str | None, review: date | None = None, today: date | None = None) -> dict:
    """`/coregroup end`: the chair's outcome, the date of the next review conference (`review` is the case's),
    and the next meeting; the record is previewed before posting."""
    blocks = [kit.section(f"*Ending {kit.esc(heading)}.* You will see the whole record before it is posted,"
                          " and can change anything then.")]
    blocks += outcome_blocks(initial)
    if today is not None:
        chosen = (initial or {}).get("review")
        blocks.append(review_block(current=review, today=today,
                                   initial=date.fromisoformat(chosen) if chosen else None))
    blocks.append(kit.divider())
    if booked:
        blocks.append(kit.section(f"*Next meeting*\nAlready booked: {booked}"))
    else:
        wanted = (initial or {}).get("next") or {}
        start = datetime.fromisoformat(wanted["start"]) if wanted.get("start") else None
        why = "\n".join(f"• {kit.esc(reason)}" for reason in reasons)
        blocks.append(kit.section(f"*Next meeting*\nSuggested: {long_date(proposed)}.\n{why}" if proposed else
                                  "*Next meeting*"))
        chair = wanted.get("chair_member_id") or suggested_chair_id
        not_now = bool((initial or {}).get("unbooked"))
        blocks += [
            kit.input_block("Leave the next meeting unbooked", kit.checkboxes(
                input_id(NO_NEXT_BLOCK), [("Do not book it yet", NO_NEXT)], initial=[NO_NEXT] if not_now else ()),
                block_id=NO_NEXT_BLOCK, optional=True,
                hint="Only when the group recommends ending the plan: the review conference decides whether the"
                     " core group meets again. Otherwise the date below is booked when you post the recap."),
            kit.input_block("Date", kit.date_input(input_id(Block.RECAP_NEXT_DATE),
                                                   initial=start.date() if start else proposed),
                            block_id=Block.RECAP_NEXT_DATE, hint="A working day: not a weekend or a bank holiday."),
            kit.input_block("Start time", kit.time_input(input_id(Block.RECAP_NEXT_TIME),
                                                         initial=start.time() if start else start_time),
                            block_id=Block.RECAP_NEXT_TIME),
            kit.input_block("Next chair", kit.select(input_id(Block.RECAP_NEXT_CHAIR), _chair_choices(chairs),
                                                     initial=str(chair) if chair else None,
                                                     placeholder="Choose the next chair"),
                            block_id=Block.RECAP_NEXT_CHAIR, optional=True,
                            hint="Suggested: whoever chaired least recently. Chairing is shared by all the"
                                 " professionals. The place and length stay as for this meeting."),
        ]
    return kit.modal(title="End the meeting", blocks=blocks, callback_id=View.END, submit="Preview the recap",
                     private_metadata={"c": case_id, "m": meeting_id})


def correct_modal(*, case_id: int, recap_id: int, heading: str, version: int, initial: dict | None,
                  reason: str | None = None) -> dict:
    """Correct the record: a new version, posted as a correction with its reason; earlier versions are kept."""
    blocks = [kit.section(f"*Correcting the record of {kit.esc(heading)}* (version {version}). Your correction"
                          f" will be version {version + 1}. Version {version} stays as it was.")]
    blocks.append(_text("What is being corrected, and why?", Block.RECAP_REASON, reason, optional=False,
                        hint="Shown with the correction."))
    blocks += outcome_blocks(initial)
    blocks.append(kit.input_block(
        "Also bring in later changes",
        kit.checkboxes(input_id(Block.RECAP_REFRESH), [("Use the records as they are now", REFRESH)]),
        block_id=Block.RECAP_REFRESH, optional=True,
        hint="Takes attendance, updates, actions, scores and decisions again from the records. Leave it unticked"
             " to correct only what the chair wrote."))
    return kit.modal(title="Correct the record", blocks=blocks, callback_id=View.RECAP_CORRECT,
                     submit="Preview", private_metadata={"c": case_id, "r": recap_id})


def read_outcome(values: dict) -> dict:
    """The chair's outcome from a submitted form (by block id)."""
    result = {name: (values.get(block) or "").strip() if isinstance(values.get(block), str) else ""
              for name, block in TEXT_BLOCKS.items()}
    result["risk_direction"] = values.get(Block.RECAP_RISK)
    result["recommendation"] = values.get(Block.RECAP_RECOMMENDATION)
    return result
