"""Builders for starting a meeting: the chair's attendance check, and the agenda with time boxes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from handlers.blocks import kit
from handlers.blocks.meetings import local_start, when_text
from handlers.blocks.members import who
from handlers.blocks.updates import block_for
from handlers.ids import Action, Block, View, input_id
from models import names
from models.agenda import AgendaItem
from models.meetings import long_date
from models.tables import AttendanceStatus, Meeting, Member

MAX_PEOPLE = 95
ATTENDANCE_CHOICES = [("Present", AttendanceStatus.PRESENT), ("Apologies", AttendanceStatus.APOLOGIES),
                      ("Absent", AttendanceStatus.ABSENT)]


def start_modal(*, case_id: int, meeting: Meeting, tz: str | tzinfo, people: Sequence[Member],
                suggested: dict[int, str], sent_update: set[int], today) -> dict:
    """The chair records who is here before the meeting opens. Only what people said is filled in (attending →
    present, apologies → apologies) and the chair is present; everyone else is left for the chair to mark."""
    blocks = [kit.section(
        f"*Start core group meeting {meeting.number}* ({when_text(meeting, tz)})\n"
        "Record who is here. I have filled in only what people told me: attending → present, apologies →"
        " apologies. Please choose present, apologies or absent for everyone else, including family members"
        " who do not use Slack. Once the meeting starts, updates can no longer be sent.")]
    day = local_start(meeting, tz).date()
    if day != today:
        blocks.append(kit.context(f"This meeting is planned for {long_date(day)}, not today."))
    for member in people[:MAX_PEOPLE]:
        label = f"{names.shown(member)} – {member.role}"
        hints = []
        if member.id in sent_update:
            hints.append("Sent a written update.")
        if member.id not in suggested:
            hints.append("Not marked yet.")
        blocks.append(kit.input_block(label, kit.radio(input_id(Block.START_ATTENDANCE), ATTENDANCE_CHOICES,
                                                       initial=suggested.get(member.id)),
                                      block_id=block_for(Block.START_ATTENDANCE, member.id),
                                      hint=" ".join(hints) or None, optional=True))
    if len(people) > MAX_PEOPLE:
        blocks.append(kit.context(f"And {len(people) - MAX_PEOPLE} more: recorded as they replied; anyone who did"
                                  " not reply is left unmarked."))
    return kit.modal(title="Start the meeting", blocks=blocks, callback_id=View.START, submit="Start meeting",
                     private_metadata={"c": case_id, "m": meeting.id})


def agenda_text(items: Sequence[AgendaItem], tz: str | tzinfo | None = None) -> str:
    lines = []
    for item in items:
        clock = ""
        if item.starts is not None and item.ends is not None and tz is not None:
            clock = f"{item.starts.astimezone(tz):%H:%M} to {item.ends.astimezone(tz):%H:%M} · "
        lines.append(f"{item.number}. {clock}*{item.title}* ({item.minutes} minutes)")
    return "\n".join(lines)


def _names(members: Sequence[Member]) -> str:
    return ", ".join(who(m) for m in members)


def attendance_text(*, present: Sequence[Member], apologies: Sequence[Member], absent: Sequence[Member]) -> str:
    """Who was present, sent apologies or was absent; a line only where there is someone to name."""
    lines = [f"*{label}:* {_names(people)}" for label, people in
             (("Present", present), ("Apologies", apologies), ("Absent", absent)) if people]
    return "\n".join(lines) or "*Attendance:* not recorded"


def start_post(*, meeting: Meeting, chair: Member | None, tz: tzinfo, started: datetime,
               present: Sequence[Member], apologies: Sequence[Member], absent: Sequence[Member],
               items: Sequence[AgendaItem]) -> dict:
    """The meeting's opening post: who chairs it, attendance and the agenda with time boxes."""
    ends = items[-1].ends if items and items[-1].ends else started
    blocks = [
        kit.header(f"Core group meeting {meeting.number} has started"),
        kit.section(f"*Chair:* {who(chair) if chair else '_not chosen_'}\n"
                    f"*Started:* {started.astimezone(tz):%H:%M} · *Finish by:* {ends.astimezone(tz):%H:%M}"
                    f" ({meeting.duration_minutes} minutes)"),
    ]
    blocks += kit.sections(attendance_text(present=present, apologies=apologies, absent=absent))
    blocks += kit.sections(f"*Agenda*\n{agenda_text(items, tz)}")
    blocks.append(kit.context("Keep the child's views at the fore. Give everyone the chance to contribute. At the"
                              " end, recap the main points and decisions, and finish on time. Written updates from"
                              " those unable to attend are in the thread."))
    return kit.message(f"Core group meeting {meeting.number} has started", blocks)


def written_updates_intro(*, sent: Sequence[Member], missing: Sequence[Member], everyone_here: bool) -> dict:
    """The first message in the start post's thread: whose written views follow, and who sent none."""
    if everyone_here:
        text = "Everyone is here: there are no written updates from people unable to attend."
    elif not sent:
        text = "*Written views of those who were not able to attend*\nNo written updates were sent."
    else:
        text = ("*Written views of those who were not able to attend*\nUpdates follow from "
                + _names(sent) + ".")
    if missing:
        text += f"\nNo written update from {_names(missing)}."
    return kit.message("Written views of those who were not able to attend", kit.sections(text))


def plan_message(case_id: int, items: Sequence[dict], *, first: bool, children: int = 2) -> dict:
    """In the start post's thread: the plan as it stands, for the agenda's first item."""
    from models.minutes import PLAN_HEADINGS

    title = "Review the plan" if first else "Are we still working to the plan?"
    intro = ("At this first meeting after the conference, the group reviews the plan and fine-tunes it."
             if first else "Is the group still working to the plan? Does anything in it need to change?")
    lines = [f"*{title}*\n{intro}"]
    for kind, heading in PLAN_HEADINGS.items():
        statements = [f"• {kit.esc(i['text'])}" for i in items if i["kind"] == kind]
        heading = heading.format(children="child" if children == 1 else "children")
        lines.append(f"\n_{heading}_\n" + ("\n".join(statements) or "None written yet."))
    lines.append("\nAny change made now is listed in the record of this meeting.")
    edit = kit.actions(kit.button("Edit the plan", Action.PLAN_EDIT, {"c": case_id}))
    return kit.message(f"{title}: the plan as it stands", [*kit.sections("\n".join(lines)), edit])
