"""`/coregroup schedule`: the next meeting by the statutory calendar; moving and cancelling it with a reason.

The meeting is posted in the case channel with Attending / Send apologies / Send my update buttons;
that message is the meeting's thread, where updates, moves and cancellation are posted.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import IntegrityError

import handlers.family_outline  # noqa: F401  (registers the outline's sender)
from handlers import access, case_post, forms, outbox
from handlers.blocks import meetings as meeting_blocks
from handlers.case_post import SLACK_FAILED
from handlers.commands import Invocation, SubCommand, start_from_button
from handlers.deps import Deps
from handlers.getting_started import refresh_later as refresh_checklist
from handlers.ids import Action, Block, View
from handlers.plain import jargon_gate
from models import audit, cases, meetings
from models import outbox as outbox_rows
from models.calendar import WorkingCalendar
from models.cases import DomainError
from models.ledger import Kind
from models.tables import AttendanceStatus, Case, Meeting, MeetingStatus, Member

log = logging.getLogger(__name__)

NOT_SCHEDULED = "This meeting has already started, ended or been cancelled, so it cannot be changed."
ALREADY = ("A meeting was scheduled while you were filling this in. Use `/coregroup schedule` to see it;"
           " there is one upcoming meeting at a time.")
FIELD_BLOCKS = {"date": Block.DATE, "length": Block.LENGTH, "chair": Block.CHAIR, "reason": Block.REASON,
                "review": Block.REVIEW}


def calendar_for(deps: Deps) -> WorkingCalendar:
    settings = deps.settings
    return WorkingCalendar(timezone=settings.timezone, day_start=settings.working_day_start,
                           day_end=settings.working_day_end)


def _chair(session, meeting: Meeting) -> Member | None:
    return session.get(Member, meeting.chair_member_id) if meeting.chair_member_id else None


# --- the command ------------------------------------------------------------------------------


def show_schedule(inv: Invocation) -> None:
    deps, case = inv.deps, inv.case
    calendar = calendar_for(deps)
    with deps.session() as session:
        meeting = meetings.upcoming(session, case.id)
        if meeting is not None:
            blocks = meeting_blocks.already_scheduled(meeting=meeting, chair=_chair(session, meeting), tz=deps.tz,
                                                      case_id=case.id)
            inv.reply(f"Core group meeting {meeting.number}: {meeting_blocks.when_text(meeting, deps.tz)}", blocks)
            return
        last = meetings.previous_ended(session, case.id)
        last_day = calendar.local(last.scheduled_start).date() if last else None
        proposal = meetings.propose(calendar, case=case, last_meeting=last_day, today=deps.today())
        view = meeting_blocks.schedule_modal(case_id=case.id, proposed=proposal.day, reasons=proposal.reasons,
                                             chairs=meetings.chairs(session, case.id),
                                             suggested_chair=meetings.suggest_chair(session, case.id),
                                             review=case.review_conference_date, today=deps.today())
    if inv.trigger_id:
        inv.client.views_open(trigger_id=inv.trigger_id, view=view)


# --- reading the forms ------------------------------------------------------------------------


def read_start(raw: dict, calendar: WorkingCalendar, now: datetime, errors: dict[str, str]) -> datetime | None:
    """The start from the date and time fields, checked: in the future, on a working day."""
    day = forms.parse_date(raw.get(Block.DATE), Block.DATE, errors)
    clock = forms.parse_time(raw.get(Block.TIME), Block.TIME, errors)
    if day is None or clock is None:
        return None
    start = calendar.at(day, clock)
    why_not = meetings.check_start(calendar, start=start, now=now)
    if why_not:
        same_day = day == calendar.local(now).date()
        errors[Block.TIME if same_day and start <= now else Block.DATE] = why_not
    return start


def warn_once(session, body: dict, warning: str | None, start: datetime, errors: dict[str, str],
              block: str = Block.DATE) -> None:
    """A deadline warning is shown once as a field error; pressing the button again keeps the date."""
    if warning and audit.claim_once(session, f"warned:{body['view']['id']}:{start.isoformat()}"):
        errors[block] = warning


def read_review(raw: dict, case: Case, today: date, errors: dict[str, str]) -> date | None:
    """A new date for the next review conference from the form's optional field: None when it is empty or
    the date already recorded; checked to be after today (the error goes on the field)."""
    review = forms.parse_date(raw.get(Block.REVIEW), Block.REVIEW, errors, required=False)
    if review is None or review == case.review_conference_date:
        return None
    problem = meetings.check_review_date(review, today=today)
    if problem:
        errors[Block.REVIEW] = problem
        return None
    return review


def record_review(session, *, case: Case, review: date | None, actor, now: datetime, today: date) -> bool:
    """Save a new review conference date (audited, its reminder moved); True when it changed."""
    if review is None:
        return False
    return meetings.set_review_date(session, case_id=case.id, review=review, actor=actor, now=now, today=today)


def post_review(client: WebClient, case: Case, review: date, by: Member, notify: str | None) -> None:
    """Tell the core group, in the case channel, the date of the next review conference."""
    case_post.post(client, channel=case.channel_id, thread_ts=None,
                   message=meeting_blocks.review_post(review=review, by=by), what="the review date", notify=notify)


def _errors_from(error: DomainError, default: str = Block.DATE) -> dict[str, str]:
    return {FIELD_BLOCKS.get(error.field or "", default): str(error)}


# --- scheduling -------------------------------------------------------------------------------


def submit_schedule(ack, body: dict, client: WebClient, deps: Deps) -> None:
    checked = access.check_submission(deps, ack, body, title="Next meeting")
    if checked is None:
        return
    case, member = checked
    raw = forms.values(body)
    errors: dict[str, str] = {}
    calendar, now, today = calendar_for(deps), deps.now(), deps.today()
    start = read_start(raw, calendar, now, errors)
    review = read_review(raw, case, today, errors)
    length = forms.parse_int(raw.get(Block.LENGTH), Block.LENGTH, errors, low=meetings.MIN_LENGTH,
                             high=meetings.MAX_LENGTH, what="the length in minutes")
    location = forms.text(raw.get(Block.LOCATION), Block.LOCATION, errors, required=True,
                          limit=meeting_blocks.MAX_LOCATION, what="the place or call link")
    chair_id = access.int_or_none(raw.get(Block.CHAIR))
    if chair_id is None:
        errors[Block.CHAIR] = "Please choose the chair."
    if errors:
        ack(response_action="errors", errors=errors)
        return
    with deps.session() as session:
        if meetings.upcoming(session, case.id) is not None:
            ack(response_action="update", view=access.notice_view("Next meeting", ALREADY))
            return
        first = meetings.held_count(session, case.id) == 0
        warn_once(session, body, meetings.deadline_warning(calendar, case=case, start=start, first=first,
                                                           review_conference=review), start, errors)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    actor = access.actor_of(body)
    try:
        with deps.session() as session:
            if not audit.claim_once(session, f"view:{body['view']['id']}"):
                ack()
                return
            review_changed = record_review(session, case=case, review=review, actor=actor, now=now, today=today)
            meeting = meetings.schedule(session, case=case, start=start, duration_minutes=length, location=location,
                                        chair_member_id=chair_id, actor=actor, now=now)
            meeting_id = meeting.id
            outline = outbox_rows.family_outline(session, meeting=meeting, now=now)  # to the lead social worker
    except DomainError as error:
        ack(response_action="errors", errors=_errors_from(error))
        return
    except IntegrityError:
        ack(response_action="update", view=access.notice_view("Next meeting", ALREADY))
        return
    ack()
    log.info("meeting %s scheduled for case %s", meeting_id, case.id)
    post_meeting(client, deps, case, meeting_id, body)
    outbox.send_all_now(deps, client, [outline])  # the outline for the family, to the lead social worker
    refresh_checklist(deps, client, case.id)
    if review_changed:
        post_review(client, case, review, member, actor.user_id)


def post_meeting(client: WebClient, deps: Deps, case: Case, meeting_id: int, body: dict | None = None) -> None:
    """Post the meeting in the case channel and remember the message: it is the meeting's thread."""
    with deps.session() as session:
        meeting = session.get(Meeting, meeting_id)
        message = meeting_blocks.meeting_message(meeting=meeting, chair=_chair(session, meeting), tz=deps.tz,
                                                 case_id=case.id)
    try:
        posted = client.chat_postMessage(channel=case.channel_id, **message)
    except SLACK_FAILED as error:
        code = error.response.get("error") if isinstance(error, SlackApiError) else type(error).__name__
        log.warning("could not post meeting %s: %s", meeting_id, code)
        if body is not None:
            access.tell_in_channel(client, case.channel_id, access.actor_of(body).user_id,
                                   "The meeting is saved, but Slack did not confirm its message in the case"
                                   " channel, so please check that the core group can see it there.")
        return
    with deps.session() as session:
        meeting = session.get(Meeting, meeting_id)
        meeting.channel_id, meeting.message_ts = posted["channel"], posted["ts"]
        session.add(meeting)


