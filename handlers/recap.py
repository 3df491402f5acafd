"""`/coregroup end`: the chair's outcome, a preview only the chair sees, and the record posted once approved.

The flow: the chair fills in the end-of-meeting form → the plain-language check → the record is saved
as a draft and shown to the chair alone (ephemeral), with "Post the recap" and "Change something" →
on "Post", the draft is approved (the meeting ends and the next one is booked in the same transaction)
and posted (handlers.recap_posting). Corrections follow the same path and become a new version.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import date, datetime

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers import access, forms
from handlers.blocks import kit, recap_forms
from handlers.blocks import recap as recap_blocks
from handlers.blocks.meetings import when_text
from handlers.blocks.members import who
from handlers.commands import Invocation, SubCommand
from handlers.deps import Deps
from handlers.ids import Action, Block, View
from handlers.meetings import calendar_for, post_review, read_review, warn_once
from handlers.people import look_up_names
from handlers.plain import jargon_gate
from handlers.recap_posting import acknowledged, post_and_follow_up, post_pending_recaps
from models import audit, left_open, meetings, names
from models import recap as records
from models import recap_posting as lifecycle
from models.cases import DomainError
from models.meetings import long_date
from models.tables import Case, Meeting, Member, Recap, RecapStatus

log = logging.getLogger(__name__)

__all__ = ["post_pending_recaps", "register"]

NO_MEETING = ("No meeting is in progress for this case. The chair starts one with “Start the meeting” on the"
              " meeting's message (or `/coregroup start`), and ends it with “End the meeting”"
              " (or `/coregroup end`).")
NOT_CHAIR = "Only the chair of this meeting or the lead social worker can {what}."
GONE = "I could not find that record. It may have been replaced by a newer preview."
ALREADY_POSTED = "This record has already been posted, so there is nothing more to approve."


def digest(content: str) -> str:
    """A short fingerprint of a draft, carried by the preview's buttons: what the chair saw."""
    return hashlib.sha256(content.encode()).hexdigest()[:16]


def _heading(meeting: Meeting, deps: Deps) -> str:
    return f"core group meeting {meeting.number} ({when_text(meeting, deps.tz)})"


def _chair_text(session, meeting: Meeting) -> str:
    chair_id = meetings.chair_id_of(meeting)
    chair = session.get(Member, chair_id) if chair_id else None
    return f" (the chair is {who(chair)})" if chair else ""


# --- the end-of-meeting form --------------------------------------------------------------------------


def _chosen_review(outcome: dict | None) -> date | None:
    """The new review conference date in the chair's outcome, if one was chosen."""
    chosen = (outcome or {}).get("review")
    return date.fromisoformat(chosen) if chosen else None


def end_view(deps: Deps, session, case: Case, meeting: Meeting, initial: dict | None) -> dict:
    calendar = calendar_for(deps)
    case = session.get(Case, case.id)
    booked = records.scheduled_after(session, meeting)
    booked_text = proposal = None
    if booked is not None:
        chair = session.get(Member, booked.chair_member_id) if booked.chair_member_id else None
        booked_text = when_text(booked, deps.tz) + (f", chaired by {kit.esc(names.shown(chair))}" if chair else "")
    else:
        proposal = meetings.propose(calendar, case=case, last_meeting=calendar.local(meeting.scheduled_start).date(),
                                    today=deps.today(), review_conference=_chosen_review(initial))
    suggested = meetings.suggest_chair(session, case.id)
    return recap_forms.end_modal(
        case_id=case.id, meeting_id=meeting.id, heading=_heading(meeting, deps), initial=initial,
        proposed=proposal.day if proposal else None, reasons=proposal.reasons if proposal else (),
        start_time=calendar.local(meeting.scheduled_start).time(), chairs=meetings.chairs(session, case.id),
        suggested_chair_id=suggested.id if suggested else None, booked=booked_text,
        review=case.review_conference_date, today=deps.today())


