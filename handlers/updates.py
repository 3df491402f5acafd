"""`/coregroup update` and the meeting buttons: Attending, Send apologies, Send my update.

"If you are a member of a core group and you cannot attend the meeting, then you should ensure the
chair has an update from you." Every button works from the channel, a direct message (reminders)
and the App Home. Updates are taken until the meeting starts; each submission is a new version.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session

from handlers import access, forms, outbox
from handlers import journal as journal_handlers
from handlers.blocks import kit
from handlers.blocks import updates as update_blocks
from handlers.blocks.meetings import when_text
from handlers.blocks.updates import TEXT_FIELDS, block_for
from handlers.commands import Invocation, SubCommand
from handlers.deps import Deps
from handlers.home import refresh_home_later
from handlers.ids import Action, Block, View
from handlers.meetings import refresh_meeting_message
from handlers.plain import jargon_gate
from models import audit, cases, journal, meetings
from models import outbox as models_outbox
from models.audit import Actor
from models.cases import DomainError
from models.ledger import Kind
from models.meetings import long_date
from models.tables import Action as ActionRow
from models.tables import AttendanceStatus, Case, Meeting, MeetingStatus, Member, MemberStatus, Update
from models.updates import TOO_LATE, ProgressIn, ScoreIn, UpdateIn, own_open_actions, progress_of, save_update
from models.updates import standing_questions as scaling_questions

log = logging.getLogger(__name__)

NO_MEETING = ("No meeting is scheduled yet, so there is nothing to send an update for. When the next meeting is"
              " arranged (anyone in the group can, with *Book the next meeting* on the pinned message in the case"
              " channel), you can send your update for it.")
SAVED_ELSEWHERE = ("Another update from you was saved at the same moment, so this one was not. Open the form"
                   " again to see what was saved and change it if you need to.")
NOT_SAVED = ("Sorry, your update was not saved because of a problem on our side. Please open the form again and"
             " send it once more; anything you sent before is unchanged.")
CANCELLED = "This meeting was cancelled. Send your update for the next meeting when it is arranged."


def _unavailable(status: str | None) -> str | None:
    """Why no update can be sent for a meeting in this state (None: there is no such meeting), or None."""
    if status is None:
        return NO_MEETING
    if status == MeetingStatus.CANCELLED:
        return CANCELLED
    if status != MeetingStatus.SCHEDULED:
        return TOO_LATE
    return None


def _since(session: Session, case: Case, meeting: Meeting, tz) -> str:
    last = meetings.previous_ended(session, case.id, before=meeting)
    if last is not None:
        return f"the last meeting ({long_date(last.scheduled_start.astimezone(tz).date())})"
    return f"the initial conference ({long_date(case.initial_conference_date)})"


def update_view(deps: Deps, *, case_id: int, member_id: int, meeting_id=None, apologies: bool = False
                ) -> tuple[dict, int | None]:
    """The update form (and the meeting's id), or a notice saying why there is none to fill in."""
    with deps.session() as session:
        case = cases.get_case(session, case_id)
        member = session.get(Member, member_id)
        if case is None or member is None or member.case_id != case_id or member.status != MemberStatus.ACTIVE:
            return access.notice_view("Your update", access.NOT_A_MEMBER), None
        meeting = (meetings.get_for_case(session, case_id, meeting_id) if meeting_id is not None
                   else meetings.upcoming(session, case_id))
        why_not = _unavailable(meeting.status if meeting else None)
        if why_not:
            return access.notice_view("Your update", why_not), None
        previous = meetings.latest_update(session, meeting.id, member.id)
        progress = {p.action_id: p for p in progress_of(session, previous.id)} if previous else {}
        reply = "apologies" if apologies else meetings.attendance(session, meeting.id).get(member.id)
        view = update_blocks.update_modal(
            case_id=case_id, meeting=meeting, tz=deps.tz, since=_since(session, case, meeting, deps.tz),
            actions=own_open_actions(session, case_id, member.id), questions=scaling_questions(session, case_id),
            previous=previous, previous_progress=progress, reply=reply,
        )
        return view, meeting.id


def open_update_modal(deps: Deps, client: WebClient, *, trigger_id: str, case_id: int, member_id: int,
                      meeting_id: int | None = None, apologies: bool = False) -> None:
    """Open the member's update form for the meeting (the next one when not given).

    With `apologies`, their apologies are recorded as soon as the form is open, so the chair knows even
    if the update itself never comes (and the follow-up reminder can ask for it).
    """
    view, open_meeting = update_view(deps, case_id=case_id, member_id=member_id, meeting_id=meeting_id,
                                     apologies=apologies)
    client.views_open(trigger_id=trigger_id, view=view)
    if apologies and open_meeting is not None:
        record_reply(deps, client, meeting_id=open_meeting, member_id=member_id, status=AttendanceStatus.APOLOGIES)


def record_reply(deps: Deps, client: WebClient, *, meeting_id: int, member_id: int, status: str) -> bool:
    """Attending or apologies, before the meeting; False if the meeting is no longer taking replies."""
    with deps.session() as session:
        meeting = session.get(Meeting, meeting_id)
        member = session.get(Member, member_id)
        if meeting is None or meeting.status != MeetingStatus.SCHEDULED:
            return False
        actor = Actor(team_id=member.slack_team_id, user_id=member.slack_user_id)
        meetings.set_attendance(session, meeting=meeting, member=member, status=status, actor=actor, now=deps.now())
    refresh_meeting_message(client, deps, meeting_id)
    refresh_home_later(deps, client, member.slack_team_id, member.slack_user_id)
    return True


# --- reading the form -------------------------------------------------------------------------


def _ids(raw: dict, *prefixes: str) -> list[int]:
    """The record ids in the form's per-record block ids ("update_action_status_12") with these prefixes."""
    found = set()
    for key in raw:
        prefix, _, tail = key.rpartition("_")
        if prefix in prefixes and tail.isdigit():
            found.add(int(tail))
    return sorted(found)


def read_update(raw: dict) -> tuple[UpdateIn, dict[str, str]]:
    errors: dict[str, str] = {}
    attending = raw.get(Block.UPDATE_ATTENDING)
    if attending not in ("attending", "apologies"):
        errors[Block.UPDATE_ATTENDING] = "Please say whether you can come."
    texts = {attr: forms.text(raw.get(block), block, errors, limit=update_blocks.MAX_TEXT, what="this answer")
             for block, _label, attr, _hint in TEXT_FIELDS}
    child_seen, seen_alone = raw.get(Block.UPDATE_CHILD_SEEN) or "", raw.get(Block.UPDATE_SEEN_ALONE) or ""
    if seen_alone == "yes" and child_seen in ("no", "not_applicable"):
        errors[Block.UPDATE_SEEN_ALONE] = "If the child was not seen, they were not seen alone either."
    progress: list[ProgressIn] = []
    for action_id in _ids(raw, Block.UPDATE_ACTION_STATUS, Block.UPDATE_ACTION_NOTE):
        status_block = block_for(Block.UPDATE_ACTION_STATUS, action_id)
        note_block = block_for(Block.UPDATE_ACTION_NOTE, action_id)
        status = raw.get(status_block)
        note = forms.text(raw.get(note_block), note_block, errors, limit=update_blocks.MAX_NOTE, what="the note")
        if note and not status:
            errors[status_block] = "Please choose done, on track or delayed for this note."
        if status == "delayed" and not note:
            errors[note_block] = "Please say what is holding it up."
        if status:
            progress.append(ProgressIn(action_id=action_id, status=status, note=note))
    scores: list[ScoreIn] = []
    for question_id in _ids(raw, Block.UPDATE_SCORE, Block.UPDATE_SCORE_REASON, Block.UPDATE_SCORE_UP):
        score_block = block_for(Block.UPDATE_SCORE, question_id)
        reason_block = block_for(Block.UPDATE_SCORE_REASON, question_id)
        up_block = block_for(Block.UPDATE_SCORE_UP, question_id)
        score = access.int_or_none(raw.get(score_block))
        reason = forms.text(raw.get(reason_block), reason_block, errors, limit=update_blocks.MAX_SCORE_TEXT,
                            what="the reason")
        to_move_up = forms.text(raw.get(up_block), up_block, errors, limit=update_blocks.MAX_SCORE_TEXT,
                                what="this answer")
        if score is not None and not reason:
            errors[reason_block] = "Please say why you gave that score."
        if score is None and (reason or to_move_up):
            errors[score_block] = "Please choose a score from 0 to 10, or leave the reason empty."
        if score is not None:
            scores.append(ScoreIn(question_id=question_id, score=score, reason=reason, to_move_up=to_move_up))
    update_in = UpdateIn(attending=attending == "attending", child_seen=child_seen, seen_alone=seen_alone,
                         progress=progress, scores=scores, **texts)
    return update_in, errors


def jargon_fields(raw: dict) -> list[str]:
    """Every free-text field of the form, for the plain-language check."""
    fixed = [block for block, *_ in TEXT_FIELDS]
    per_record = [block_for(prefix, record_id)
                  for prefix in (Block.UPDATE_ACTION_NOTE, Block.UPDATE_SCORE_REASON, Block.UPDATE_SCORE_UP)
                  for record_id in _ids(raw, prefix)]
    return fixed + per_record


# --- saving and posting -----------------------------------------------------------------------


def check_update(ack, body: dict, deps: Deps) -> str | None:
    """Check a submitted update and answer Slack: the form's errors, a notice, the plain-language suggestions, or
    (when all is well) a plain acknowledgement once the form is in the journal. Returns its journal key, or None
    when there is nothing to save. One read and one insert: it runs before the answer, often for many people at
    once."""
    standing = access.check_standing(deps, ack, body, meeting_id=access.metadata(body).get("m"), title="Your update")
    if standing is None:
        return None
    why_not = _unavailable(standing.meeting_status)
    if why_not:
        ack(response_action="update", view=access.notice_view("Your update", why_not))
        return None
    raw = forms.values(body)
    _update_in, errors = read_update(raw)
    if errors:
        ack(response_action="errors", errors=errors)
        return None
    if not jargon_gate(ack, body, deps, fields=jargon_fields(raw), values=raw):
        return None
    # Everything the person could correct in the form has been checked. Before a meeting many people send their
    # updates at once, and saving (with the reminders it changes) is the slow part: the form is taken down in the
    # journal (one insert, committed), answered, and saved from the journal after the answer, so that what the
    # person is told was saved survives a crash. What can still stop the save is a race (the meeting started, or
    # another of their forms was saved a moment ago): they are told privately.
    actor = access.actor_of(body)
    key = f"view:{body['view']['id']}"
    journal.write(deps.engine, key=key, kind=JOURNAL_KIND, payload={
        "raw": raw, "case": standing.case_id, "channel": standing.channel_id, "member": standing.member_id,
        "meeting": standing.meeting_id, "team": actor.team_id, "user": actor.user_id})
    ack()
    return key


JOURNAL_KIND = "update"


@journal_handlers.processor(JOURNAL_KIND)
def save_from_journal(client: WebClient, deps: Deps, key: str) -> bool:
    """Save a journalled update (exactly once: the entry is taken in the saving transaction), then post it in the
    meeting's thread through the outbox. False if the entry was processed already."""
    told = None
    try:
        with deps.session() as session:
            taken = journal.take(session, key=key, now=deps.now())
            if taken is None:
                return False
            entry_id, _kind, entry = taken
            update_in, _errors = read_update(entry["raw"])  # checked before the answer
            actor = Actor(team_id=entry["team"], user_id=entry["user"])
            meeting_id = entry["meeting"]
            posts: list[str] = []
            outcome = "saved"
            try:
                with session.begin_nested():
                    if audit.claim_once(session, key):
                        update = save_update(session, meeting=session.get(Meeting, meeting_id),
                                             member=session.get(Member, entry["member"]), update_in=update_in,
                                             actor=actor, now=deps.now())
                        posts.append(models_outbox.update_post(
                            session, case_id=entry["case"], meeting_id=meeting_id, update_id=update.id,
                            scored=len(update_in.scores), now=deps.now(), notify=actor.user_id))
                        log.info("update %s for meeting %s", update.id, meeting_id)
                    else:
                        outcome = "duplicate"
            except DomainError as error:
                outcome, told = "refused", f"Your update was not saved. {error}"
            except IntegrityError:  # another version from the same person was saved at the same moment
                outcome, told = "clash", SAVED_ELSEWHERE
            journal.set_outcome(session, entry_id, outcome)
    except SQLAlchemyError as error:  # the database failed: the entry stays in the journal and is saved later
        log.error("update for entry %s not saved yet: %s", key, type(error).__name__)
        return False
    if told:
        access.tell_in_channel(client, entry["channel"], actor.user_id, told)
        return True
    outbox.send_all_now(deps, client, posts)
    refresh_meeting_message(client, deps, meeting_id)
    refresh_home_later(deps, client, actor.team_id, actor.user_id)  # "updates asked of you" has changed
    return True


def answer_update(ack, body: dict, client: WebClient, deps: Deps) -> None:
    """Check and answer a submitted update; if it is to be saved, save it (from the journal) after the answer."""
    key = check_update(ack, body, deps)
    if key is not None:
        deps.later(save_from_journal, client, deps, key)


def update_messages(session: Session, update: Update, *, scored: int = 0, as_sent: bool = True) -> list[dict]:
    """The update as chat.postMessage arguments: the first message and any continuations.

    `as_sent` says when it replaces an earlier version (as posted on saving); without it, the update
    reads as the record (the latest version only)."""
    member = session.get(Member, update.member_id)
    meeting = session.get(Meeting, update.meeting_id)
    progress = [(session.get(ActionRow, item.action_id), item) for item in progress_of(session, update.id)]
    blocks = update_blocks.update_blocks(update=update, member=member, meeting=meeting, progress=progress,
                                         scored=scored, replaces=as_sent and update.version > 1)
    text = update_blocks.update_fallback(member, meeting)
    return [{"text": text, "blocks": group} for group in kit.split_messages(blocks)]


@outbox.sender(Kind.UPDATE_POST, unconfirmed=access.NOT_CONFIRMED)
def post_update(job: outbox.Job) -> None:
    """A saved update in the meeting's thread (each message once, resumed after a crash), and where it is."""
    deps, detail = job.deps, job.detail
    with deps.session() as session:
        update = session.get(Update, detail["update"])
        meeting = session.get(Meeting, update.meeting_id)
        case = session.get(Case, meeting.case_id)
        messages = update_messages(session, update, scored=detail.get("scored") or 0)
        channel, thread = meeting.channel_id or case.channel_id, meeting.message_ts
    first = None
    for part, message in enumerate(messages):
        _channel, ts = job.post(channel=channel, message=message, part=part, thread_ts=thread)
        first = first or ts
    with deps.session() as session:
        update = session.get(Update, detail["update"])
        update.message_ts = first
        session.add(update)


# --- entry points -----------------------------------------------------------------------------


def update_command(inv: Invocation) -> None:
    if inv.trigger_id:
        open_update_modal(inv.deps, inv.client, trigger_id=inv.trigger_id, case_id=inv.case.id,
                          member_id=inv.member.id)


def attending_clicked(body: dict, client: WebClient, respond, deps: Deps) -> None:
    choice = access.button_value(body)
    checked = access.check_click(deps, body, client, choice.get("c"), respond)
    if checked is None:
        return
    case, member = checked
    with deps.session() as session:
        meeting = meetings.get_for_case(session, case.id, choice.get("m"))
    why_not = _unavailable(meeting.status if meeting else None)
    if why_not or not record_reply(deps, client, meeting_id=meeting.id, member_id=member.id,
                                   status=AttendanceStatus.ATTENDING):
        access.tell(client, body, why_not or TOO_LATE, respond)
        return
    access.tell(client, body, f"Thank you: you are down as attending core group meeting {meeting.number},"
                              f" {when_text(meeting, deps.tz)}. If you cannot come after all, press Send apologies.",
                respond)


class AnswerOnArrival(Middleware):
    """Check the update form, answer, and leave the save for after the answer, all on the request's own thread, as
    `/coregroup` commands are answered: Bolt returns the answer given here without scheduling the listener, which
    would only wait its turn on Bolt's pool (shared with everyone else's requests) to hand the save on. If the
    check itself fails (the database is down, say), the listener runs it again, where the app's error handler
    turns the failure into an error shown in the form. (A Middleware object, called as it is: a function would
    have its arguments looked up by name on every request.)"""

    def __init__(self, deps: Deps):
        self.deps = deps

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
                ) -> BoltResponse | None:
        ack = req.context.ack
        try:
            answer_update(ack, req.body, req.context.client, self.deps)
        except Exception as error:  # answered by the listener instead; see above
            log.warning("update form left to the listener: %s", type(error).__name__)
            return next()
        if ack.response is None:  # every path through check_update answers; if one did not, the listener will
            return next()
        return ack.response


