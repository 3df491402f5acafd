"""Builders for meetings: the schedule, move and cancel forms, and the meeting's message in the channel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from handlers.blocks import kit
from handlers.blocks.members import who
from handlers.ids import Action, Block, View, input_id
from models import names
from models.meetings import DEFAULT_LENGTH, MAX_LENGTH, MIN_LENGTH, long_date
from models.tables import Meeting, MeetingStatus, Member

DEFAULT_TIME = time(10, 0)
MAX_LOCATION = 500
MAX_REASON = 1000


def _zone(tz: str | tzinfo) -> tzinfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def local_start(meeting: Meeting, tz: str | tzinfo) -> datetime:
    return meeting.scheduled_start.astimezone(_zone(tz))


def when_text(meeting: Meeting, tz: str | tzinfo) -> str:
    """E.g. "Tuesday 8 December 2026, 10:00 to 11:30" (local time)."""
    starts = local_start(meeting, tz)
    ends = (meeting.scheduled_start + timedelta(minutes=meeting.duration_minutes)).astimezone(_zone(tz))
    return f"{long_date(starts.date())}, {starts:%H:%M} to {ends:%H:%M}"


def labelled(label: str, text: str) -> list[dict]:
    """A bold label and escaped user text, in as many sections as the text needs."""
    return kit.sections(f"*{label}*\n{kit.esc(text)}")


# --- scheduling -------------------------------------------------------------------------------


def _member_choices(members: Sequence[Member]) -> list[tuple[str, str]]:
    return [(f"{names.shown(m)} – {m.role}", str(m.id)) for m in members[:100]]


def review_block(*, current: date | None, today: date, initial: date | None = None) -> dict:
    """The date of the next review conference: the case's while it is still to come, to change if it moved;
    empty once it has been held, to record the next one (nothing is changed when it is left as it is)."""
    upcoming = current if current is not None and current > today else None
    if upcoming is not None:
        hint = "Change it only if the review conference has moved."
    elif current is not None:
        hint = (f"The review conference on {long_date(current)} has been held. If the plan goes on, choose the date"
                " of the next one.")
    else:
        hint = "If you know when the review conference is, choose its date."
    return kit.input_block("Next review conference", kit.date_input(input_id(Block.REVIEW),
                                                                    initial=initial or upcoming),
                           block_id=Block.REVIEW, optional=True, hint=hint)


def schedule_modal(*, case_id: int, proposed: date, reasons: Sequence[str], chairs: Sequence[Member],
                   suggested_chair: Member | None, review: date | None = None, today: date | None = None) -> dict:
    """The form for the next meeting, with the date the statutory calendar suggests, and the date of the
    next review conference (which the calendar plans around)."""
    why = "\n".join(f"• {reason}" for reason in reasons)
    blocks = [
        kit.section(f"*Suggested date: {long_date(proposed)}*\n{why}"),
        kit.input_block("Date", kit.date_input(input_id(Block.DATE), initial=proposed), block_id=Block.DATE,
                        hint="A working day: not a weekend or a bank holiday."),
        kit.input_block("Start time", kit.time_input(input_id(Block.TIME), initial=DEFAULT_TIME),
                        block_id=Block.TIME),
        kit.input_block("Length in minutes", kit.number_input(input_id(Block.LENGTH), initial=DEFAULT_LENGTH,
                                                              minimum=MIN_LENGTH, maximum=MAX_LENGTH),
                        block_id=Block.LENGTH),
        kit.input_block("Place or call link", kit.plain_input(
            input_id(Block.LOCATION), max_length=MAX_LOCATION,
            placeholder="A room and building, or the link to join the call"), block_id=Block.LOCATION),
        kit.input_block("Chair", kit.select(input_id(Block.CHAIR), _member_choices(chairs),
                                            initial=str(suggested_chair.id) if suggested_chair else None,
                                            placeholder="Choose the chair"),
                        block_id=Block.CHAIR,
                        hint="Suggested: the lead social worker for the first meeting, then whoever chaired least"
                             " recently. Chairing is shared by all the professionals, not only the social worker,"
                             " and works for someone from any organisation."),
    ]
    if today is not None:
        blocks.append(review_block(current=review, today=today))
    return kit.modal(title="Next meeting", blocks=blocks, callback_id=View.SCHEDULE, submit="Schedule",
                     private_metadata={"c": case_id})


def _details(meeting: Meeting, chair: Member | None, tz: str | tzinfo) -> str:
    where = kit.esc(meeting.location) if meeting.location else "_not set_"
    lines = [f"*When:* {when_text(meeting, tz)}", f"*Where:* {where}"]
    lines.append(f"*Chair:* {who(chair)}" if chair else "*Chair:* _not chosen yet_")
    return "\n".join(lines)


def replies_text(attending: Sequence[Member], apologies: Sequence[Member]) -> str:
    if not attending and not apologies:
        return "No replies yet."
    parts = []
    if attending:
        parts.append("Attending: " + ", ".join(who(m) for m in attending))
    if apologies:
        parts.append("Apologies: " + ", ".join(who(m) for m in apologies))
    return " · ".join(parts)


def meeting_message(*, meeting: Meeting, chair: Member | None, tz: str | tzinfo, case_id: int,
                    attending: Sequence[Member] = (), apologies: Sequence[Member] = (),
                    note: str | None = None) -> dict:
    """The meeting's message in the case channel; its thread holds the updates and changes."""
    title = f"Core group meeting {meeting.number}"
    value = {"c": case_id, "m": meeting.id}
    if meeting.status == MeetingStatus.CANCELLED:
        blocks = [kit.header(f"Cancelled: {title}"), kit.section(_details(meeting, chair, tz)),
                  kit.context("This meeting was cancelled. The reason is in the thread.")]
        return kit.message(f"Cancelled: {title}, {when_text(meeting, tz)}", blocks)
    blocks = [kit.header(title), kit.section(_details(meeting, chair, tz))]
    if note:
        blocks.append(kit.context(note))
    if meeting.status == MeetingStatus.SCHEDULED:
        blocks.append(kit.section(
            "Can you come? If not, please send your apologies and a written update, so your views are heard"
            " in the meeting. You can change your update until the meeting starts."))
        blocks.append(kit.context(replies_text(attending, apologies)))
        blocks.append(kit.actions(
            kit.button("Attending", Action.ATTENDING, value, style="primary"),
            kit.button("Send apologies", Action.SEND_APOLOGIES, value),
            kit.button("Send my update", Action.SEND_UPDATE, value),
            block_id="meeting_reply",
        ))
        blocks += chair_controls(case_id=case_id, meeting=meeting)
    elif meeting.status == MeetingStatus.IN_PROGRESS:
        blocks.append(kit.context("This meeting has started. Updates can no longer be sent or changed."))
        blocks += chair_controls(case_id=case_id, meeting=meeting)
    elif meeting.status == MeetingStatus.ENDED_WITHOUT_RECORD:
        blocks.append(kit.context(ENDED_WITHOUT_RECORD_NOTE))
        blocks += chair_controls(case_id=case_id, meeting=meeting)
    else:
        blocks.append(kit.context("This meeting has ended."))
    return kit.message(f"{title}: {when_text(meeting, tz)}", blocks)