def start_end(inv: Invocation) -> None:
    """`/coregroup end`: only the chair (or the lead social worker), only while the meeting is in progress."""
    deps, case = inv.deps, inv.case
    with deps.session() as session:
        meeting = left_open.to_record(session, case.id)
        if meeting is None:
            inv.reply(NO_MEETING)
            return
        if not meetings.is_chair(session, meeting, inv.member):
            inv.reply(NOT_CHAIR.format(what="end it") + _chair_text(session, meeting) + ".")
            return
        existing = records.draft(session, meeting.id)
        initial = records.content_of(existing)["outcome"] if existing and existing.version == 1 else None
        view = end_view(deps, session, case, meeting, initial)
    if inv.trigger_id:
        inv.client.views_open(trigger_id=inv.trigger_id, view=view)
    # Names Slack has not given yet are asked for again while the chair writes, so the record can carry them.
    deps.later(look_up_names, deps, inv.client, case_id=case.id)


NEXT_NEEDED = ("The plan goes on until the review conference decides, so the core group keeps meeting: please"
               " book the next meeting. It can be left unbooked when the group recommends ending the plan.")


def _next_from_form(deps: Deps, session, meeting: Meeting, values: dict, errors: dict[str, str],
                    recommendation: str | None) -> dict | None:
    """The next meeting the chair chose: None when one is booked already, or when the chair leaves it unbooked
    (only with a recommendation to end the plan). Errors go on the fields."""
    if records.scheduled_after(session, meeting) is not None:
        return None
    not_now = recap_forms.leave_unbooked(values)
    if not_now or not values.get(Block.RECAP_NEXT_DATE):
        if recommendation in recap_forms.KEEPS_MEETING:
            errors[recap_forms.NO_NEXT_BLOCK if not_now else Block.RECAP_NEXT_DATE] = NEXT_NEEDED
        return None
    calendar = calendar_for(deps)
    day = forms.parse_date(values.get(Block.RECAP_NEXT_DATE), Block.RECAP_NEXT_DATE, errors)
    clock = forms.parse_time(values.get(Block.RECAP_NEXT_TIME), Block.RECAP_NEXT_TIME, errors)
    chair_id = access.int_or_none(values.get(Block.RECAP_NEXT_CHAIR))
    if chair_id is not None:
        chair = session.get(Member, chair_id)
        if chair is None or chair.case_id != meeting.case_id or not meetings.can_chair(chair):
            errors[Block.RECAP_NEXT_CHAIR] = meetings.CHAIR_WHO
    if day is None or clock is None:
        return None
    start = calendar.at(day, clock)
    problem = meetings.check_start(calendar, start=start, now=deps.now())
    if problem:
        errors[Block.RECAP_NEXT_DATE] = problem
        return None
    return {"start": start.isoformat(), "duration": meeting.duration_minutes, "location": meeting.location,
            "chair_member_id": chair_id}


def _outcome_errors(outcome: dict) -> dict[str, str]:
    return {recap_forms.FIELD_BLOCKS[name]: message for name, message in records.check_outcome(outcome).items()}