@outbox.sender(Kind.MEETING_POST)
def post_meeting_once(job: outbox.Job) -> None:
    """A meeting's own message, for a meeting booked by something else (the recap that named it): once, and
    remembered as the meeting's thread."""
    deps = job.deps
    with deps.session() as session:
        meeting = session.get(Meeting, job.row.meeting_id)
        if meeting is None or meeting.message_ts:
            raise outbox.Skipped("posted_already")
        if meeting.status == MeetingStatus.CANCELLED:
            raise outbox.Skipped("cancelled")
        case = session.get(Case, meeting.case_id)
        message = meeting_blocks.meeting_message(meeting=meeting, chair=_chair(session, meeting), tz=deps.tz,
                                                 case_id=case.id)
    channel, ts = job.post(channel=case.channel_id, message=message)
    with deps.session() as session:
        meeting = session.get(Meeting, job.row.meeting_id)
        meeting.channel_id, meeting.message_ts = channel, ts
        session.add(meeting)


@outbox.sender(Kind.REDRAW)
def redraw_meeting(job: outbox.Job) -> None:
    """A meeting's message brought up to date (it started, it ended): drawn again from the database, so doing it
    twice does no harm."""
    refresh_meeting_message(job.client, job.deps, job.row.meeting_id, strict=True)


