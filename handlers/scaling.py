"""`/coregroup scale`: the chair asks a scaling question, everyone scores privately, the chair shows the
scores together.

The channel message says who has scored, never what, until the chair presses "Show the scores".
"""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers import access, case_post, forms, outbox
from handlers.blocks import scaling as scaling_blocks
from handlers.commands import Invocation, SubCommand, start_from_button
from handlers.deps import Deps
from handlers.ids import Action, Block, View
from handlers.plain import jargon_gate
from models import audit, cases, current_meeting, plan, scaling
from models import outbox as models_outbox
from models.cases import DomainError
from models.ledger import Kind
from models.tables import (
    Case,
    Child,
    Meeting,
    MeetingStatus,
    Member,
    PlanItem,
    PlanItemKind,
    ScalingQuestion,
    ScalingRound,
)

log = logging.getLogger(__name__)

NO_MEETING = ("Scaling questions are asked during a meeting. When the chair has started it (“Start the meeting” on"
              " the meeting's message, or `/coregroup start`), ask again.")
CHAIR_ONLY = ("Only the chair of the meeting (or the lead social worker) can ask a scaling question. When they"
              " do, a message with a “Give my score” button appears in the channel.")
REVEAL_CHAIR_ONLY = "Only the chair of the meeting (or the lead social worker) can show the scores."
MEETING_OVER = "This meeting has ended, so its scores can no longer be changed."
GONE = "I could not find that scaling question for this case."
NOBODY_YET = "No one has scored yet. Give people a moment, then show the scores."
ASKED_ALREADY = "This question has already been asked at this meeting. Its message is in the channel."
FIELDS = {"question": Block.SCALE_QUESTION, "zero": Block.SCALE_ZERO, "ten": Block.SCALE_TEN,
          "child": Block.SCALE_CHILD, "danger": Block.SCALE_DANGER, "goal": Block.SCALE_GOAL}


def _posted_here(session, meeting_id: int) -> set[int]:
    return {r.question_id for r in scaling.rounds_for_meeting(session, meeting_id) if r.message_ts}


def start_scale(inv: Invocation) -> None:
    with inv.deps.session() as session:
        meeting = current_meeting.in_progress(session, inv.case.id)
        if meeting is None:
            inv.reply(NO_MEETING)
            return
        if not current_meeting.is_chair(session, meeting, inv.member):
            inv.reply(CHAIR_ONLY)
            return
        asked = _posted_here(session, meeting.id)
        view = scaling_blocks.ask_modal(
            case_id=inv.case.id, meeting_id=meeting.id, children=cases.children(session, inv.case.id),
            dangers=plan.items(session, inv.case.id, PlanItemKind.DANGER),
            questions=[q for q in scaling.standing_questions(session, inv.case.id) if q.id not in asked])
    case_post.open_view(inv.client, inv.body, inv.trigger_id, view)


def _meeting_for(session, case: Case, meta_meeting) -> Meeting | None:
    """The meeting in the form, if it is still the one in progress."""
    meeting = current_meeting.in_progress(session, case.id)
    if meeting is None or meeting.id != access.int_or_none(meta_meeting):
        return None
    return meeting


def _details(session, question: ScalingQuestion) -> dict:
    child = session.get(Child, question.child_id) if question.child_id else None
    danger = session.get(PlanItem, question.plan_item_id) if question.plan_item_id else None
    return {"child_label": child.label if child else None, "danger_text": danger.text if danger else None}


