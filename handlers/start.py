"""`/coregroup start`: the chair opens the meeting — attendance, then the agenda with time boxes.

Only the meeting's chair may start it; the lead social worker may stand in. The written updates of
those unable to attend go in the start post's thread, so they are heard first.
"""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient

from handlers import access, forms, outbox
from handlers.blocks import kit
from handlers.blocks import meetings as meeting_blocks
from handlers.blocks import start as start_blocks
from handlers.blocks.members import who
from handlers.blocks.updates import block_for, id_from
from handlers.commands import Invocation, SubCommand
from handlers.deps import Deps
from handlers.ids import Block, View
from handlers.updates import update_messages
from models import agenda, audit, cases, meetings, plan
from models import outbox as models_outbox
from models.cases import DomainError
from models.ledger import Kind
from models.tables import AttendanceStatus, Case, Meeting, MeetingStatus, Member, MemberStatus

log = logging.getLogger(__name__)

NO_MEETING = "No meeting is scheduled. Use `/coregroup schedule` to arrange one first."
ALREADY_STARTED = "This meeting has already started, ended or been cancelled."
MAX_ERROR = 2000  # a field error naming everyone still to mark is clipped to this


def not_chair(chair: Member | None) -> str:
    who_chairs = f"the chair of this meeting ({who(chair)})" if chair else "the chair of this meeting"
    return f"Only {who_chairs} can start it. The lead social worker can stand in."


def _chair(session, meeting: Meeting) -> Member | None:
    return session.get(Member, meeting.chair_member_id) if meeting.chair_member_id else None


def start_command(inv: Invocation) -> None:
    deps, case = inv.deps, inv.case
    with deps.session() as session:
        meeting = meetings.upcoming(session, case.id)
        if meeting is None:
            inv.reply(NO_MEETING)
            return
        if meeting.status != MeetingStatus.SCHEDULED:
            inv.reply(f"Core group meeting {meeting.number} has already started.")
            return
        if not meetings.is_chair(session, meeting, inv.member):
            inv.reply(not_chair(_chair(session, meeting)))
            return
        people = [m for m in cases.members(session, case.id) if m.status == MemberStatus.ACTIVE]
        sent = {u.member_id for u in meetings.latest_updates(session, meeting.id)}
        view = start_blocks.start_modal(case_id=case.id, meeting=meeting, tz=deps.tz, people=people,
                                        suggested=meetings.start_attendance(session, meeting, starter=inv.member),
                                        sent_update=sent, today=deps.today())
    if inv.trigger_id:
        inv.client.views_open(trigger_id=inv.trigger_id, view=view)


def read_attendance(raw: dict) -> tuple[dict[int, str], list[int]]:
    """What the chair chose for each person on the form, and who is on it without a choice (in form order)."""
    chosen: dict[int, str] = {}
    unmarked: list[int] = []
    for block_id, value in raw.items():
        member_id = id_from(block_id, Block.START_ATTENDANCE)
        if member_id is None:
            continue
        if value in (AttendanceStatus.PRESENT, AttendanceStatus.APOLOGIES, AttendanceStatus.ABSENT):
            chosen[member_id] = value
        else:
            unmarked.append(member_id)
    return chosen, unmarked


def attendance_errors(*, chosen: dict[int, str], unmarked: list[int], people: dict[int, Member],
                      starter: Member) -> dict[str, str]:
    """Field errors for the start form: everyone must be marked (each unmarked person is named, the first
    error names them all), and whoever starts the meeting is here."""
    errors: dict[str, str] = {}
    left = [people[i] for i in unmarked if i in people]
    for index, member in enumerate(left):
        message = f"Please choose present, apologies or absent for {member.name}."
        if index == 0 and len(left) > 1:
            names = ", ".join(m.name for m in left)
            message = kit.clip(f"Please choose present, apologies or absent for everyone not yet marked: {names}.",
                               MAX_ERROR)
        errors[block_for(Block.START_ATTENDANCE, member.id)] = message
    if starter.id in chosen and chosen[starter.id] != AttendanceStatus.PRESENT:
        errors[block_for(Block.START_ATTENDANCE, starter.id)] = (
            "You are starting the meeting, so you are here: please mark yourself present.")
    return errors


