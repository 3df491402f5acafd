"""Builders for actions and decisions: a line per action, its buttons, the paged list, the forms and posts.

The guidance: the core group sets out "what needs to change, by how much and by when", so every action
shows who, what, by when and how we will know it is done.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date

from handlers.blocks import kit
from handlers.blocks.members import who
from handlers.ids import Action as ActionId
from handlers.ids import Block, View, input_id
from models import names, reminders
from models.actions import MAX_MEASURE, MAX_NOTE, MAX_WHAT
from models.decisions import MAX_DECISION
from models.tables import Action, ActionStatus, Decision, Member, MemberStatus, PlanItem

PAGE_SIZE = 10


def long_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _times(count: int) -> str:
    return "once" if count == 1 else "twice" if count == 2 else f"{count} times"


def working_days_late(due: date, today: date) -> int:
    """Working days since the due date (weekends and bank holidays not counted), as the nudges count them."""
    return reminders.policy().calendar.working_days_between(due, today)


def late_text(working_days: int) -> str:
    """"overdue by 1 working day", "overdue by 3 working days"; just "overdue" over a weekend after the date."""
    if working_days <= 0:
        return "overdue"
    return f"overdue by {working_days} working day{'s' if working_days != 1 else ''}"


def due_text(action: Action, today: date) -> str:
    """By when, with how late it is (in working days) when it is overdue."""
    if action.status == ActionStatus.DONE:
        done = action.completed_at.date() if action.completed_at else None
        return "done" + (f" on {long_date(done)}" if done else "")
    if action.status == ActionStatus.DROPPED:
        return "dropped"
    text = f"by {long_date(action.due_date)}"
    if action.due_date < today:
        text += f" · *{late_text(working_days_late(action.due_date, today))}*"
    elif action.due_date == today:
        text += " · due today"
    return text


def action_line(action: Action, owner: Member, today: date, *, goal: PlanItem | None = None) -> str:
    """What, who, by when, how we will know, and overdue and carried-forward marks (escaped mrkdwn)."""
    mark = "✅ " if action.status == ActionStatus.DONE else ""
    lines = [f"{mark}*{kit.esc(action.what)}*", f"{who(owner)} · {due_text(action, today)}"]
    if action.carried_forward:
        lines[-1] += f" · carried forward {_times(action.carried_forward)}"
    if action.measure:
        lines.append(f"_How we will know it is done:_ {kit.esc(action.measure)}")
    if goal is not None:
        lines.append(f"_Safety goal:_ {kit.esc(kit.clip(goal.text, 300))}")
    return kit.clip("\n".join(lines), kit.SECTION_LIMIT)


def action_buttons(case_id: int, action_id: int, *, page: int | None = None, mine: bool = False) -> dict:
    """Done, Add progress, New date. `page`/`mine` say which list to refresh after a click from a list."""
    value: dict = {"c": case_id, "a": action_id}
    if page is not None:
        value.update(p=page, o="m" if mine else "a")
    return kit.actions(
        kit.button("Done", ActionId.ACTION_DONE, value, style="primary",
                   confirm=kit.confirm_dialog("Mark as done?", "Mark this action as done for the whole core group?",
                                              "Yes, it is done")),
        kit.button("Add progress", ActionId.ACTION_PROGRESS, value),
        kit.button("New date", ActionId.ACTION_NEW_DATE, value),
        block_id=f"action_buttons_{action_id}",
    )


def pages(count: int) -> int:
    return max(1, math.ceil(count / PAGE_SIZE))


def actions_list(*, case_id: int, reference: str, actions: Sequence[Action], owners: dict[int, Member],
                 today: date, page: int = 0, mine: bool = False) -> list[dict]:
    """One page of open actions with their buttons, within a message's 50 blocks."""
    total = pages(len(actions))
    page = min(max(page, 0), total - 1)
    shown = actions[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
    title = f"Your actions for {reference}" if mine else f"Open actions for {reference}"
    blocks = [kit.header(title)]
    if not actions:
        blocks.append(kit.section("There are no open actions." if not mine else "You have no open actions."))
    else:
        overdue = sum(1 for a in actions if a.due_date < today)
        summary = f"{len(actions)} open action{'s' if len(actions) != 1 else ''}"
        if overdue:
            summary += f", {overdue} overdue"
        if total > 1:
            summary += f" · page {page + 1} of {total}"
        blocks.append(kit.context(summary))
    for action in shown:
        owner = owners.get(action.owner_member_id)
        line = action_line(action, owner, today) if owner else kit.esc(action.what)
        blocks.append(kit.section(line, block_id=f"action_{action.id}"))
        blocks.append(action_buttons(case_id, action.id, page=page, mine=mine))
    value = {"c": case_id, "o": "m" if mine else "a"}
    if page > 0:
        blocks.append(kit.actions(kit.button("Previous", ActionId.ACTIONS_PAGE, dict(value, p=page - 1)),
                                  block_id="actions_previous"))
    if page < total - 1:
        blocks.append(kit.actions(kit.button("Next", ActionId.ACTIONS_PAGE, dict(value, p=page + 1)),
                                  block_id="actions_next"))
    blocks.append(kit.actions(kit.button("Add an action", ActionId.ACTION_ADD_START, {"c": case_id}),
                              block_id="actions_add"))
    return blocks[:kit.MESSAGE_BLOCK_LIMIT]


def list_modal(blocks: list[dict], *, case_id: int) -> dict:
    return kit.modal(title="Actions", blocks=blocks, callback_id="actions_list", submit=None, close="Close",
                     private_metadata={"c": case_id})


# --- forms ---------------------------------------------------------------------------------------


def member_choices(members: Sequence[Member]) -> list[tuple[str, str]]:
    return [(f"{names.shown(m)} ({m.role})", str(m.id)) for m in members if m.status != MemberStatus.REMOVED][:100]


def action_modal(*, case_id: int, members: Sequence[Member], goals: Sequence[PlanItem], today: date,
                 in_meeting: bool, what: str = "", owner_id: int | None = None) -> dict:
    where = ("It will be added to today's meeting and posted in the meeting's thread." if in_meeting
             else "There is no meeting in progress, so it will be posted in the channel.")
    blocks = [
        kit.section(f"Set out what needs to change, by how much and by when. {where}"),
        kit.input_block("What needs to be done", kit.plain_input(
            input_id(Block.ACTION_WHAT), multiline=True, initial=what[:MAX_WHAT], max_length=MAX_WHAT),
            block_id=Block.ACTION_WHAT),
        kit.input_block("Who will do it", kit.select(input_id(Block.ACTION_OWNER), member_choices(members),
                                                     initial=str(owner_id) if owner_id else None,
                                                     placeholder="Choose someone in the core group"),
                        block_id=Block.ACTION_OWNER,
                        hint="Anyone in the core group, including people who are not on Slack."),
        kit.input_block("By when", kit.date_input(input_id(Block.ACTION_DUE)), block_id=Block.ACTION_DUE),
        kit.input_block("How we will know it is done", kit.plain_input(
            input_id(Block.ACTION_MEASURE), multiline=True, max_length=MAX_MEASURE,
            placeholder="For example: Child A is at school every day for four weeks"),
            block_id=Block.ACTION_MEASURE),
    ]
    if goals:
        choices = [(kit.clip(g.text, 75), str(g.id)) for g in goals]
        blocks.append(kit.input_block("Which safety goal it serves", kit.select(
            input_id(Block.ACTION_GOAL), choices, placeholder="Choose a safety goal"),
            block_id=Block.ACTION_GOAL, optional=True))
    return kit.modal(title="Add an action", blocks=blocks, callback_id=View.ACTION_ADD, submit="Add",
                     private_metadata={"c": case_id})


def progress_modal(*, case_id: int, action: Action, owner: Member, today: date, back: dict | None = None) -> dict:
    blocks = [
        kit.section(action_line(action, owner, today)),
        kit.input_block("What has happened", kit.plain_input(input_id(Block.PROGRESS_NOTE), multiline=True,
                                                             max_length=MAX_NOTE),
                        block_id=Block.PROGRESS_NOTE),
    ]
    return kit.modal(title="Add progress", blocks=blocks, callback_id=View.ACTION_PROGRESS,
                     private_metadata={"c": case_id, "a": action.id, **(back or {})})


def new_date_modal(*, case_id: int, action: Action, owner: Member, today: date, back: dict | None = None) -> dict:
    blocks = [
        kit.section(action_line(action, owner, today)),
        kit.input_block("New date", kit.date_input(input_id(Block.DATE)), block_id=Block.DATE,
                        hint="A date after today."),
        kit.input_block("Why the date is changing", kit.plain_input(input_id(Block.REASON), multiline=True,
                                                                    max_length=MAX_NOTE),
                        block_id=Block.REASON, hint="The core group will see the reason."),
    ]
    return kit.modal(title="New date", blocks=blocks, callback_id=View.ACTION_NEW_DATE,
                     private_metadata={"c": case_id, "a": action.id, **(back or {})})


def decision_modal(*, case_id: int, in_meeting: bool, text: str = "") -> dict:
    where = ("It will be recorded in the notes of today's meeting." if in_meeting
             else "There is no meeting in progress, so it will be recorded as a decision between meetings.")
    blocks = [
        kit.section(f"Write the decision so that everyone, including the family, can understand it. {where}"),
        kit.input_block("The decision", kit.plain_input(input_id(Block.DECISION_TEXT), multiline=True,
                                                        initial=text[:MAX_DECISION], max_length=MAX_DECISION),
                        block_id=Block.DECISION_TEXT),
    ]
    return kit.modal(title="Record a decision", blocks=blocks, callback_id=View.DECISION, submit="Record",
                     private_metadata={"c": case_id})


# --- posts ---------------------------------------------------------------------------------------


def new_action_post(*, case_id: int, action: Action, owner: Member, by: Member, today: date,
                    goal: PlanItem | None) -> dict:
    text = f"New action for {kit.esc(names.shown(owner))}: {kit.esc(kit.clip(action.what, 200))}"
    blocks = [
        kit.section(f"*New action*, added by {who(by)}"),
        kit.section(action_line(action, owner, today, goal=goal), block_id=f"action_{action.id}"),
        action_buttons(case_id, action.id),
    ]
    return kit.message(text, blocks)


def change_post(*, action: Action, owner: Member, by: Member, today: date, what: str, note: str | None = None
                ) -> dict:
    """A note in the channel that an action was done, progressed or given a new date."""
    heading = {"done": f"{who(by)} marked this action as done",
               "progress": f"{who(by)} added progress",
               "new_date": f"{who(by)} gave this action a new date"}[what]
    blocks = [kit.section(f"*{heading}*"), kit.section(action_line(action, owner, today))]
    if note:
        label = "Reason" if what == "new_date" else "Progress"
        blocks.extend(kit.sections(f"_{label}:_ {kit.esc(note)}"))
    fallback = f"{heading}: {kit.esc(kit.clip(action.what, 200))}"
    return kit.message(fallback, blocks)


def decision_post(*, decision: Decision, by: Member) -> dict:
    quoted = "\n".join(f"> {line}" for line in kit.esc(decision.text).splitlines() or [""])
    blocks = [kit.section(f"*Decision* recorded by {who(by)}"), *kit.sections(quoted)]
    return kit.message(f"Decision: {kit.esc(kit.clip(decision.text, 200))}", blocks)


_MARKUP = re.compile(r"<([@#!]?)([^<>|]+)(?:\|([^<>]*))?>")


def plain_from_message(text: str, names: dict[str, str]) -> str:
    """A Slack message's text as plain words for a form: mentions as names, links as their labels."""

    def swap(match: re.Match[str]) -> str:
        sigil, target, label = match.group(1), match.group(2), match.group(3)
        if sigil == "@":
            return names.get(target, label or "someone")
        if sigil == "#":
            return f"#{label}" if label else "this channel"
        if sigil == "!":
            return label or ""
        return label or target

    plain = _MARKUP.sub(swap, text or "")
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()
