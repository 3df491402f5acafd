"""The chair: their buttons, the alert when they send apologies, and choosing another chair.

Whoever chairs, from any organisation, runs the meeting from buttons (Slack does not share slash
commands across organisations): "Start the meeting" on the meeting's notice, then the chair's panel in
the meeting's thread (ask a scaling question, record a decision, add an action, end the meeting). Each
button runs the same flow as its sub-command, with the same check: only the chair and the lead social
worker; anyone else is told why, privately.

When the chair of a meeting that has not started sends apologies, the lead social worker is told at
once, privately, with buttons to chair it themselves or pick another chair: a scheduled message of its own
(ledger kind meeting.chair_apologies), planned with the apologies, so a crash after saving them cannot lose it.
"""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient

from handlers import access, forms
from handlers.actions import action_form
from handlers.blocks import meetings as meeting_blocks
from handlers.blocks.members import who
from handlers.commands import start_from_button
from handlers.deps import Deps
from handlers.ids import Action, Block, View
from handlers.meetings import post_in_thread, refresh_meeting_message
from models import audit, cases, meetings
from models.cases import DomainError
from models.tables import AttendanceStatus, Case, Meeting, MeetingStatus, Member

log = logging.getLogger(__name__)

NOT_STARTED_YET = "This meeting has not started yet. The chair starts it with “Start the meeting”."
NOT_IN_PROGRESS = "No meeting is in progress for this case, so there is nothing to add this to as the chair."
NOT_SCHEDULED = "This meeting has already started, ended or been cancelled, so its chair can no longer be changed."
LEAD_ONLY = "Only the lead social worker can take over as chair from here."
PICK_WHO = ("Only the lead social worker or the chair of this meeting can pick another chair. If the chair cannot"
            " come, please tell the lead social worker.")


def chair_only(chair: Member | None, what: str) -> str:
    """Why someone else cannot use a chair's button, naming the chair."""
    named = f"the chair of this meeting ({who(chair)})" if chair else "the chair of this meeting"
    return f"Only {named} or the lead social worker can {what}. If that should be you, ask the lead social worker."


# --- the chair's panel ---------------------------------------------------------------------------------


def _meeting_and_chair(deps: Deps, case: Case, meeting_id) -> tuple[Meeting | None, Member | None]:
    with deps.session() as session:
        meeting = meetings.get_for_case(session, case.id, meeting_id)
        chair_id = meetings.chair_id_of(meeting) if meeting else None
        return meeting, session.get(Member, chair_id) if chair_id else None


def chair_button(deps: Deps, body: dict, client: WebClient, respond, sub_name: str) -> None:
    """Start or end from a button: the sub-command's own flow and checks, for a chair from any organisation."""
    start_from_button(deps, sub_name, body, client, respond, access.button_value(body).get("c"))


def action_clicked(body: dict, client: WebClient, respond, deps: Deps) -> None:
    """"Add an action" on the chair's panel: the action form, for the chair or the lead social worker."""
    choice = access.button_value(body)
    checked = access.check_click(deps, body, client, choice.get("c"), respond)
    if checked is None:
        return
    case, member = checked
    meeting, chair = _meeting_and_chair(deps, case, choice.get("m"))
    if meeting is None or meeting.status != MeetingStatus.IN_PROGRESS:
        access.tell(client, body, NOT_IN_PROGRESS, respond)
        return
    with deps.session() as session:
        allowed = meetings.is_chair(session, meeting, member)
    if not allowed:
        access.tell(client, body, chair_only(chair, "use the chair's buttons") + " Anyone in the group can add an"
                    " action of their own from the list of actions.", respond)
        return
    client.views_open(trigger_id=body["trigger_id"], view=action_form(deps, case.id))


# --- the chair's apologies ----------------------------------------------------------------------------
# The alert to the lead social worker is a ledger row (models.reminders.attendance_changed, planned in the same
# transaction as the apologies), sent at once by the scheduler, exactly once (models/dispatch.py `_chair_apologies`);
# its buttons are handled here.


def _set_chair(deps: Deps, client: WebClient, *, case: Case, meeting_id: int, chair_id: int, by: Member,
               actor, once: str | None = None) -> str | None:
    """Change the chair of a meeting that has not started; the group is told in its thread. Returns why not.
    `once`: a once-only key claimed in the same transaction (a form sent twice changes it once)."""
    with deps.session() as session:
        if once and not audit.claim_once(session, once):
            return None
        meeting = meetings.get_for_case(session, case.id, meeting_id)
        if meeting is None or meeting.status != MeetingStatus.SCHEDULED:
            raise DomainError(NOT_SCHEDULED)
        was = session.get(Member, meeting.chair_member_id) if meeting.chair_member_id else None
        was_away = was is not None and meetings.attendance(session, meeting.id).get(was.id) == \
            AttendanceStatus.APOLOGIES
        chair = session.get(Member, chair_id)
        if chair is None or chair.case_id != case.id:
            raise DomainError("Please choose someone in the core group.")
        changed = meetings.change_chair(session, meeting=meeting, chair=chair, actor=actor, now=deps.now())
        message = meeting_blocks.chair_changed_post(meeting=meeting, chair=chair, by=by,
                                                    was=was if was_away else None)
    if changed:
        post_in_thread(client, case, meeting, message, broadcast=True, notify=actor.user_id)
        refresh_meeting_message(client, deps, meeting.id)
    return None


