"""The App Home tab: the person's actions, meetings, updates asked of them and cases, within 100 blocks."""

from __future__ import annotations

from datetime import date, tzinfo

from handlers.blocks import actions as action_blocks
from handlers.blocks import kit
from handlers.blocks.meetings import when_text
from handlers.ids import Action
from models.home import HomeData, overdue_count

ACTIONS_PER_PAGE = 8


def home_view(data: HomeData, *, today: date, tz: str | tzinfo, page: int = 0) -> dict:
    blocks: list[dict] = [kit.header("CoreGroup")]
    if not data.cases:
        blocks.append(kit.section("You are not in any core group yet. A social worker can set one up with"
                                  " `/coregroup new`, and add you to it."))
        return {"type": "home", "blocks": blocks}

    blocks.append(kit.header("Your actions"))
    if not data.actions:
        blocks.append(kit.section("You have no open actions."))
    else:
        overdue = overdue_count(data, today)
        summary = f"{len(data.actions)} open" + (f", *{overdue} overdue*" if overdue else "")
        blocks.append(kit.context(summary))
        pages = max(1, -(-len(data.actions) // ACTIONS_PER_PAGE))
        page = min(max(page, 0), pages - 1)
        shown = data.actions[page * ACTIONS_PER_PAGE:(page + 1) * ACTIONS_PER_PAGE]
        for case, action, owner in shown:
            line = f"*{kit.esc(case.reference)}* · " + action_blocks.action_line(action, owner, today)
            blocks.append(kit.section(line))
            blocks.append(action_blocks.action_buttons(case.id, action.id))
        if pages > 1:
            buttons = []
            if page > 0:
                buttons.append(kit.button("Previous", Action.HOME_PAGE, {"p": page - 1}))
            if page < pages - 1:
                buttons.append(kit.button("Next", Action.HOME_PAGE, {"p": page + 1}))
            blocks.append(kit.context(f"Page {page + 1} of {pages}"))
            blocks.append(kit.actions(*buttons, block_id="home_pages"))

    blocks.append(kit.header("Your next meetings"))
    if not data.meetings:
        blocks.append(kit.section("No meetings are scheduled for your core groups."))
    for item in data.meetings[:10]:
        reply = {"attending": "You said you will attend.", "apologies": "You sent apologies."}.get(
            item.reply or "", "You have not said whether you can attend.")
        if item.update_sent:
            reply += " Your update has been sent."
        text = f"*{kit.esc(item.case.reference)}* · {when_text(item.meeting, tz)}"
        if item.meeting.location:
            text += f" · {kit.esc(item.meeting.location)}"
        blocks.append(kit.section(f"{text}\n{reply}"))
        value = {"c": item.case.id, "m": item.meeting.id}
        if item.meeting.status == "scheduled":
            blocks.append(kit.actions(
                kit.button("Send my update", Action.SEND_UPDATE, value),
                kit.button("Send apologies", Action.SEND_APOLOGIES, value),
            ))

    if data.updates_asked:
        blocks.append(kit.header("Updates asked of you"))
        for item in data.updates_asked[:10]:
            blocks.append(kit.section(
                f"*{kit.esc(item.case.reference)}*: you sent apologies for {when_text(item.meeting, tz)}."
                " Please send a written update so your views are heard.",
                accessory=kit.button("Send my update", Action.SEND_UPDATE,
                                     {"c": item.case.id, "m": item.meeting.id}, style="primary")))

    blocks.append(kit.header("Your core groups"))
    lines = [f"• *{kit.esc(case.reference)}* <#{case.channel_id}>" for case in data.cases[:40]]
    blocks.extend(kit.sections("\n".join(lines)))
    return {"type": "home", "blocks": blocks[: kit.VIEW_BLOCK_LIMIT]}
