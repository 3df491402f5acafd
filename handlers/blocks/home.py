"""The App Home tab: the person's actions, meetings, updates asked of them and cases, within 100 blocks.

Every list is complete: a list longer than its page has Previous and Next buttons and says how many there
are, so nothing is left off without a word. Each list keeps its own page; a button carries all four, so
paging one list leaves the others where they were. With the page sizes below the tab is at most about 65
blocks, well within Slack's 100 (kit.home refuses more rather than cutting).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, tzinfo

from handlers.blocks import actions as action_blocks
from handlers.blocks import kit
from handlers.blocks.meetings import when_text
from handlers.ids import Action
from models.home import HomeData, MeetingItem, overdue_count

ACTIONS_PER_PAGE = 8  # two blocks each
MEETINGS_PER_PAGE = 10  # up to two blocks each
UPDATES_ASKED_PER_PAGE = 10  # one block each
CASES_PER_PAGE = 40  # one line each
# The page of each list, as carried by the paging buttons: actions, meetings, updates asked, cases.
PAGE_KEYS = {"actions": "p", "meetings": "m", "updates": "u", "cases": "k"}
# Slack wants the buttons of one block to have different action ids: "Previous" has its own, and the same handler.


def _page_of(items: Sequence, per_page: int, page: int) -> tuple[Sequence, int, int]:
    """The items on the page (clamped to the pages there are), the page and the number of pages."""
    pages = max(1, -(-len(items) // per_page))
    page = min(max(page, 0), pages - 1)
    return items[page * per_page:(page + 1) * per_page], page, pages


def _pager(kind: str, what: str, count: int, page: int, pages: int, state: Mapping[str, int]) -> list[dict]:
    """"Page 2 of 3 (24 meetings)" and its buttons, when a list is longer than one page."""
    if pages <= 1:
        return []
    key = PAGE_KEYS[kind]
    buttons = []
    if page > 0:
        buttons.append(kit.button("Previous", Action.HOME_PAGE_PREVIOUS, {**state, key: page - 1}))
    if page < pages - 1:
        buttons.append(kit.button("Next", Action.HOME_PAGE, {**state, key: page + 1}))
    block_id = "home_pages" if kind == "actions" else f"home_pages_{kind}"
    return [kit.context(f"Page {page + 1} of {pages} ({count} {what})"), kit.actions(*buttons, block_id=block_id)]


def _meeting_blocks(item: MeetingItem, tz: str | tzinfo) -> list[dict]:
    reply = {"attending": "You said you will attend.", "apologies": "You sent apologies."}.get(
        item.reply or "", "You have not said whether you can attend.")
    if item.update_sent:
        reply += " Your update has been sent."
    text = f"*{kit.esc(item.case.reference)}* · {when_text(item.meeting, tz)}"
    if item.meeting.location:
        text += f" · {kit.esc(item.meeting.location)}"
    blocks = [kit.section(f"{text}\n{reply}")]
    if item.meeting.status == "scheduled":
        value = {"c": item.case.id, "m": item.meeting.id}
        buttons = [] if item.reply == "attending" else [kit.button("Attending", Action.ATTENDING, value)]
        blocks.append(kit.actions(
            *buttons,
            kit.button("Send my update", Action.SEND_UPDATE, value),
            kit.button("Send apologies", Action.SEND_APOLOGIES, value),
        ))
    return blocks


def home_view(data: HomeData, *, today: date, tz: str | tzinfo, page: int = 0,
              pages: Mapping[str, int] | None = None) -> dict:
    """The tab. `page` is the actions' page; `pages` the page of each list by its key in PAGE_KEYS' values
    (for example {"p": 1, "m": 0}); a page past the end shows the last."""
    wanted = {"p": page, **{key: value for key, value in (pages or {}).items()
                            if key in PAGE_KEYS.values() and isinstance(value, int)}}
    blocks: list[dict] = [kit.header("CoreGroup")]
    if not data.cases:
        blocks.append(kit.section("You are not in any core group yet. A social worker can set one up with"
                                  " `/coregroup new`, and add you to it."))
        return kit.home(blocks)

    actions, action_page, action_pages = _page_of(data.actions, ACTIONS_PER_PAGE, wanted.get("p", 0))
    meetings, meeting_page, meeting_pages = _page_of(data.meetings, MEETINGS_PER_PAGE, wanted.get("m", 0))
    asked, asked_page, asked_pages = _page_of(data.updates_asked, UPDATES_ASKED_PER_PAGE, wanted.get("u", 0))
    cases, case_page, case_pages = _page_of(data.cases, CASES_PER_PAGE, wanted.get("k", 0))
    state = {"p": action_page, "m": meeting_page, "u": asked_page, "k": case_page}

    blocks.append(kit.header("Your actions"))
    if not data.actions:
        blocks.append(kit.section("You have no open actions."))
    else:
        overdue = overdue_count(data, today)
        blocks.append(kit.context(f"{len(data.actions)} open" + (f", *{overdue} overdue*" if overdue else "")))
        for case, action, owner in actions:
            line = f"*{kit.esc(case.reference)}* · " + action_blocks.action_line(action, owner, today)
            blocks.append(kit.section(line))
            blocks.append(action_blocks.action_buttons(case.id, action.id))
        blocks += _pager("actions", "open actions", len(data.actions), action_page, action_pages, state)

    blocks.append(kit.header("Your next meetings"))
    if not data.meetings:
        blocks.append(kit.section("No meetings are scheduled for your core groups."))
    for item in meetings:
        blocks += _meeting_blocks(item, tz)
    blocks += _pager("meetings", "meetings", len(data.meetings), meeting_page, meeting_pages, state)

    if data.family_not_given:
        blocks.append(kit.header("Family versions not yet given"))
        for item in data.family_not_given:
            blocks.append(kit.section(
                f"*{kit.esc(item.reference)}*: the family version of meeting {item.meeting_number} was approved"
                f" {item.working_days} working days ago and is not recorded as given to the family. Use"
                " `/coregroup family` in the case channel to record it."))

    if data.updates_asked:
        blocks.append(kit.header("Updates asked of you"))
        for item in asked:
            blocks.append(kit.section(
                f"*{kit.esc(item.case.reference)}*: you sent apologies for {when_text(item.meeting, tz)}."
                " Please send a written update so your views are heard.",
                accessory=kit.button("Send my update", Action.SEND_UPDATE,
                                     {"c": item.case.id, "m": item.meeting.id}, style="primary")))
        blocks += _pager("updates", "updates asked of you", len(data.updates_asked), asked_page, asked_pages, state)

    blocks.append(kit.header("Your core groups"))
    lines = [f"• *{kit.esc(case.reference)}* <#{case.channel_id}>" for case in cases]
    blocks.extend(kit.sections("\n".join(lines)))
    blocks += _pager("cases", "core groups", len(data.cases), case_page, case_pages, state)
    return kit.home(blocks)