def submit_ask(ack, body: dict, client: WebClient, deps: Deps) -> None:
    checked = access.check_submission(deps, ack, body, title="Scaling question")
    if checked is None:
        return
    case, chair = checked
    raw = forms.values(body)
    with deps.session() as session:
        meeting = _meeting_for(session, case, access.metadata(body).get("m"))
        if meeting is None or not current_meeting.is_chair(session, meeting, chair):
            ack(response_action="update", view=access.notice_view(
                "Scaling question", NO_MEETING if meeting is None else CHAIR_ONLY))
            return
        meeting_id = meeting.id
        existing_id = access.int_or_none(raw.get(Block.SCALE_EXISTING))
        typed = (raw.get(Block.SCALE_QUESTION) or "").strip()
        if existing_id and typed:
            ack(response_action="errors", errors={Block.SCALE_QUESTION: "Choose a question asked before, or write"
                                                  " a new one, not both."})
            return
        if existing_id:
            question = session.get(ScalingQuestion, existing_id)
            if question is None or question.case_id != case.id:
                ack(response_action="errors", errors={Block.SCALE_EXISTING: GONE})
                return
            if question.id in _posted_here(session, meeting_id):
                ack(response_action="errors", errors={Block.SCALE_EXISTING: ASKED_ALREADY})
                return
    if not existing_id and not jargon_gate(ack, body, deps, fields=[Block.SCALE_QUESTION, Block.SCALE_ZERO,
                                                              Block.SCALE_TEN]):
        return
    with deps.session() as session:
        if not audit.claim_once(session, f"view:{body['view']['id']}"):
            ack()
            return
        actor = access.actor_of(body)
        if not existing_id:
            try:
                goal = raw.get(Block.SCALE_GOAL)
                question = scaling.ask(
                    session, case_id=case.id, question=typed, zero_means=raw.get(Block.SCALE_ZERO) or "",
                    ten_means=raw.get(Block.SCALE_TEN) or "",
                    child_id=access.int_or_none(raw.get(Block.SCALE_CHILD)),
                    plan_item_id=access.int_or_none(raw.get(Block.SCALE_DANGER)),
                    standing=scaling_blocks.STANDING in (raw.get(Block.SCALE_STANDING) or []),
                    goal=access.int_or_none(goal), member_id=chair.id, actor=actor, now=deps.now())
            except DomainError as error:
                session.rollback()
                ack(response_action="errors", errors={FIELDS.get(error.field or "", Block.SCALE_QUESTION): str(error)})
                return
        else:
            question = session.get(ScalingQuestion, existing_id)
        scaling_round = scaling.round_for(session, question_id=question.id, meeting_id=meeting_id, actor=actor)
        round_id = scaling_round.id
        # The question's message is written to the outbox with the round, and posted after the commit, once.
        key = models_outbox.scaling_question(session, case_id=case.id, meeting_id=meeting_id, round_id=round_id,
                                             now=deps.now(), notify=actor.user_id)
    ack()
    outbox.send_all_now(deps, client, [key])
    log.info("scaling round %s asked on case %s", round_id, case.id)


@outbox.sender(Kind.SCALING, unconfirmed=access.NOT_CONFIRMED)
def post_question(job: outbox.Job) -> None:
    """The scaling question's message in the case channel, once; its timestamp is recorded even when Slack's answer
    was lost (found by its metadata), since "Show the scores" redraws that message."""
    deps, round_id = job.deps, job.detail["round"]
    with deps.session() as session:
        scaling_round = session.get(ScalingRound, round_id)
        if scaling_round is None or scaling_round.message_ts:
            raise outbox.Skipped("posted_already")
        question = session.get(ScalingQuestion, scaling_round.question_id)
        case = session.get(Case, question.case_id)
        message = scaling_blocks.open_message(case_id=case.id, round_id=round_id, question=question,
                                              answered=scaling.answered(session, round_id),
                                              **_details(session, question))
    channel, ts = job.post(channel=case.channel_id, message=message)
    with deps.session() as session:
        scaling.set_message(session, round_id=round_id, channel_id=channel, ts=ts)


def _round_in_case(session, case: Case, round_id) -> tuple[ScalingRound, ScalingQuestion, Meeting] | None:
    scaling_round = session.get(ScalingRound, access.int_or_none(round_id) or 0)
    if scaling_round is None:
        return None
    question = session.get(ScalingQuestion, scaling_round.question_id)
    if question is None or question.case_id != case.id:
        return None
    return scaling_round, question, session.get(Meeting, scaling_round.meeting_id)


