"""The pinned "getting started" checklist of a new case channel, and the lead social worker's reminder."""

from __future__ import annotations

from collections.abc import Sequence

from handlers.blocks import kit
from handlers.blocks.members import who
from handlers.ids import Action
from models.getting_started import Checklist, Item

MAX_NAMED = 20


def _line(item: Item) -> str:
    if item.done:
        return f":white_check_mark: ~{item.label}~"
    line = f":white_large_square: *{item.label}*"
    if item.who:
        named = ", ".join(who(m) for m in item.who[:MAX_NAMED])
        if len(item.who) > MAX_NAMED:
            named += f" and {len(item.who) - MAX_NAMED} more"
        line += f"\n      still needed for {named}"
    return line


HOW = ("Everyone can give their own role, organisation and manager with *My role and agency*. The lead social"
       " worker adds the parents with *Who is in the group*, and books the first meeting with"
       " *Book the first meeting*.")


def checklist_message(case_id: int, reference: str, found: Checklist) -> dict:
    value = {"c": case_id}
    if found.complete:
        intro = "*Getting started: all done.* Thank you. This core group has what it needs to begin."
    else:
        intro = f"*Getting started with the core group for {kit.esc(reference)}*\nWhat is still missing:"
    blocks = [kit.section(intro), kit.section("\n".join(_line(item) for item in found.items))]
    if not found.complete:
        blocks += [kit.context(HOW), kit.actions(
            kit.button("My role and agency", Action.HERE_MY_DETAILS, value, style="primary"),
            kit.button("Who is in the group", Action.HERE_MEMBERS, value),
            kit.button("The plan", Action.HERE_PLAN, value),
            kit.button("Book the first meeting", Action.MEETING_BOOK, value))]
    text = f"Getting started: {len(found.missing)} thing{'s' if len(found.missing) != 1 else ''} still missing." \
        if not found.complete else "Getting started: all done."
    return kit.message(text, blocks)


def reminder(case_id: int, reference: str, missing: Sequence[Item]) -> tuple[str, list[dict]]:
    ref = kit.esc(reference)
    text = f"The core group for {ref} still needs a few things to get started."
    lines = "\n".join(_line(item) for item in missing)
    body = (f"*The core group for {ref} still needs a few things to get started*\nIt is two working days since"
            f" the case was opened. Still missing:\n{lines}")
    value = {"c": case_id}
    return text, [*kit.sections(body), kit.context(HOW), kit.actions(
        kit.button("Who is in the group", Action.HERE_MEMBERS, value, style="primary"),
        kit.button("The plan", Action.HERE_PLAN, value),
        kit.button("Book the first meeting", Action.MEETING_BOOK, value))]