def register(app: App, deps: Deps) -> None:
    deps.commands.add(SubCommand("update", "Send your update for the next meeting, especially if you cannot come",
                                 update_command))

    # The form first: Bolt tries listeners in order, and everyone sends it in the minutes before a meeting.
    @app.view(View.UPDATE, middleware=[AnswerOnArrival(deps)])
    def update_submitted(ack, body, client):
        answer_update(ack, body, client, deps)

    def open_from_button(body, client, respond, *, apologies: bool, with_meeting: bool = True):
        choice = access.button_value(body)
        checked = access.check_click(deps, body, client, choice.get("c"), respond)
        if checked is None:
            return
        case, member = checked
        open_update_modal(deps, client, trigger_id=body["trigger_id"], case_id=case.id, member_id=member.id,
                          meeting_id=choice.get("m") if with_meeting else None, apologies=apologies)

    @app.action(Action.ATTENDING)
    def attending(ack, body, client, respond):
        ack()
        attending_clicked(body, client, respond, deps)

    @app.action(Action.SEND_APOLOGIES)
    def apologies(ack, body, client, respond):
        ack()
        open_from_button(body, client, respond, apologies=True)

    @app.action(Action.SEND_UPDATE)
    def send_update(ack, body, client, respond):
        ack()
        open_from_button(body, client, respond, apologies=False)

    @app.action(Action.HERE_UPDATE)
    def here_update(ack, body, client, respond):
        ack()
        open_from_button(body, client, respond, apologies=False, with_meeting=False)
