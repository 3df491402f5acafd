"""The family's views and scores, recorded on their behalf (issue 12): a parent or carer without Slack tells the
lead social worker or the chair what is going well, what worries them and what would help, and scores the
standing scaling questions; the lead or the chair records it before or during the meeting. It is kept as the
family member's own update and scores, marked as recorded by that person, and shows as "given by the family,
recorded by …" in the record, the scaling message, the chart and the family version.

From a button (the family panel, the welcome message, the chair's buttons on the meeting's notice and panel), so
a chair from another organisation can do it; only the lead social worker and the meeting's chair may.
"""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient

from handlers import access, case_post, forms
from handlers.blocks import kit
from handlers.deps import Deps
from handlers.ids import Action, Block, View, input_id
from models import audit, meetings, scaling
from models import family_versions as fv
from models.cases import DomainError
from models.tables import Case, Meeting, MeetingStatus, Member
from models.updates import ScoreIn, UpdateIn

log = logging.getLogger(__name__)

NO_MEETING = ("There is no meeting booked or in progress, so there is nowhere to record the family's views. Book"
              " the next meeting first.")
NO_FAMILY = ("There is nobody from the family in this core group yet. Add the parents or carers as members first"
             " (they do not need Slack).")
MAX_VIEW = forms.MAX_FREE_TEXT  # each answer, as long as Slack lets a form's box hold
MAX_QUESTIONS = 5


def views_meeting(session, case_id: int) -> Meeting | None:
    return meetings.in_progress(session, case_id) or meetings.upcoming(session, case_id)


def views_view(*, case_id: int, meeting: Meeting, family_members: list[Member], questions: list) -> dict:
    when = "during" if meeting.status == MeetingStatus.IN_PROGRESS else "before"
    blocks = [kit.section(f"Record what a family member told you {when} meeting {meeting.number}, in their words. It"
                          " will show in the record as given by the family and recorded by you."),
              kit.input_block("Whose views", kit.select(input_id(Block.FAMILY_MEMBER),
                                                        [(m.name, str(m.id)) for m in family_members],
                                                        initial=str(family_members[0].id), placeholder="Choose who"),
                              block_id=Block.FAMILY_MEMBER)]
    for block_id, label in ((Block.FAMILY_WELL, "What is going well?"), (Block.FAMILY_WORRIES, "What worries you?"),
                            (Block.FAMILY_HELP, "What would help?")):
        blocks.append(kit.input_block(label, kit.plain_input(input_id(block_id), multiline=True, max_length=MAX_VIEW),
                                      block_id=block_id, optional=True))
    for q in questions[:MAX_QUESTIONS]:
        score_id, reason_id = f"{Block.FAMILY_SCORE}_{q.id}", f"{Block.FAMILY_SCORE_REASON}_{q.id}"
        blocks.append(kit.input_block(
            f"Their score: {kit.clip(q.question, 150)}",
            kit.select(input_id(score_id), [(str(n), str(n)) for n in range(11)], placeholder="0 to 10"),
            block_id=score_id, optional=True, hint=f"0 means {kit.clip(q.zero_means, 900)}. 10 means"
                                                   f" {kit.clip(q.ten_means, 900)}."))
        blocks.append(kit.input_block("Why that score, in their words", kit.plain_input(
            input_id(reason_id), multiline=True, max_length=scaling.MAX_REASON), block_id=reason_id, optional=True))
    return kit.modal(title="The family's views", blocks=blocks, callback_id=View.FAMILY_VIEWS,
                     private_metadata={"c": case_id, "m": meeting.id})


def open_views(deps: Deps, client: WebClient, body: dict, case: Case, member: Member, refuse) -> None:
    with deps.reading() as session:
        meeting = views_meeting(session, case.id)
        if meeting is None:
            refuse(NO_MEETING)
            return
        if not fv.may_approve(session, meeting, member):
            refuse(fv.NOT_ALLOWED)
            return
        people = fv.family_members(session, case.id)
        if not people:
            refuse(NO_FAMILY)
            return
        view = views_view(case_id=case.id, meeting=meeting, family_members=people,
                          questions=scaling.standing_questions(session, case.id))
    case_post.open_view(client, body, body.get("trigger_id"), view)