def submit_end(ack, body: dict, client: WebClient, deps: Deps) -> None:
    checked = access.check_submission(deps, ack, body, title="End the meeting")
    if checked is None:
        return
    case, member = checked
    values = forms.values(body)
    outcome = recap_forms.read_outcome(values)
    errors = _outcome_errors(outcome)
    with deps.session() as session:
        meeting = meetings.get_for_case(session, case.id, access.metadata(body).get("m"))
        if meeting is None or meeting.status not in left_open.RECORDABLE:
            ack(response_action="update", view=access.notice_view("End the meeting", lifecycle.NOT_IN_PROGRESS))
            return
        if not meetings.is_chair(session, meeting, member):
            ack(response_action="update", view=access.notice_view("End the meeting", NOT_CHAIR.format(what="end it")))
            return
        outcome["next"] = _next_from_form(deps, session, meeting, values, errors, outcome.get("recommendation"))
    outcome["unbooked"] = recap_forms.leave_unbooked(values)  # kept for the form's next opening
    review = read_review(values, case, deps.today(), errors)
    outcome["review"] = review.isoformat() if review else None
    if errors:
        ack(response_action="errors", errors=errors)
        return
    if outcome["next"] is not None:  # the same check as `/coregroup schedule`, before it is booked
        start = datetime.fromisoformat(outcome["next"]["start"])
        with deps.session() as session:
            warn_once(session, body, meetings.deadline_warning(calendar_for(deps), case=case, start=start,
                                                               first=False, review_conference=review),
                      start, errors, block=Block.RECAP_NEXT_DATE)
        if errors:
            ack(response_action="errors", errors=errors)
            return
    if not jargon_gate(ack, body, deps, fields=recap_forms.TEXT_BLOCKS.values()):
        return
    with deps.session() as session:
        if not audit.claim_once(session, f"view:{body['view']['id']}"):  # sent twice: one draft, one preview
            ack()
            return
        content = records.compose(session, meeting_id=meeting.id, outcome=outcome, today=deps.today(),
                                  tz=deps.settings.timezone)
        draft = records.save_version(session, meeting_id=meeting.id, content=content, member_id=member.id,
                                     actor=access.actor_of(body), now=deps.now())
        recap_id = draft.id
    ack()
    log.info("recap %s drafted for meeting %s", recap_id, meeting.id)
    show_preview(deps, client, case=case, recap_id=recap_id, user_id=access.actor_of(body).user_id)


# --- the preview and approval ------------------------------------------------------------------------


def show_preview(deps: Deps, client: WebClient, *, case: Case, recap_id: int, user_id: str | None,
                 note: str | None = None) -> None:
    """The draft as only the chair sees it: ephemeral in the case channel, or a direct message."""
    with deps.session() as session:
        recap = session.get(Recap, recap_id)
        content, check = records.content_of(recap), digest(recap.content)
        review = _chosen_review(content.get("outcome")) if recap.version == 1 else None
        current = session.get(Case, case.id).review_conference_date
    if review is not None and review != current:
        saving = f"When you post the record, the next review conference will be recorded as {long_date(review)}."
        note = f"{note} {saving}" if note else saving
    messages = recap_blocks.preview_messages(content, recap_id=recap_id, case_id=case.id, check=check, note=note)
    try:
        for message in messages:
            client.chat_postEphemeral(channel=case.channel_id, user=user_id, **message)
    except SlackApiError as error:
        log.info("preview of recap %s by direct message: %s", recap_id, error.response.get("error"))
        for message in messages:
            client.chat_postMessage(channel=user_id, **message)


def _recap_for(session, case: Case, recap_id) -> tuple[Recap, Meeting] | None:
    recap = session.get(Recap, access.int_or_none(recap_id)) if access.int_or_none(recap_id) else None
    meeting = session.get(Meeting, recap.meeting_id) if recap else None
    if recap is None or meeting is None or meeting.case_id != case.id:
        return None
    return recap, meeting


def approve_clicked(body: dict, client: WebClient, respond, deps: Deps) -> None:
    value = access.button_value(body)
    checked = access.check_click(deps, body, client, value.get("c"), respond)
    if checked is None:
        return
    case, member = checked
    actor = access.actor_of(body)
    with deps.session() as session:
        found = _recap_for(session, case, value.get("r"))
        if found is None:
            access.tell(client, body, GONE, respond)
            return
        recap, meeting = found
        if recap.status != RecapStatus.DRAFT:
            access.tell(client, body, ALREADY_POSTED, respond)
            return
        if not meetings.is_chair(session, meeting, member):
            access.tell(client, body, NOT_CHAIR.format(what="post the record"), respond)
            return
        note = None
        if digest(recap.content) != value.get("h"):
            note = "The record was changed after you looked at it (perhaps by someone else). Here it is now."
        else:
            fresh = records.rebuilt(session, recap, today=deps.today(), tz=deps.settings.timezone)
            if fresh is not None and fresh != recap.content:
                recap.content = fresh
                session.add(recap)
                audit.record(session, actor=actor, action="recap.drafted", record_type="recap", record_id=recap.id,
                             case_id=case.id, meeting_id=meeting.id, version=recap.version)
                note = "Something was recorded after you looked at the record. Please check it again."
        approved_content = recap.content
    if note:
        show_preview(deps, client, case=case, recap_id=recap.id, user_id=actor.user_id, note=note)
        return
    try:
        with deps.session() as session:
            approved = lifecycle.approve(session, recap_id=recap.id, approved_content=approved_content, actor=actor,
                                         now=deps.now())
            review = _save_review(deps, session, case, approved, actor)
    except DomainError as error:
        access.tell(client, body, f"{error} Nothing was posted.", respond)
        return
    if approved is None:
        access.tell(client, body, ALREADY_POSTED, respond)
        return
    log.info("recap %s approved", recap.id)
    _replace_preview(respond, body, "Posting the record in the channel…")
    done = post_and_follow_up(deps, client, recap.id)
    if review is not None:
        post_review(client, case, review, member, actor.user_id)
    _replace_preview(respond, body, "The record is posted in the channel." if done else
                     "The record is saved. Slack did not take it just now; it will be posted automatically in a few"
                     " minutes.")