ENDED_WITHOUT_RECORD_NOTE = ("This meeting has ended, but nobody wrote its record. The chair or the lead social worker"
                             " can still write it with *Write the record*.")


CHAIR_BUTTONS_NOTE = "For the chair (or the lead social worker), from any organisation:"


def chair_controls(*, case_id: int, meeting: Meeting) -> list[dict]:
    """The chair's buttons: start the meeting before it starts; then ask a scaling question, record a decision,
    add an action and end it; and, before it and during it, record the family's views on their behalf. Everyone
    sees them; only the chair and the lead social worker can use them."""
    value = {"c": case_id, "m": meeting.id}
    # parents and carers often have no Slack: the chair or the lead records what they said, before or during it
    family = kit.button("Record the family's views", Action.FAMILY_VIEWS, {"c": case_id})
    if meeting.status == MeetingStatus.SCHEDULED:
        buttons = [kit.button("Start the meeting", Action.MEETING_START, value), family]
    elif meeting.status == MeetingStatus.IN_PROGRESS:
        buttons = [kit.button("Ask a scaling question", Action.SCALE_START, {"c": case_id}),
                   kit.button("Record a decision", Action.DECISION_START, {"c": case_id}),
                   kit.button("Add an action", Action.CHAIR_ACTION, value), family,
                   kit.button("End the meeting", Action.MEETING_END, value, style="primary")]
    elif meeting.status == MeetingStatus.ENDED_WITHOUT_RECORD:  # the end flow still writes its record
        buttons = [kit.button("Write the record", Action.MEETING_END, value, style="primary")]
    else:
        return []
    return [kit.context(CHAIR_BUTTONS_NOTE), kit.actions(*buttons, block_id="chair_controls")]


def book_button(case_id: int, label: str = "Book the next meeting") -> dict:
    """The schedule form (or the meeting already booked) from a button, for anyone in the group, from any
    organisation (Slack shares no slash commands across organisations)."""
    return kit.button(label, Action.MEETING_BOOK, {"c": case_id})