def refresh_meeting_message(client: WebClient, deps: Deps, meeting_id: int, note: str | None = None, *,
                            strict: bool = False) -> None:
    """Bring the meeting's message up to date: time, place, replies, or that it started or was cancelled. Once the
    meeting is over (its record posted, or closed without one), the chair's panel in its thread says so too.
    `strict` (the outbox): Slack failing (a 5xx, rate limits past the client's retries) is raised, to be retried."""
    message = panel = None
    with deps.session() as session:
        meeting = session.get(Meeting, meeting_id)
        if meeting is None:
            return
        if meeting.message_ts:
            replies = meetings.attendance(session, meeting.id)
            people = {m.id: m for m in cases.members(session, meeting.case_id)}
            attending = [people[i] for i, s in replies.items() if s == AttendanceStatus.ATTENDING and i in people]
            apologies = [people[i] for i, s in replies.items() if s == AttendanceStatus.APOLOGIES and i in people]
            if note is None and meeting.status == MeetingStatus.SCHEDULED and any(
                    change.kind == "moved" for change in meetings.changes(session, meeting.id)):
                note = "This meeting was moved. The reason is in the thread."
            message = meeting_blocks.meeting_message(meeting=meeting, chair=_chair(session, meeting), tz=deps.tz,
                                                     case_id=meeting.case_id, attending=attending,
                                                     apologies=apologies, note=note)
        if meeting.chair_panel_ts and meeting.status in (MeetingStatus.ENDED, MeetingStatus.ENDED_WITHOUT_RECORD):
            chair_id = meetings.chair_id_of(meeting)
            panel = meeting_blocks.chair_panel(case_id=meeting.case_id, meeting=meeting,
                                               chair=session.get(Member, chair_id) if chair_id else None)
        # the panel is in the meeting's thread, or in the case channel when the meeting had no message (post_in_thread)
        channel = meeting.channel_id or session.get(Case, meeting.case_id).channel_id
        ts, panel_ts = meeting.message_ts, meeting.chair_panel_ts
    for what, at, update in (("meeting", ts, message), ("chair's panel of meeting", panel_ts, panel)):
        if update is None:
            continue
        try:
            client.chat_update(channel=channel, ts=at, **update)
        except SLACK_FAILED as error:
            if strict and (not isinstance(error, SlackApiError) or error.response.status_code >= 429):
                raise  # the outbox tries again
            code = error.response.get("error") if isinstance(error, SlackApiError) else type(error).__name__
            log.info("could not refresh the %s %s: %s", what, meeting_id, code)