def views_clicked(body: dict, client: WebClient, respond, deps: Deps) -> None:
    value = access.button_value(body)
    checked = access.check_click(deps, body, client, value.get("c"), respond)
    if checked is not None:
        open_views(deps, client, body, *checked, refuse=lambda why: access.tell(client, body, why, respond))


def submit_views(ack, body: dict, client: WebClient, deps: Deps) -> None:
    title = "The family's views"
    checked = access.check_submission(deps, ack, body, title=title)
    if checked is None:
        return
    case, by = checked
    raw = forms.values(body)
    errors: dict[str, str] = {}
    well = forms.text(raw.get(Block.FAMILY_WELL), Block.FAMILY_WELL, errors, limit=MAX_VIEW, what="what is going well")
    worries = forms.text(raw.get(Block.FAMILY_WORRIES), Block.FAMILY_WORRIES, errors, limit=MAX_VIEW,
                         what="what worries them")
    helps = forms.text(raw.get(Block.FAMILY_HELP), Block.FAMILY_HELP, errors, limit=MAX_VIEW, what="what would help")
    scores: list[ScoreIn] = []
    with deps.reading() as session:
        meeting = meetings.get_for_case(session, case.id, access.metadata(body).get("m"))
        allowed = meeting is not None and fv.may_approve(session, meeting, by)
        people = {str(m.id): m.id for m in fv.family_members(session, case.id)}
        questions = scaling.standing_questions(session, case.id)[:MAX_QUESTIONS]
    if not allowed:
        ack(response_action="update", view=access.notice_view(title, fv.NOT_ALLOWED))
        return
    for q in questions:
        score_id, reason_id = f"{Block.FAMILY_SCORE}_{q.id}", f"{Block.FAMILY_SCORE_REASON}_{q.id}"
        score = access.int_or_none(raw.get(score_id))
        reason = forms.text(raw.get(reason_id), reason_id, errors, limit=scaling.MAX_REASON, what="the reason")
        if score is None:
            if reason:
                errors[score_id] = "Please choose their score, or clear the reason below."
            continue
        if not reason:
            errors[reason_id] = "Please write why they gave that score, in their words."
        scores.append(ScoreIn(question_id=q.id, score=score, reason=reason))
    family_id = people.get(raw.get(Block.FAMILY_MEMBER) or "")
    if family_id is None:
        errors[Block.FAMILY_MEMBER] = "Please choose whose views these are."
    if not (well or worries or helps or scores) and not errors:
        errors[Block.FAMILY_WELL] = "Please write at least one of their views, or a score."
    if errors:
        ack(response_action="errors", errors=errors)
        return
    try:
        with deps.session() as session:
            if not audit.claim_once(session, f"view:{body['view']['id']}"):
                ack()
                return
            from models import updates

            person = session.get(Member, family_id)
            updates.save_update(session, meeting=session.get(Meeting, meeting.id), member=person,
                                update_in=UpdateIn(attending=False, working_well=well, worries=worries,
                                                   needs_to_happen=helps, scores=scores),
                                actor=access.actor_of(body), now=deps.now(), recorded_by=session.get(Member, by.id))
            name = person.name
    except DomainError as error:
        ack(response_action="update", view=access.notice_view(title, str(error)))
        return
    ack(response_action="update", view=access.notice_view(
        title, f"Saved. The views{' and score' if scores else ''} of {kit.esc(name)} will show in the record of meeting"
               f" {meeting.number}, as given by the family and recorded by you."))
    log.info("family views recorded for meeting %s", meeting.id)



def register(app: App, deps: Deps) -> None:
    @app.action(Action.FAMILY_VIEWS)
    def views(ack, body, client, respond):
        ack()
        views_clicked(body, client, respond, deps)

    @app.view(View.FAMILY_VIEWS)
    def views_saved(ack, body, client):
        submit_views(ack, body, client, deps)