def chair_panel(*, case_id: int, meeting: Meeting, chair: Member | None) -> dict:
    """The chair's panel, posted in the meeting's thread when it starts: every step of the meeting by buttons,
    for a chair from another organisation (who cannot use slash commands in a shared channel). Redrawn when the
    meeting ends, so nobody presses buttons that no longer do anything: once its record is posted it has none;
    closed without a record, it keeps only Write the record."""
    chaired = f"*Chair:* {who(chair)}" if chair else "*Chair:* _not recorded_"
    title = f"Chair's buttons for core group meeting {meeting.number}"
    if meeting.status == MeetingStatus.ENDED:
        return kit.message(f"Core group meeting {meeting.number} has ended", [
            kit.section(f"*Core group meeting {meeting.number} has ended*\n{chaired}\nIts record has been posted in"
                        " the channel, so the chair's buttons are no longer needed.")])
    if meeting.status == MeetingStatus.ENDED_WITHOUT_RECORD:
        return kit.message(f"Core group meeting {meeting.number} has ended without a record", [
            kit.section(f"*Core group meeting {meeting.number} has ended without a record*\n{chaired}\nNobody ended"
                        " it, so it was closed after two working days. The chair or the lead social worker can"
                        " still write its record."),
            kit.actions(*chair_controls(case_id=case_id, meeting=meeting)[-1]["elements"], block_id="chair_panel")])
    if meeting.status != MeetingStatus.IN_PROGRESS:  # not started, or cancelled: nothing the panel can do
        return kit.message(title, [kit.section(f"*{title}*\n{chaired}\nThis meeting is not in progress.")])
    blocks = [kit.section(f"*Chair's buttons for core group meeting {meeting.number}*\n{chaired}\n"
                          "Only the chair and the lead social worker can use these."),
              kit.actions(*chair_controls(case_id=case_id, meeting=meeting)[-1]["elements"],
                          block_id="chair_panel")]
    return kit.message(title, blocks)


def chair_apologies_alert(*, case_id: int, reference: str, meeting: Meeting, chair: Member, tz: str | tzinfo,
                          to_the_chair: bool) -> dict:
    """To the lead social worker, privately: the chair of the next meeting sent apologies."""
    value = {"c": case_id, "m": meeting.id}
    ref = kit.esc(reference)
    if to_the_chair:
        text = (f"*You sent apologies for core group meeting {meeting.number} for {ref}*, which you were to"
                f" chair ({when_text(meeting, tz)}).\nPlease pick someone else to chair it.")
        buttons = [kit.button("Pick another chair", Action.CHAIR_PICK, value, style="primary")]
    else:
        text = (f"*The chair of core group meeting {meeting.number} for {ref} has sent apologies*\n"
                f"{who(chair)} cannot come on {when_text(meeting, tz)}. Will you chair it yourself, or pick"
                " another chair?")
        buttons = [kit.button("Chair it myself", Action.CHAIR_TAKE, value, style="primary"),
                   kit.button("Pick another chair", Action.CHAIR_PICK, value)]
    blocks = [kit.section(text), kit.actions(*buttons, block_id=f"chair_apologies_{meeting.id}")]
    return kit.message(f"The chair of core group meeting {meeting.number} for {ref} has sent apologies", blocks)


def chair_pick_modal(*, case_id: int, meeting: Meeting, tz: str | tzinfo, candidates: Sequence[Member],
                     current: Member | None) -> dict:
    """Pick who chairs a meeting that has not started: a professional in the group who uses Slack."""
    now = f"The chair is {current.name} ({current.role})." if current else "No chair is chosen."
    blocks = [kit.section(f"*Core group meeting {meeting.number}*, {when_text(meeting, tz)}.\n{kit.esc(now)}"),
              kit.input_block("Chair", kit.select(input_id(Block.CHAIR), _member_choices(candidates),
                                                  placeholder="Choose the chair"), block_id=Block.CHAIR,
                              hint="Anyone in the group who uses Slack can chair, from any organisation.")]
    return kit.modal(title="Pick another chair", blocks=blocks, callback_id=View.CHAIR_PICK, submit="Save",
                     private_metadata={"c": case_id, "m": meeting.id})


def chair_changed_post(*, meeting: Meeting, chair: Member, by: Member, was: Member | None) -> dict:
    """In the meeting's thread: someone else will chair."""
    text = f"{who(by)} has asked {who(chair)} to chair core group meeting {meeting.number}"
    text += f", as {who(was)} sent apologies." if was is not None else "."
    if chair.id == by.id:
        text = f"{who(chair)} will chair core group meeting {meeting.number}"
        text += f", as {who(was)} sent apologies." if was is not None else "."
    return kit.message(f"A new chair for core group meeting {meeting.number}", [kit.section(text)])