def post_in_thread(client: WebClient, case: Case, meeting: Meeting, message: dict, *, broadcast: bool = False,
                   notify: str | None = None) -> dict | None:
    """Post in the meeting's thread (also in the channel when `broadcast`); the channel if there is no thread.
    If Slack does not take it, the person who acted (`notify`, a user id) is told privately."""
    kwargs = dict(message)
    if meeting.message_ts:
        kwargs.update(thread_ts=meeting.message_ts, reply_broadcast=broadcast or None)
    channel = meeting.channel_id or case.channel_id
    try:
        return client.chat_postMessage(channel=channel, **kwargs).data
    except SLACK_FAILED as error:
        code = error.response.get("error") if isinstance(error, SlackApiError) else type(error).__name__
        log.warning("could not post in meeting %s's thread: %s", meeting.id, code)
        if notify:
            access.tell_in_channel(client, channel, notify, access.NOT_CONFIRMED)
        return None


# --- moving and cancelling --------------------------------------------------------------------


def _scheduled_meeting(deps: Deps, case_id: int, meeting_id) -> Meeting | None:
    with deps.session() as session:
        meeting = meetings.get_for_case(session, case_id, meeting_id)
    return meeting if meeting is not None and meeting.status == MeetingStatus.SCHEDULED else None


def change_clicked(body: dict, client: WebClient, respond, deps: Deps, build) -> None:
    choice = access.button_value(body)
    checked = access.check_click(deps, body, client, choice.get("c"), respond)
    if checked is None:
        return
    case, _member = checked
    meeting = _scheduled_meeting(deps, case.id, choice.get("m"))
    if meeting is None:
        access.tell(client, body, NOT_SCHEDULED, respond)
        return
    client.views_open(trigger_id=body["trigger_id"], view=build(case_id=case.id, meeting=meeting, tz=deps.tz))


def _checked_meeting(ack, body: dict, deps: Deps, title: str):
    checked = access.check_submission(deps, ack, body, title=title)
    if checked is None:
        return None
    case, member = checked
    meeting = _scheduled_meeting(deps, case.id, access.metadata(body).get("m"))
    if meeting is None:
        ack(response_action="update", view=access.notice_view(title, NOT_SCHEDULED))
        return None
    return case, member, meeting