def submit_start(ack, body: dict, client: WebClient, deps: Deps) -> None:
    checked = access.check_submission(deps, ack, body, title="Start the meeting")
    if checked is None:
        return
    case, member = checked
    with deps.session() as session:
        meeting = meetings.get_for_case(session, case.id, access.metadata(body).get("m"))
        if meeting is None or meeting.status != MeetingStatus.SCHEDULED:
            ack(response_action="update", view=access.notice_view("Start the meeting", ALREADY_STARTED))
            return
        if not meetings.is_chair(session, meeting, member):
            ack(response_action="update", view=access.notice_view("Start the meeting",
                                                                  not_chair(_chair(session, meeting))))
            return
        people = {m.id: m for m in cases.members(session, case.id) if m.status == MemberStatus.ACTIVE}
        # Anyone not on the form (joined since it opened, or beyond its length) is recorded as they replied.
        replies = meetings.start_attendance(session, meeting)
    chosen, unmarked = read_attendance(forms.values(body))
    errors = attendance_errors(chosen=chosen, unmarked=unmarked, people=people, starter=member)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    marked = {k: v for k, v in replies.items() if k in people}
    marked.update({k: v for k, v in chosen.items() if k in people})
    chaired_by = meetings.actual_chair(meeting=meeting, starter=member, marked=marked)
    try:
        with deps.session() as session:
            if not audit.claim_once(session, f"view:{body['view']['id']}"):
                ack()
                return
            meetings.start(session, meeting=session.get(Meeting, meeting.id), present=marked,
                           actor=access.actor_of(body), now=deps.now(), chaired_by=chaired_by)
            # What follows in Slack is written down with the start itself, and sent after the commit.
            opening = models_outbox.opening(session, case_id=case.id, meeting_id=meeting.id, now=deps.now(),
                                            notify=access.actor_of(body).user_id)
    except DomainError as error:
        ack(response_action="update", view=access.notice_view("Start the meeting", str(error)))
        return
    ack()
    log.info("meeting %s started", meeting.id)
    outbox.send_all_now(deps, client, opening)  # the opening post, the meeting's message, the chair's buttons


NOT_POSTED = ("Slack did not confirm the attendance, agenda and written updates in the case channel yet. They are"
              " kept, and will be posted there as soon as Slack takes them.")


@outbox.sender(Kind.OPENING, unconfirmed="The meeting has started. " + NOT_POSTED)
def post_start(job: outbox.Job) -> None:
    """The opening post (attendance and agenda), then the written updates of those not there, in its thread: each
    message once, resumed after a crash (handlers/outbox.py)."""
    deps, meeting_id = job.deps, job.row.meeting_id
    with deps.session() as session:
        meeting = session.get(Meeting, meeting_id)
        case = session.get(Case, meeting.case_id)
        status = meetings.attendance(session, meeting_id)
        people = {m.id: m for m in cases.members(session, case.id, include_removed=True)}
        by_status = {s: [people[i] for i, st in status.items() if st == s and i in people]
                     for s in (AttendanceStatus.PRESENT, AttendanceStatus.APOLOGIES, AttendanceStatus.ABSENT)}
        started = meeting.started_at.replace(second=0, microsecond=0)
        chair = session.get(Member, meetings.chair_id_of(meeting)) if meetings.chair_id_of(meeting) else None
        items = agenda.agenda(meeting.duration_minutes, started, meeting_number=meeting.number)
        post = start_blocks.start_post(meeting=meeting, chair=chair, tz=deps.tz,
                                       started=started, present=by_status[AttendanceStatus.PRESENT],
                                       apologies=by_status[AttendanceStatus.APOLOGIES],
                                       absent=by_status[AttendanceStatus.ABSENT], items=items)
        away = {i for i, st in status.items() if st != AttendanceStatus.PRESENT}
        written = [u for u in meetings.latest_updates(session, meeting_id) if u.member_id in away]
        writers = {u.member_id for u in written}
        updates = [message for u in written for message in update_messages(session, u, as_sent=False)]
        plan_now = start_blocks.plan_message(case.id, plan.as_it_stands(session, case.id), first=meeting.number <= 1,
                                             children=len(cases.children(session, case.id)))
        intro = start_blocks.written_updates_intro(
            sent=[people[u.member_id] for u in written if u.member_id in people],
            missing=[m for m in by_status[AttendanceStatus.APOLOGIES] if m.id not in writers],
            everyone_here=all(status.get(m.id) == AttendanceStatus.PRESENT for m in people.values()
                              if m.status == MemberStatus.ACTIVE))
    # A very long opening post (many people, a long agenda) goes on in its thread, within Slack's limits.
    first, *more = [kit.message(post["text"], part) for part in kit.split_messages(post["blocks"])]
    channel, ts = job.post(channel=case.channel_id, message=first)
    for part, message in enumerate([*more, plan_now, intro, *updates], start=1):
        job.post(channel=channel, message=message, part=part, thread_ts=ts)


@outbox.sender(Kind.CHAIR_PANEL, unconfirmed=access.NOT_CONFIRMED)
def post_chair_panel(job: outbox.Job) -> None:
    """The chair's buttons in the meeting's thread (the channel when it has none): a chair from another
    organisation runs the meeting by them, so they are posted once whatever happens to the process."""
    deps = job.deps
    with deps.session() as session:
        meeting = session.get(Meeting, job.row.meeting_id)
        case = session.get(Case, meeting.case_id)
        chair_id = meetings.chair_id_of(meeting)
        chair = session.get(Member, chair_id) if chair_id else None
        message = meeting_blocks.chair_panel(case_id=case.id, meeting=meeting, chair=chair)
        channel, thread = meeting.channel_id or case.channel_id, meeting.message_ts
    _channel, ts = job.post(channel=channel, message=message, thread_ts=thread)
    with deps.session() as session:  # kept, so the panel is redrawn when the meeting ends (handlers.meetings)
        meeting = session.get(Meeting, job.row.meeting_id)
        meeting.chair_panel_ts = ts
        session.add(meeting)


def register(app: App, deps: Deps) -> None:
    deps.commands.add(SubCommand("start", "Chair: open the meeting with attendance and the agenda", start_command))

    @app.view(View.START)
    def started(ack, body, client):
        submit_start(ack, body, client, deps)
