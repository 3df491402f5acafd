"""Builders for scheduled messages: facts in (models/dispatch.py), fallback text and blocks out.

Every piece of user text (action wording, names, places, scaling questions) is escaped with kit.esc.
Direct messages carry no more than the person may already see: a manager, who is not in the core
group, is told the case reference and the names of the people they manage, nothing about the child.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from handlers.blocks import getting_started, kit
from handlers.blocks.actions import action_buttons, action_line, late_text
from handlers.blocks.meetings import book_button, chair_apologies_alert, when_text
from handlers.ids import Action as ActionId
from models import dispatch, names
from models.ledger import Kind
from models.meetings import long_date
from models.stalling import Stalling
from models.tables import Case, Meeting, MeetingStatus, Member

MAX_ITEMS = 40
Message = tuple[str, list[dict]]


def name(member: Member | None) -> str:
    """A person by their recorded name and role (no mention, so listing them does not notify them)."""
    if member is None:
        return "someone no longer in the group"
    if not names.known(member):  # a mention, which Slack renders as their name, rather than their id
        return f"<@{member.slack_user_id}> ({kit.esc(member.role)})"
    return f"{kit.esc(member.name)} ({kit.esc(member.role)})"


def _where(meeting: Meeting) -> str:
    return f"\nWhere: {kit.esc(kit.clip(meeting.location, 500))}" if meeting.location else ""


def _items(lines: list[str]) -> list[str]:
    shown = lines[:MAX_ITEMS]
    if len(lines) > MAX_ITEMS:
        shown.append(f"…and {len(lines) - MAX_ITEMS} more.")
    return shown


def reply_buttons(case_id: int, meeting_id: int, *, apologies: bool = True) -> dict:
    """Attending, Send apologies and Send my update (the follow-up to someone who sent apologies asks only for
    their update, and lets them say they can come after all)."""
    value = {"c": case_id, "m": meeting_id}
    buttons = [kit.button("Attending", ActionId.ATTENDING, value)]
    if apologies:
        buttons.append(kit.button("Send apologies", ActionId.SEND_APOLOGIES, value))
    buttons.append(kit.button("Send my update", ActionId.SEND_UPDATE, value, style="primary"))
    return kit.actions(*buttons, block_id=f"meeting_reply_{meeting_id}")


def meeting_reminder(case: Case, facts: dispatch.MeetingReminder, tz: str) -> Message:
    meeting, ref = facts.meeting, kit.esc(case.reference)
    when = when_text(meeting, tz)
    if facts.kind == Kind.APOLOGIES_MEMBER:
        text = f"Please send your update for the core group meeting for {ref} ({when})."
        body = (f"*You sent apologies for the core group meeting for {ref}*\n{when}{_where(meeting)}\n\n"
                "The group has not had your update yet. Please send it before the meeting, so your view is"
                " part of the discussion and of the record.")
        return text, [kit.section(body), reply_buttons(case.id, meeting.id, apologies=False)]
    if facts.kind == Kind.REMIND_MORNING_MEMBER:
        text = f"Core group meeting today for {ref}: {when}."
        body = (f"*Core group meeting today for {ref}*\n{when}{_where(meeting)}\n\n"
                "Cannot come after all? Send your update, so the chair can share it with the group.")
    else:
        text = f"Core group meeting for {ref} in two working days: {when}."
        body = (f"*Core group meeting for {ref}*\n{when}{_where(meeting)}\n\n"
                "If you cannot come, please send your update so the group still hears from you: your contacts"
                " with the family, progress on your actions, what is working well, what you are worried"
                " about, and the child's views as you heard them.")
    return text, [kit.section(body), reply_buttons(case.id, meeting.id)]


def timekeeping(case: Case, facts: dispatch.Timekeeping, tz: str) -> Message:
    meeting = facts.meeting
    end = meeting.scheduled_start.astimezone(ZoneInfo(tz)) + timedelta(minutes=meeting.duration_minutes)
    ref = kit.esc(case.reference)
    text = f"About {facts.minutes} minutes left in the core group meeting for {ref}."
    body = (f"*About {facts.minutes} minutes left* in the core group meeting for {ref}"
            f" (planned to end at {end:%H:%M}).\n\nTime to recap the main points and the decisions taken, and to"
            " check that everyone knows their actions and dates. Finishing on time values people's time.")
    return text, [kit.section(body)]


def mention(member: Member | None) -> str:
    """A person in a message: a Slack mention (Slack shows their name), or their recorded name and role."""
    if member is not None and member.slack_user_id:
        return f"<@{member.slack_user_id}>"
    return name(member)


def left_open(case: Case, facts: dispatch.LeftOpen, tz: str) -> Message:
    meeting, ref = facts.meeting, kit.esc(case.reference)
    local = meeting.scheduled_start.astimezone(ZoneInfo(tz))
    end = local + timedelta(minutes=meeting.duration_minutes)
    on = f"{long_date(local.date())}, {local:%H:%M} to {end:%H:%M}"
    how = ("The chair, or the lead social worker, ends it and writes the record with *Write the record* here (from"
           " any organisation), or `/coregroup end` in the case channel.")
    write = kit.actions(kit.button("Write the record", ActionId.MEETING_END, {"c": case.id, "m": meeting.id},
                                   style="primary"), block_id=f"left_open_{meeting.id}")
    if facts.closed:
        text = f"Core group meeting {meeting.number} for {ref} was closed without a record."
        body = (f"*Core group meeting {meeting.number} was closed without a record*\nThe meeting on {on} was"
                " started but nobody ended it, so after two working days it has been closed as ended without"
                " a record.\n\nUntil its record is posted it does not count as a meeting held, so the group"
                " and members' managers may be told that the core group has not met within the agreed"
                f" interval.\n\nIf the meeting took place, the record can still be written. {how}")
        return text, [kit.section(body), write]
    if facts.to_lead:
        chair = f" (chair: {mention(facts.chair)})" if facts.chair is not None else ""
        text = f"The core group meeting for {ref} is still open: please make sure its record is written."
        body = (f"*The core group meeting for {ref} is still open*\nThe meeting on {on}{chair} has not been"
                " ended, so there is no record of it yet.\n\nIf it has finished, please make sure the record is"
                f" written. {how} If it is still open after two working days, it will be closed as ended"
                " without a record.")
    else:
        text = f"The core group meeting for {ref} was planned to end at {end:%H:%M} and is still open."
        body = (f"*The core group meeting for {ref} is still open*\nIt was planned to end at {end:%H:%M}."
                " If it has finished, please end it and write the record, so everyone has the decisions and"
                f" actions while they are fresh.\n\n{how}")
    return text, [kit.section(body), write]


def overdue(case: Case, facts: dispatch.Overdue, today: date) -> Message:
    action, ref = facts.action, kit.esc(case.reference)
    if facts.to_lead:
        text = f"An action for {ref} is {late_text(facts.days_late)}, and its owner is not on Slack."
        intro = (f"*An action for {ref} is {late_text(facts.days_late)}*\nIt belongs to {name(facts.owner)},"
                 " who is not on Slack (or is no longer in the group). Please check with them, then mark it done,"
                 " add what has happened so far, or give a new date with the reason.")
    else:
        text = f"Your action for {ref} is {late_text(facts.days_late)}: {kit.esc(kit.clip(action.what, 200))}"
        intro = (f"*Your action for {ref} is {late_text(facts.days_late)}*\nIs it done? If not, add what"
                 " has happened so far, or give a new date with the reason.")
    return text, [kit.section(intro), kit.section(action_line(action, facts.owner, today),
                                                  block_id=f"action_{action.id}"),
                  action_buttons(case.id, action.id)]


def _times(count: int) -> str:
    return "once" if count == 1 else "twice" if count == 2 else f"{count} times"


def drift(case: Case, facts: dispatch.Drift) -> Message:
    lines = []
    for item in facts.items:
        line = (f"• *{kit.esc(kit.clip(item.action.what, 300))}* – {name(item.owner)} · due"
                f" {long_date(item.action.due_date)} · {late_text(item.days_late)}")
        if item.action.carried_forward:
            line += f" · carried forward {_times(item.action.carried_forward)}"
        if item.away_until:
            line += f" · *away until {long_date(item.away_until)}*: can someone cover this?"
        lines.append(line)
    count = len(facts.items)
    text = f"{count} overdue action{'s' if count != 1 else ''} in {kit.esc(case.reference)} this week."
    blocks = []
    if facts.items:
        blocks = [kit.header("Overdue actions this week"), *kit.sections("\n".join(_items(lines))),
                  kit.context("Drift matters. At the next meeting, talk about whether it has increased the risk to"
                              " the children, and agree what will happen now.")]
    if facts.family_not_given:
        given = [f"• The family version of meeting {n.meeting_number} was approved {n.working_days} working days"
                 f" ago and is not recorded as given to the family." for n in facts.family_not_given]
        blocks += [kit.header("Family versions not yet given"), *kit.sections("\n".join(given)),
                   kit.context("The lead social worker records it with `/coregroup family` once the family has it.")]
        text = (text + " " if facts.items else f"In {kit.esc(case.reference)} this week: ") + (
            f"{len(given)} family version{'s' if len(given) != 1 else ''} not yet given to the family.")
    return text, blocks


def _last_met(facts: dispatch.Lapse, tz: str) -> str:
    if facts.held is None:
        return ("The first core group should meet within 10 working days of the initial conference, by"
                f" {long_date(facts.deadline)}. I have no record of one being held.")
    return (f"I have no record of a core group meeting since"
            f" {long_date(facts.held.scheduled_start.astimezone(ZoneInfo(tz)).date())}."
            f" The group agreed to meet every {facts.frequency_weeks} weeks, so the next was due by"
            f" {long_date(facts.deadline)}.")


def _unrecorded(facts: dispatch.Lapse, tz: str, *, here: bool = True) -> str:
    """The meeting left without a record, if any. `here`: the message carries its Write the record button."""
    meeting = facts.unrecorded
    if meeting is None:
        return ""
    day = long_date(meeting.scheduled_start.astimezone(ZoneInfo(tz)).date())
    state = "is still open" if meeting.status == MeetingStatus.IN_PROGRESS else "was closed without a record"
    how = " with *Write the record* below" if here else ""
    return (f"\n\nThe meeting on {day} {state}. It counts as held once its record is posted: the chair or the"
            f" lead social worker writes it{how}.")


def lapse(case: Case, facts: dispatch.Lapse, tz: str) -> Message:
    """To the case channel. Everything it asks for has a button, for a chair from another organisation."""
    booked = (f"The next meeting is booked for {when_text(facts.booked, tz)}, after that date." if facts.booked
              else "No meeting is booked. Please book one with *Book the next meeting*.")
    body = (f"*This core group has not met within the agreed interval*\n{_last_met(facts, tz)}\n\n{booked}"
            f"{_unrecorded(facts, tz)}")
    if facts.managers:
        body += "\n\nAs the guidance asks, I have let members' managers know."
    text = f"The core group for {kit.esc(case.reference)} has not met within the agreed interval."
    buttons = []
    if facts.unrecorded is not None:
        buttons.append(kit.button("Write the record", ActionId.MEETING_END,
                                  {"c": case.id, "m": facts.unrecorded.id}, style="primary"))
    if facts.booked is None:
        buttons.append(book_button(case.id))
    blocks = [kit.section(body)]
    if buttons:
        blocks.append(kit.actions(*buttons, block_id="lapse_buttons"))
    blocks.append(kit.context("If the group did meet, record it next time: the chair presses *Start the meeting* on"
                              " the meeting's message in the case channel, and *End the meeting* when it is over."))
    return text, blocks


def manager_lapse(case: Case, facts: dispatch.ManagerLapse, tz: str) -> Message:
    ref = kit.esc(case.reference)
    people = ", ".join(name(m) for m in facts.members) or "a member"
    text = f"The core group for case {ref} has not met within its agreed interval."
    body = (f"*The core group for case {ref} has not met within its agreed interval*\nYou are named as the"
            f" manager of {people} in this core group. {_last_met(facts.lapse, tz)}"
            f"{_unrecorded(facts.lapse, tz, here=False)}"
            "\n\nCore groups need to happen"
            " regularly; when they do not, practitioners are asked to raise it with their managers. Please check"
            " that a meeting is booked soon.")
    return text, [kit.section(body)]


def review(case: Case, facts: dispatch.Review, tz: str) -> Message:
    when = long_date(facts.review)
    text = f"The review conference for {kit.esc(case.reference)} is on {when}: agree your recommendation."
    soon = "in two weeks" if 13 <= facts.days <= 15 else f"in {facts.days} days"
    body = (f"*The review conference is on {when}, {soon}*\nAs a core group, agree what you will"
            " recommend to it: continue the plan, end the plan, or step up (consider legal proceedings). Talk"
            " about whether the risks are reducing or increasing, what has changed for the children, and the"
            " children's and parents' views.")
    body += (f"\n\nYour next meeting is {when_text(facts.booked, tz)}: a good time to agree it." if facts.booked
             else "\n\nNo meeting is booked before then. Consider booking one with *Book the next meeting*.")
    blocks = [kit.section(body)]
    if facts.booked is None:
        blocks.append(kit.actions(book_button(case.id), block_id="review_buttons"))
    return text, blocks


def _score(value: float) -> str:
    return f"{value:g}"


def stalling(case: Case, facts: Stalling) -> Message:
    lines = [f"• *{kit.esc(kit.clip(a.what, 300))}* ({name(owner)}) has been carried forward"
             f" {_times(a.carried_forward)}" for a, owner in facts.carried]
    lines += [f"• The scores for “{kit.esc(kit.clip(q, 300))}” have moved the wrong way at the last two meetings:"
              f" {' → '.join(_score(m) for m in medians)}" for q, medians in facts.falling]
    text = f"The plan for {kit.esc(case.reference)} may be stalling."
    body = "*This plan may be stalling*\n" + "\n".join(_items(lines))
    return text, [*kit.sections(body), kit.section(
        "Consider whether to ask for an early review conference. Talk about it at the next meeting: what is"
        " getting in the way, and does the plan need to change?")]


def away(case: Case, facts: dispatch.Away) -> Message:
    lines = [f"• *{kit.esc(kit.clip(a.what, 300))}* – due {long_date(a.due_date)}" for a in facts.actions]
    who = name(facts.member)
    text = f"{who} is away until {long_date(facts.until)}."
    body = (f"*{who} is away until {long_date(facts.until)}*\nThey will not get reminders until then. Their open"
            f" actions:\n" + "\n".join(_items(lines)))
    return text, [*kit.sections(body), kit.section(
        "Can someone cover these, or should the dates change? Use *New date* on an action to record a new date"
        " and the reason.")]


def _missed_line(item: dispatch.MissedItem, tz: str) -> str:
    on = f" on {long_date(item.meeting.scheduled_start.astimezone(ZoneInfo(tz)).date())}" if item.meeting else ""
    to = f" to {name(item.member)}" if item.member else ""
    kind = item.kind
    if kind.startswith(Kind.REMIND_2D):
        what = f"the reminder two working days before the meeting{on}{to}"
    elif kind.startswith(Kind.REMIND_MORNING):
        what = f"the reminder on the morning of the meeting{on}{to}"
    elif kind.startswith(Kind.APOLOGIES):
        what = f"the request for updates from people who sent apologies for the meeting{on}{to}"
    elif kind == Kind.TIMEKEEPING:
        what = f"the prompt to the chair near the end of the meeting{on}"
    elif kind in (Kind.OPEN_CHAIR, Kind.OPEN_LEAD):
        what = f"the reminder that the meeting{on} was still open{to}"
    elif kind == Kind.SETUP:
        what = "the reminder to the lead social worker of what the new core group still needed"
    elif kind == Kind.OPEN_CLOSE:
        what = f"the notice that the meeting{on} was closed without a record"
    elif kind == Kind.OVERDUE and item.action:
        what = f"a reminder about the overdue action “{kit.esc(kit.clip(item.action.what, 200))}”"
    elif kind == Kind.DRIFT:
        what = "the weekly summary of overdue actions"
    elif kind.startswith(Kind.LAPSE):
        what = "the notice that the core group had not met within the agreed interval"
    elif kind == Kind.REVIEW:
        what = "the reminder to agree a recommendation for the review conference"
    elif kind == Kind.CHAIR_APOLOGIES:
        what = f"the alert to the lead social worker that the chair of the meeting{on} sent apologies"
    elif kind == Kind.AWAY:
        what = f"the notice that {name(item.member)} is away"
    else:
        what = "the check on whether the plan is stalling"
    return f"• {what} (due {item.due_at.astimezone(ZoneInfo(tz)):%-d %B %Y, %H:%M})"


def missed(case: Case, facts: dispatch.MissedReport, tz: str) -> Message:
    lines = [_missed_line(item, tz) for item in facts.items]
    text = f"Some scheduled messages for {kit.esc(case.reference)} could not be sent in time."
    body = ("*Some scheduled messages could not be sent in time*\nCoreGroup was not running when these were due,"
            " and it is now too late to send them:\n" + "\n".join(_items(lines)))
    return text, [*kit.sections(body), kit.context("Please check that nothing has been missed.")]


def thread_parent(member: Member) -> Message:
    who = f"<@{member.slack_user_id}>" if member.slack_user_id else name(member)
    text = f"Messages for {name(member)}"
    body = (f"*Messages for {who}*\nSlack would not let CoreGroup send these to them directly, so they are in"
            " this thread.")
    return text, [kit.section(body)]


def addressed(member: Member, text: str, blocks: list[dict]) -> Message:
    """A direct message turned into a thread reply addressed to the person."""
    who = f"<@{member.slack_user_id}>" if member.slack_user_id else name(member)
    return f"{who} {text}", [kit.section(f"{who}, this is for you:"), *blocks][: kit.MESSAGE_BLOCK_LIMIT]


def for_send(decision: dispatch.Send, *, kind: str, tz: str, today: date) -> Message:
    """The message for a decision to send."""
    case, facts = decision.case, decision.facts
    if isinstance(facts, dispatch.MeetingReminder):
        return meeting_reminder(case, facts, tz)
    if isinstance(facts, dispatch.Timekeeping):
        return timekeeping(case, facts, tz)
    if isinstance(facts, dispatch.ChairApologies):
        alert = chair_apologies_alert(case_id=case.id, reference=case.reference, meeting=facts.meeting,
                                      chair=facts.chair, tz=tz, to_the_chair=facts.to_the_chair)
        return alert["text"], alert["blocks"]
    if isinstance(facts, dispatch.GettingStarted):
        return getting_started.reminder(case.id, case.reference, facts.missing)
    if isinstance(facts, dispatch.LeftOpen):
        return left_open(case, facts, tz)
    if isinstance(facts, dispatch.Overdue):
        return overdue(case, facts, today)
    if isinstance(facts, dispatch.Drift):
        return drift(case, facts)
    if isinstance(facts, dispatch.ManagerLapse):
        return manager_lapse(case, facts, tz)
    if isinstance(facts, dispatch.Lapse):
        return lapse(case, facts, tz)
    if isinstance(facts, dispatch.Review):
        return review(case, facts, tz)
    if isinstance(facts, Stalling):
        return stalling(case, facts)
    if isinstance(facts, dispatch.Away):
        return away(case, facts)
    if isinstance(facts, dispatch.MissedReport):
        return missed(case, facts, tz)
    raise ValueError(f"no message for {kind}")