def submit_move(ack, body: dict, client: WebClient, deps: Deps) -> None:
    checked = _checked_meeting(ack, body, deps, "Move the meeting")
    if checked is None:
        return
    case, member, meeting = checked
    raw = forms.values(body)
    errors: dict[str, str] = {}
    calendar, now = calendar_for(deps), deps.now()
    start = read_start(raw, calendar, now, errors)
    location = forms.text(raw.get(Block.LOCATION), Block.LOCATION, errors, required=True,
                          limit=meeting_blocks.MAX_LOCATION, what="the place or call link")
    reason = forms.text(raw.get(Block.REASON), Block.REASON, errors, required=True,
                        limit=meeting_blocks.MAX_REASON, what="the reason")
    if not errors:
        with deps.session() as session:
            warn_once(session, body, meetings.deadline_warning(calendar, case=case, start=start,
                                                               first=meeting.number == 1), start, errors)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    if not jargon_gate(ack, body, deps, fields=[Block.REASON]):
        return
    old_start = meeting.scheduled_start
    try:
        with deps.session() as session:
            if not audit.claim_once(session, f"view:{body['view']['id']}"):
                ack()
                return
            meeting = meetings.move(session, meeting=session.get(Meeting, meeting.id), start=start, reason=reason,
                                    location=location, actor=access.actor_of(body), now=now)
            outline = outbox_rows.family_outline(session, meeting=meeting, now=now, moved=True)  # with the new time
    except DomainError as error:
        ack(response_action="errors", errors=_errors_from(error))
        return
    ack()
    post_in_thread(client, case, meeting, meeting_blocks.moved_post(meeting=meeting, mover=member, old_start=old_start,
                                                                    reason=reason, tz=deps.tz), broadcast=True,
                   notify=access.actor_of(body).user_id)
    refresh_meeting_message(client, deps, meeting.id)
    outbox.send_all_now(deps, client, [outline])  # the family's outline again, with the new time


def submit_cancel(ack, body: dict, client: WebClient, deps: Deps) -> None:
    checked = _checked_meeting(ack, body, deps, "Cancel the meeting")
    if checked is None:
        return
    case, member, meeting = checked
    errors: dict[str, str] = {}
    reason = forms.text(forms.values(body).get(Block.REASON), Block.REASON, errors, required=True,
                        limit=meeting_blocks.MAX_REASON, what="the reason")
    if errors:
        ack(response_action="errors", errors=errors)
        return
    if not jargon_gate(ack, body, deps, fields=[Block.REASON]):
        return
    try:
        with deps.session() as session:
            if not audit.claim_once(session, f"view:{body['view']['id']}"):
                ack()
                return
            meeting = meetings.cancel(session, meeting=session.get(Meeting, meeting.id), reason=reason,
                                      actor=access.actor_of(body), now=deps.now())
    except DomainError as error:
        ack(response_action="errors", errors=_errors_from(error, Block.REASON))
        return
    ack()
    post_in_thread(client, case, meeting, meeting_blocks.cancelled_post(meeting=meeting, canceller=member,
                                                                        reason=reason, tz=deps.tz), broadcast=True,
                   notify=access.actor_of(body).user_id)
    refresh_meeting_message(client, deps, meeting.id)


def register(app: App, deps: Deps) -> None:
    deps.commands.add(SubCommand("schedule", "Arrange the next meeting: date, time, place and chair",
                                 show_schedule, aliases=("meeting",)))

    @app.action(Action.MEETING_BOOK)
    def book_clicked(ack, body, client, respond):
        """"Book the next meeting": the schedule form, as `/coregroup schedule`, from any organisation."""
        ack()
        start_from_button(deps, "schedule", body, client, respond, access.button_value(body).get("c"))

    @app.action(Action.MEETING_MOVE)
    def move_clicked(ack, body, client, respond):
        ack()
        change_clicked(body, client, respond, deps, meeting_blocks.move_modal)

    @app.action(Action.MEETING_CANCEL)
    def cancel_clicked(ack, body, client, respond):
        ack()
        change_clicked(body, client, respond, deps, meeting_blocks.cancel_modal)

    @app.view(View.SCHEDULE)
    def scheduled(ack, body, client):
        submit_schedule(ack, body, client, deps)

    @app.view(View.MEETING_MOVE)
    def moved(ack, body, client):
        submit_move(ack, body, client, deps)

    @app.view(View.MEETING_CANCEL)
    def cancelled(ack, body, client):
        submit_cancel(ack, body, client, deps)