def give_score_clicked(ack, body: dict, client: WebClient, respond, deps: Deps) -> None:
    ack()
    choice = access.button_value(body)
    checked = access.check_click(deps, body, client, choice.get("c"), respond)
    if checked is None:
        return
    case, member = checked
    with deps.session() as session:
        found = _round_in_case(session, case, choice.get("r"))
        if found is None:
            access.tell(client, body, GONE, respond)
            return
        scaling_round, question, meeting = found
        if meeting.status != MeetingStatus.IN_PROGRESS:
            access.tell(client, body, MEETING_OVER, respond)
            return
        view = scaling_blocks.score_modal(case_id=case.id, round_id=scaling_round.id, question=question,
                                          previous=scaling.score_of(session, scaling_round.id, member.id),
                                          **_details(session, question))
    case_post.open_view(client, body, body.get("trigger_id"), view)


def redraw(client: WebClient, deps: Deps, case: Case, round_id: int) -> tuple[list[dict], str | None, str | None]:
    """Redraw the question's message: who has scored, or (once shown) everyone's scores.
    Returns what does not fit in one message (for its thread), the channel and the message ts."""
    with deps.reading() as session:
        posted = session.get(ScalingRound, round_id).message_ts
    if not posted:  # its post is still in the outbox (Slack failed, or its answer was lost): send or find it now
        outbox.send_now(deps, client, f"scaling:{round_id}:question")
    with deps.session() as session:
        scaling_round = session.get(ScalingRound, round_id)
        if not scaling_round.message_ts:
            return [], None, None
        channel, ts = scaling_round.channel_id, scaling_round.message_ts
        if scaling_round.revealed_at is None:
            question = session.get(ScalingQuestion, scaling_round.question_id)
            messages = [scaling_blocks.open_message(case_id=case.id, round_id=round_id, question=question,
                                                    answered=scaling.answered(session, round_id),
                                                    **_details(session, question))]
        else:
            messages = scaling_blocks.revealed_messages(case_id=case.id,
                                                        summary=scaling.round_summary(session, round_id))
    try:
        client.chat_update(channel=channel, ts=ts, **messages[0])
    except SlackApiError as error:
        log.warning("could not redraw scaling round %s: %s", round_id, error.response.get("error"))
        posted = case_post.post(client, channel=channel, thread_ts=None, message=messages[0], what="scaling scores")
        if posted:
            ts = posted
            with deps.session() as session:
                scaling.set_message(session, round_id=round_id, channel_id=channel, ts=ts)
    return messages[1:], channel, ts


def submit_score(ack, body: dict, client: WebClient, deps: Deps) -> None:
    checked = access.check_submission(deps, ack, body, title="Give my score")
    if checked is None:
        return
    case, member = checked
    raw = forms.values(body)
    errors: dict[str, str] = {}
    score = forms.parse_int(raw.get(Block.SCORE), Block.SCORE, errors, low=0, high=10, what="your score")
    if raw.get(Block.SCORE) in (None, ""):
        errors[Block.SCORE] = "Please choose a score from 0 to 10."
    reason = forms.text(raw.get(Block.SCORE_REASON), Block.SCORE_REASON, errors, required=True,
                        limit=scaling.MAX_REASON, what="the reason for your score")
    to_move_up = forms.text(raw.get(Block.SCORE_UP), Block.SCORE_UP, errors, limit=scaling.MAX_TO_MOVE_UP,
                            what="what would move it up")
    if errors:
        ack(response_action="errors", errors=errors)
        return
    with deps.session() as session:
        found = _round_in_case(session, case, access.metadata(body).get("r"))
        if found is None or found[2].status != MeetingStatus.IN_PROGRESS:
            ack(response_action="update", view=access.notice_view("Give my score", GONE if found is None
                                                                  else MEETING_OVER))
            return
        if not audit.claim_once(session, f"view:{body['view']['id']}"):  # the same form sent twice
            ack()
            return
        scaling_round = found[0]
        scaling.record_score(session, round_id=scaling_round.id, member_id=member.id, score=score, reason=reason,
                             to_move_up=to_move_up, actor=access.actor_of(body))
        round_id, channel = scaling_round.id, scaling_round.channel_id
    ack()
    log.info("score recorded for round %s by member %s", round_id, member.id)
    redraw(client, deps, case, round_id)
    _tell_privately(client, channel, member, "Thank you: your score is saved. It stays private until the chair"
                                             " shows everyone's scores together.")