def take_clicked(body: dict, client: WebClient, respond, deps: Deps) -> None:
    """"Chair it myself": the lead social worker chairs the meeting."""
    choice = access.button_value(body)
    checked = access.check_click(deps, body, client, choice.get("c"), respond)
    if checked is None:
        return
    case, member = checked
    if not member.is_lead:
        access.tell(client, body, LEAD_ONLY, respond)
        return
    try:
        why_not = _set_chair(deps, client, case=case, meeting_id=choice.get("m"), chair_id=member.id, by=member,
                             actor=access.actor_of(body))
    except DomainError as error:
        why_not = str(error)
    access.tell(client, body, why_not or "You are now the chair of this meeting. The group has been told.", respond)


def _candidates(session, meeting: Meeting) -> list[Member]:
    apologies = {i for i, s in meetings.attendance(session, meeting.id).items() if s == AttendanceStatus.APOLOGIES}
    return [m for m in cases.professionals(session, meeting.case_id)
            if meetings.can_chair(m) and m.id not in apologies]


def pick_clicked(body: dict, client: WebClient, respond, deps: Deps) -> None:
    """"Pick another chair": the form, for the lead social worker or the chair."""
    choice = access.button_value(body)
    checked = access.check_click(deps, body, client, choice.get("c"), respond)
    if checked is None:
        return
    case, member = checked
    with deps.session() as session:
        meeting = meetings.get_for_case(session, case.id, choice.get("m"))
        if meeting is None or meeting.status != MeetingStatus.SCHEDULED:
            access.tell(client, body, NOT_SCHEDULED, respond)
            return
        if not meetings.is_chair(session, meeting, member):
            access.tell(client, body, PICK_WHO, respond)
            return
        current = session.get(Member, meeting.chair_member_id) if meeting.chair_member_id else None
        view = meeting_blocks.chair_pick_modal(case_id=case.id, meeting=meeting, tz=deps.tz,
                                               candidates=_candidates(session, meeting), current=current)
    client.views_open(trigger_id=body["trigger_id"], view=view)


def submit_pick(ack, body: dict, client: WebClient, deps: Deps) -> None:
    checked = access.check_submission(deps, ack, body, title="Pick another chair")
    if checked is None:
        return
    case, member = checked
    meeting_id = access.metadata(body).get("m")
    with deps.session() as session:
        meeting = meetings.get_for_case(session, case.id, meeting_id)
        if meeting is None or meeting.status != MeetingStatus.SCHEDULED:
            ack(response_action="update", view=access.notice_view("Pick another chair", NOT_SCHEDULED))
            return
        if not meetings.is_chair(session, meeting, member):
            ack(response_action="update", view=access.notice_view("Pick another chair", PICK_WHO))
            return
    chair_id = access.int_or_none(forms.values(body).get(Block.CHAIR))
    if chair_id is None:
        ack(response_action="errors", errors={Block.CHAIR: "Please choose the chair."})
        return
    try:
        why_not = _set_chair(deps, client, case=case, meeting_id=meeting.id, chair_id=chair_id, by=member,
                             actor=access.actor_of(body), once=f"view:{body['view']['id']}")
    except DomainError as error:
        why_not = str(error)
    if why_not:
        ack(response_action="errors", errors={Block.CHAIR: why_not})
        return
    ack()


def register(app: App, deps: Deps) -> None:
    @app.action(Action.MEETING_START)
    def start_clicked(ack, body, client, respond):
        ack()
        chair_button(deps, body, client, respond, "start")

    @app.action(Action.MEETING_END)
    def end_clicked(ack, body, client, respond):
        ack()
        chair_button(deps, body, client, respond, "end")

    @app.action(Action.CHAIR_ACTION)
    def add_action_clicked(ack, body, client, respond):
        ack()
        action_clicked(body, client, respond, deps)

    @app.action(Action.CHAIR_TAKE)
    def take(ack, body, client, respond):
        ack()
        take_clicked(body, client, respond, deps)

    @app.action(Action.CHAIR_PICK)
    def pick(ack, body, client, respond):
        ack()
        pick_clicked(body, client, respond, deps)

    @app.view(View.CHAIR_PICK)
    def picked(ack, body, client):
        submit_pick(ack, body, client, deps)