def _save_review(deps: Deps, session, case: Case, approved: Recap | None, actor) -> date | None:
    """With the first version approved, the new review conference date the chair chose (in the same transaction
    as the meeting ending): the date when it changed, else None. Raises DomainError if it is not after today."""
    if approved is None or approved.version != 1:
        return None
    review = _chosen_review(records.content_of(approved).get("outcome"))
    if review is None:
        return None
    changed = meetings.set_review_date(session, case_id=case.id, review=review, actor=actor, now=deps.now(),
                                       today=deps.today())
    return review if changed else None


def _replace_preview(respond, body: dict, text: str) -> None:
    if not body.get("response_url"):
        return
    try:
        respond(text=text, replace_original=True, response_type="ephemeral")
    except Exception as error:  # the preview may have gone (ephemeral messages do not last)
        log.info("could not replace the preview: %s", type(error).__name__)


def edit_clicked(body: dict, client: WebClient, respond, deps: Deps) -> None:
    """"Change something": the form again, with what the chair wrote."""
    value = access.button_value(body)
    checked = access.check_click(deps, body, client, value.get("c"), respond)
    if checked is None:
        return
    case, member = checked
    with deps.session() as session:
        found = _recap_for(session, case, value.get("r"))
        if found is None or found[0].status != RecapStatus.DRAFT:
            access.tell(client, body, GONE if found is None else ALREADY_POSTED, respond)
            return
        recap, meeting = found
        if not meetings.is_chair(session, meeting, member):
            access.tell(client, body, NOT_CHAIR.format(what="change the record"), respond)
            return
        outcome = records.content_of(recap)["outcome"]
        if recap.version == 1:
            if meeting.status not in left_open.RECORDABLE:
                access.tell(client, body, lifecycle.NOT_IN_PROGRESS, respond)
                return
            view = end_view(deps, session, case, meeting, outcome)
        else:
            base = records.latest(session, meeting.id)
            view = recap_forms.correct_modal(case_id=case.id, recap_id=base.id, heading=_heading(meeting, deps),
                                             version=base.version, initial=outcome, reason=recap.correction_reason)
    client.views_open(trigger_id=body["trigger_id"], view=view)


# --- corrections -------------------------------------------------------------------------------------


def correct_clicked(body: dict, client: WebClient, respond, deps: Deps) -> None:
    value = access.button_value(body)
    checked = access.check_click(deps, body, client, value.get("c"), respond)
    if checked is None:
        return
    case, member = checked
    with deps.session() as session:
        found = _recap_for(session, case, value.get("r"))
        if found is None:
            access.tell(client, body, GONE, respond)
            return
        _recap, meeting = found
        if not meetings.is_chair(session, meeting, member):
            access.tell(client, body, NOT_CHAIR.format(what="correct the record"), respond)
            return
        current = records.latest(session, meeting.id)
        pending = records.draft(session, meeting.id)
        source = pending if pending is not None and pending.version > 1 else current
        view = recap_forms.correct_modal(case_id=case.id, recap_id=current.id, heading=_heading(meeting, deps),
                                         version=current.version, initial=records.content_of(source)["outcome"],
                                         reason=source.correction_reason if source is pending else None)
    client.views_open(trigger_id=body["trigger_id"], view=view)