def _tell_privately(client: WebClient, channel: str | None, member: Member, text: str) -> None:
    if not channel or not member.slack_user_id:
        return
    try:
        client.chat_postEphemeral(channel=channel, user=member.slack_user_id, text=text)
    except SlackApiError as error:
        log.info("could not confirm a score privately: %s", error.response.get("error"))


def reveal_clicked(ack, body: dict, client: WebClient, respond, deps: Deps) -> None:
    ack()
    choice = access.button_value(body)
    checked = access.check_click(deps, body, client, choice.get("c"), respond)
    if checked is None:
        return
    case, member = checked
    with deps.session() as session:
        found = _round_in_case(session, case, choice.get("r"))
        if found is None:
            access.tell(client, body, GONE, respond)
            return
        scaling_round, _question, meeting = found
        if not current_meeting.is_chair(session, meeting, member):
            access.tell(client, body, REVEAL_CHAIR_ONLY, respond)
            return
        if not scaling.scores(session, scaling_round.id):
            access.tell(client, body, NOBODY_YET, respond)
            return
        # Several clicks at the same moment: one reveals (and posts what does not fit); the rest only redraw.
        first_time = scaling.reveal(session, round_id=scaling_round.id, actor=access.actor_of(body), now=deps.now())
        round_id = scaling_round.id
        # What does not fit the question's message goes in its thread: written with the reveal, sent once.
        keys = [models_outbox.scaling_scores(session, case_id=case.id, round_id=round_id, now=deps.now())
                ] if first_time else []
    redraw(client, deps, case, round_id)
    if first_time:
        log.info("scaling round %s revealed", round_id)
        outbox.send_all_now(deps, client, keys)


class QuestionNotPosted(outbox.NotYet):
    """The revealed scores' thread has no message yet (the question's post is still in the outbox): tried later."""


@outbox.sender(Kind.SCALING_SCORES)
def post_more_scores(job: outbox.Job) -> None:
    """The revealed scores that do not fit the question's message, in its thread, each once."""
    deps, round_id = job.deps, job.detail["round"]
    with deps.session() as session:
        scaling_round = session.get(ScalingRound, round_id)
        if scaling_round is None:
            raise outbox.Skipped("no_round")
        channel, ts = scaling_round.channel_id, scaling_round.message_ts
        question = session.get(ScalingQuestion, scaling_round.question_id)
        more = scaling_blocks.revealed_messages(case_id=question.case_id,
                                                summary=scaling.round_summary(session, round_id))[1:]
    if not more:
        raise outbox.Skipped("fits_in_one")
    if not channel or not ts:
        raise QuestionNotPosted(f"round {round_id}")
    for part, message in enumerate(more):
        job.post(channel=channel, message=message, part=part, thread_ts=ts)


def register(app: App, deps: Deps) -> None:
    deps.commands.add(SubCommand("scale", "During a meeting: ask a scaling question; everyone scores privately",
                                 start_scale))

    @app.view(View.SCALE_ASK)
    def ask_submitted(ack, body, client):
        submit_ask(ack, body, client, deps)

    @app.view(View.SCALE_SCORE)
    def score_submitted(ack, body, client):
        submit_score(ack, body, client, deps)

    @app.action(Action.GIVE_SCORE)
    def give_score(ack, body, client, respond):
        give_score_clicked(ack, body, client, respond, deps)

    @app.action(Action.REVEAL)
    def reveal(ack, body, client, respond):
        reveal_clicked(ack, body, client, respond, deps)

    @app.action(Action.SCALE_START)
    def scale_clicked(ack, body, client, respond):
        ack()
        start_from_button(deps, "scale", body, client, respond, access.button_value(body).get("c"))
