"""Help, the case picker, and the pinned welcome message."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from handlers.blocks import kit
from handlers.ids import Action

ORDER = [
    "new", "members", "plan", "schedule", "update", "start", "scale", "decision", "action", "actions",
    "end", "export", "close", "help",
]


def help_blocks(subcommands: Sequence[Any], unknown: str | None = None) -> list[dict]:
    blocks: list[dict] = []
    if unknown:
        blocks.append(kit.section(
            f"I do not know `{kit.esc(unknown[:40])}`. Here is what you can ask for:"))
    else:
        blocks.append(kit.section("*CoreGroup* helps the core group put the child protection plan into"
                                  " effect. Type `/coregroup` and one of these:"))
    lines = [f"• `/coregroup {sub.name}` – {sub.summary}" for sub in subcommands]
    blocks.extend(kit.sections("\n".join(lines)))
    blocks.append(kit.context("In a case channel, a command acts on that case. Anywhere else, I will ask"
                              " which of your cases you mean."))
    return blocks


def case_picker(sub_name: str, args: str, cases: Sequence[Any]) -> list[dict]:
    choices = [
        (case.reference, json.dumps({"c": case.id, "s": sub_name, "a": args[:40]}, separators=(",", ":")))
        for case in cases[:100]
    ]
    return [kit.section("Which case is this for?",
                        accessory=kit.select(Action.PICK_CASE, choices, placeholder="Choose a case"))]


def welcome_blocks(*, reference: str, children: Sequence[tuple[str, int | None]], frequency_weeks: int,
                   lead_user: tuple[str, str] | None, case_id: int) -> list[dict]:
    """The pinned welcome: what this channel is for, and how everyone (other organisations too) takes part."""
    child_text = ", ".join(kit.esc(label) + (f" ({age})" if age is not None and f"({age})" not in label else "")
                           for label, age in children)
    lead = f"<@{lead_user[1]}>" if lead_user else "the lead social worker"
    value = json.dumps({"c": case_id}, separators=(",", ":"))
    return [
        kit.header(f"Core group for {reference}"),
        kit.section(
            f"This private channel is for the core group working with {child_text} on their child"
            f" protection plan. We meet every {frequency_weeks} weeks. The lead social worker is {lead}."
        ),
        kit.section(
            "*How we work here*\n"
            "• Keep the children's views at the front of everything we do.\n"
            "• If you cannot come to a meeting, send a written update so your views are heard.\n"
            "• Actions say who will do what, by when, and how we will know it is done.\n"
            "• Use plain words. Parents read what we write, so avoid initials and jargon.\n"
            "• Do not use the children's names here; use their labels."
        ),
        kit.section(
            "*Commands*\n"
            "`/coregroup update` send your update for the next meeting · `/coregroup actions` see actions ·"
            " `/coregroup plan` the plan · `/coregroup members` who is in the group ·"
            " `/coregroup schedule` the next meeting · `/coregroup help` everything else"
        ),
        kit.section("*What can I do here?* If you are from another organisation, slash commands do not work"
                    " for you in this channel. Use these buttons instead:"),
        kit.actions(
            kit.button("Send my update", Action.HERE_UPDATE, value, style="primary"),
            kit.button("My actions", Action.HERE_ACTIONS, value),
            kit.button("My role and agency", Action.HERE_MY_DETAILS, value),
            kit.button("The plan", Action.HERE_PLAN, value),
            kit.button("Who is in the group", Action.HERE_MEMBERS, value),
            kit.button("Book the next meeting", Action.MEETING_BOOK, value),
            kit.button("The family's part", Action.FAMILY_PANEL, value),
        ),
        kit.context("The buttons on meeting notices and reminders, scaling questions, actions and the record of"
                    " each meeting also work for everyone, whichever organisation you are from."),
    ]