def submit_correction(ack, body: dict, client: WebClient, deps: Deps) -> None:
    checked = access.check_submission(deps, ack, body, title="Correct the record")
    if checked is None:
        return
    case, member = checked
    values = forms.values(body)
    outcome = recap_forms.read_outcome(values)
    errors = _outcome_errors(outcome)
    reason = forms.text(values.get(Block.RECAP_REASON), Block.RECAP_REASON, errors, required=True,
                        limit=records.MAX_TEXT, what="what is being corrected and why")
    outcome["refresh"] = recap_forms.REFRESH in (values.get(Block.RECAP_REFRESH) or [])
    if errors:
        ack(response_action="errors", errors=errors)
        return
    with deps.session() as session:
        found = _recap_for(session, case, access.metadata(body).get("r"))
        problem = None
        if found is None:
            problem = GONE
        elif not meetings.is_chair(session, found[1], member):
            problem = NOT_CHAIR.format(what="correct the record")
        elif found[0].status != RecapStatus.POSTED or records.latest(session, found[1].id).id != found[0].id:
            problem = ("This record is still being posted, or has been corrected since you opened the form. Please"
                       " try again from the newest version.")
        if problem:
            ack(response_action="update", view=access.notice_view("Correct the record", problem))
            return
    if not jargon_gate(ack, body, deps, fields=[Block.RECAP_REASON, *recap_forms.TEXT_BLOCKS.values()]):
        return
    base, meeting = found
    with deps.session() as session:
        if not audit.claim_once(session, f"view:{body['view']['id']}"):  # sent twice: one draft, one preview
            ack()
            return
        content = records.compose(session, meeting_id=meeting.id, outcome=outcome, today=deps.today(),
                                  tz=deps.settings.timezone, previous=records.content_of(base))
        draft = records.save_version(session, meeting_id=meeting.id, content=content, member_id=member.id,
                                     actor=access.actor_of(body), now=deps.now(), correction_reason=reason)
        recap_id = draft.id
    ack()
    show_preview(deps, client, case=case, recap_id=recap_id, user_id=access.actor_of(body).user_id)


# --- "I have read this" ------------------------------------------------------------------------------


def read_clicked(body: dict, client: WebClient, respond, deps: Deps) -> None:
    value = access.button_value(body)
    checked = access.check_click(deps, body, client, value.get("c"), respond)
    if checked is None:
        return
    case, member = checked
    with deps.session() as session:
        found = _recap_for(session, case, value.get("r"))
        if found is None or found[0].status == RecapStatus.DRAFT:
            access.tell(client, body, GONE, respond)
            return
        recap = found[0]
        new = lifecycle.acknowledge(session, recap=recap, member=member, actor=access.actor_of(body), now=deps.now())
        version = recap.version
    if not new:
        access.tell(client, body, f"You have already said you read version {version} of this record.", respond)
        return
    acknowledged(deps, client, recap.id)


def register(app: App, deps: Deps) -> None:
    deps.commands.add(SubCommand("end", "End the meeting (chair): check the record, then post it", start_end))

    @app.view(View.END)
    def end_submitted(ack, body, client):
        submit_end(ack, body, client, deps)

    @app.view(View.RECAP_CORRECT)
    def correction_submitted(ack, body, client):
        submit_correction(ack, body, client, deps)

    @app.action(Action.RECAP_POST)
    def post(ack, body, client, respond):
        ack()
        approve_clicked(body, client, respond, deps)

    @app.action(Action.RECAP_EDIT)
    def edit(ack, body, client, respond):
        ack()
        edit_clicked(body, client, respond, deps)

    @app.action(Action.RECAP_CORRECT)
    def correct(ack, body, client, respond):
        ack()
        correct_clicked(body, client, respond, deps)

    @app.action(Action.RECAP_READ)
    def read(ack, body, client, respond):
        ack()
        read_clicked(body, client, respond, deps)