def already_scheduled(*, meeting: Meeting, chair: Member | None, tz: str | tzinfo, case_id: int) -> list[dict]:
    """What `/coregroup schedule` shows when a meeting is already planned: one at a time."""
    title = f"Core group meeting {meeting.number}"
    if meeting.status == MeetingStatus.IN_PROGRESS:
        return [kit.section(f"*{title} is in progress now.*\n{_details(meeting, chair, tz)}"),
                kit.context("Schedule the next meeting when this one has ended.")]
    value = {"c": case_id, "m": meeting.id}
    return [
        kit.section(f"*{title} is already scheduled.* There is one upcoming meeting at a time.\n"
                    f"{_details(meeting, chair, tz)}"),
        kit.actions(
            kit.button("Move it", Action.MEETING_MOVE, value),
            kit.button("Cancel it", Action.MEETING_CANCEL, value, style="danger"),
            block_id="meeting_change",
        ),
    ]


# --- moving and cancelling --------------------------------------------------------------------


def _reason_block(what: str) -> dict:
    return kit.input_block(f"Why is the meeting being {what}?", kit.plain_input(
        input_id(Block.REASON), multiline=True, max_length=MAX_REASON,
        placeholder="This is shared with the core group."), block_id=Block.REASON)


def move_modal(*, case_id: int, meeting: Meeting, tz: str | tzinfo) -> dict:
    starts = local_start(meeting, tz)
    blocks = [
        kit.section(f"*Core group meeting {meeting.number}* is now {when_text(meeting, tz)}."),
        kit.input_block("New date", kit.date_input(input_id(Block.DATE), initial=starts.date()), block_id=Block.DATE),
        kit.input_block("New start time", kit.time_input(input_id(Block.TIME), initial=starts.time()),
                        block_id=Block.TIME),
        kit.input_block("Place or call link", kit.plain_input(input_id(Block.LOCATION), max_length=MAX_LOCATION,
                                                              initial=meeting.location), block_id=Block.LOCATION),
        _reason_block("moved"),
    ]
    return kit.modal(title="Move the meeting", blocks=blocks, callback_id=View.MEETING_MOVE, submit="Move",
                     private_metadata={"c": case_id, "m": meeting.id})


def cancel_modal(*, case_id: int, meeting: Meeting, tz: str | tzinfo) -> dict:
    blocks = [
        kit.section(f"Cancel *core group meeting {meeting.number}* on {when_text(meeting, tz)}? Everyone is told,"
                    " with your reason. Core groups need to happen regularly, so please arrange the next one."),
        _reason_block("cancelled"),
    ]
    return kit.modal(title="Cancel the meeting", blocks=blocks, callback_id=View.MEETING_CANCEL,
                     submit="Cancel meeting", close="Keep it", private_metadata={"c": case_id, "m": meeting.id})


def moved_post(*, meeting: Meeting, mover: Member, old_start: datetime, reason: str, tz: str | tzinfo) -> dict:
    was = Meeting(scheduled_start=old_start, duration_minutes=meeting.duration_minutes, case_id=meeting.case_id)
    text = (f"{who(mover)} moved core group meeting {meeting.number} from {when_text(was, tz)} to"
            f" *{when_text(meeting, tz)}*.")
    if meeting.location:
        text += f"\n*Where:* {kit.esc(meeting.location)}"
    blocks = [kit.section(text), *labelled("Reason", reason)]
    return kit.message(f"Core group meeting {meeting.number} moved to {when_text(meeting, tz)}", blocks)


def review_post(*, review: date, by: Member) -> dict:
    """In the case channel: the date of the next review conference was recorded or changed."""
    blocks = [
        kit.section(f"{who(by)} recorded the date of the next review conference: *{long_date(review)}*."),
        kit.context("The core group will be reminded two weeks before it to agree what it will recommend. The last"
                    " core group before it should be at least 10 working days earlier."),
    ]
    return kit.message(f"The next review conference is on {long_date(review)}", blocks)


def cancelled_post(*, meeting: Meeting, canceller: Member, reason: str, tz: str | tzinfo) -> dict:
    blocks = [
        kit.section(f"{who(canceller)} cancelled core group meeting {meeting.number} ({when_text(meeting, tz)})."),
        *labelled("Reason", reason),
        kit.context("Core groups need to happen regularly. Please arrange the next meeting with *Book the next"
                    " meeting*."),
        kit.actions(book_button(meeting.case_id), block_id=f"book_after_{meeting.id}"),
    ]
    return kit.message(f"Core group meeting {meeting.number} was cancelled", blocks)
