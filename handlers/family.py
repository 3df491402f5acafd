"""The family's part: the family version (prepared, approved, given), and the family's own views and scores.

- After a record is posted, the lead social worker (or the chair, when the lead has no Slack) is asked in a
  direct message to prepare the family version (`ask_to_prepare`). The form shows each section as the family
  will read it, drafted from the record (models/family.py), with the child's own words and other agencies'
  words left out unless ticked. Saving keeps a draft and sends a preview with "Approve for the family";
  approving is one conditional update (models/family_versions.py) and sends the approved document.
- "Record that it was given to the family": when, how, to whom; shown in the record's thread in the channel.
  The request to prepare and the note in the thread go through the outbox (handlers/outbox.py): written with
  the change that causes them, sent once, and sent later by the scheduler's run if Slack refused them.
- "Record the family's views" (handlers/family_views.py): views and scores of a family member without Slack,
  recorded on their behalf by the lead social worker or the chair, before or during the meeting.

Everything here starts from buttons (people from other organisations cannot use slash commands), and
`/coregroup family` shows the same buttons. Only the lead social worker and the meeting's chair may act.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import date

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from handlers import access, case_post, delivery, family_views, forms, outbox
from handlers.blocks import kit
from handlers.blocks import reminders as reminder_texts
from handlers.commands import Invocation, SubCommand, start_from_button
from handlers.commands import value as button_value
from handlers.deps import Deps
from handlers.ids import Action, Block, View, input_id
from models import audit, cases, documents, family, meetings, readability
from models import family_versions as fv
from models import outbox as outbox_rows
from models import recap as records
from models.cases import DomainError
from models.ledger import Kind
from models.tables import (
    Case,
    FamilyHandover,
    FamilyVersion,
    FamilyVersionStatus,
    Meeting,
    Member,
    Recap,
)

log = logging.getLogger(__name__)

PREPARE_TITLE = "Family version"
CHILD, OTHERS = "child", "others"
CHILD_REMINDER = ("Before you tick this, check it is safe for the child. What a child said can reach the adult it"
                  " is about. Only include it if you are sure the child is safe with the family reading it.")
NO_RECORD = "There is no posted record for this meeting yet, so there is no family version to prepare."
CHANGED = ("This draft has changed since this message was sent, so I have not approved it. Please use the newest"
           " preview I sent you.")
ALREADY = "This version is already approved. Nothing has changed."


def digest(content: str) -> str:
    return hashlib.sha256(content.encode()).hexdigest()[:16]


def _posted(session, meeting_id: int) -> Recap | None:
    recap = records.latest(session, meeting_id)
    return recap if recap is not None and documents.is_full_record(records.content_of(recap)) else None


# --- asked after the record is posted ----------------------------------------------------------------------


@outbox.sender(Kind.FAMILY_ASK)
def ask_to_prepare(job: outbox.Job) -> None:
    """A direct message to the lead social worker (else the chair) asking them to prepare the family version.
    Written to the outbox when a version of the record is marked posted (models/recap_posting.follow_ups), so it
    is sent once per posted version, and sent later by the scheduler's run if the process died or Slack refused."""
    deps, client, recap_id = job.deps, job.client, job.detail["recap"]
    with deps.session() as session:
        recap = session.get(Recap, recap_id)
        meeting = session.get(Meeting, recap.meeting_id)
        case = session.get(Case, meeting.case_id)
        lead = cases.lead_member(session, case.id)
        chair = session.get(Member, meeting.chair_member_id) if meeting.chair_member_id else None
        person = lead if lead is not None and lead.slack_user_id else chair
        if person is None or not person.slack_user_id:
            log.info("no one with Slack to prepare the family version of recap %s", recap_id)
            raise outbox.Skipped("nobody_in_slack")
        session.expunge_all()
    record = (f"The record of meeting {meeting.number}" if recap.version == 1 else
              f"Version {recap.version} of the record of meeting {meeting.number} (a correction)")
    text = (f"{record} for {case.reference} is posted. Please prepare the family version: the form shows each"
            f" part as the family will read it. Nothing goes to the family until you approve it.")
    blocks = [kit.section(kit.esc(text)),
              kit.context("The child's own words and what other agencies wrote are left out unless you choose to"
                          " include them."),
              kit.actions(kit.button("Prepare the family version", Action.FAMILY_PREPARE,
                                     button_value(c=case.id, m=meeting.id), style="primary"))]
    unsure = job.unsure
    if not job.posted(0):  # the direct message, else (direct messages refused) the person's thread in the channel
        try:
            job.post(channel=delivery.open_dm(client, person.slack_user_id), message={"text": text, "blocks": blocks})
            return
        except SlackApiError as error:
            if delivery.error_code(error) not in delivery.DM_REFUSED:
                raise
            log.info("direct message to member %s refused: the family version asked for in the channel", person.id)
            job.unsure = unsure  # an earlier attempt may have posted in the thread
    if job.posted(0):
        return
    parent = delivery.member_thread(deps, client, case=case, member=person)
    text, blocks = reminder_texts.addressed(person, text, blocks)
    job.post(channel=case.channel_id, thread_ts=parent, message={"text": text, "blocks": blocks})


# --- preparing -----------------------------------------------------------------------------------------------


def _allowed(deps: Deps, case: Case, member: Member, meeting_id) -> tuple[Meeting | None, str | None]:
    with deps.reading() as session:
        meeting = meetings.get_for_case(session, case.id, meeting_id)
        if meeting is None:
            return None, "I could not find that meeting."
        if not fv.may_approve(session, meeting, member):
            return None, fv.NOT_ALLOWED
        session.expunge(meeting)
        return meeting, None


def prepare_view(*, case_id: int, meeting: Meeting, record: documents.Record, texts: dict[str, str],
                 ticked: list[str]) -> dict:
    blocks = [kit.section(f"*Meeting {meeting.number}.* Each box below is one part of the family version, as the"
                          " family will read it. Change anything that is not right, or not safe to share. Use short"
                          " sentences. Start a line with - to make a list.")]
    for key, heading in family.EDITABLE:
        block_id = f"{Block.FAMILY_SECTION}_{key}"
        blocks.append(kit.input_block(heading, kit.plain_input(input_id(block_id), multiline=True,
                                                              initial=(texts.get(key) or "")[:forms.MAX_FREE_TEXT],
                                                              max_length=forms.MAX_FREE_TEXT),
                                      block_id=block_id, optional=True))
    choices = []
    child_text = family.child_words(record.content)
    if child_text:
        blocks.append(kit.section("*The child's own words (left out unless you tick below):*\n"
                                  + kit.esc(kit.clip(child_text, 2500))))
        choices.append(("Include the child's own words", CHILD))
    others_text = family.agency_words(record)
    if others_text:
        blocks.append(kit.section("*What other agencies wrote (left out unless you tick below):*\n"
                                  + kit.esc(kit.clip(others_text, 2500))))
        choices.append(("Include what other agencies wrote, word for word", OTHERS))
    if choices:
        offered = {value for _, value in choices}
        blocks.append(kit.input_block("Include in the family version", kit.checkboxes(
            input_id(Block.FAMILY_INCLUDE), choices, initial=[v for v in ticked if v in offered]),
            block_id=Block.FAMILY_INCLUDE, optional=True, hint=CHILD_REMINDER))
    return kit.modal(title=PREPARE_TITLE, blocks=blocks, callback_id=View.FAMILY_PREPARE, submit="Save and preview",
                     private_metadata={"c": case_id, "m": meeting.id})


def prepare_clicked(body: dict, client: WebClient, respond, deps: Deps) -> None:
    value = access.button_value(body)
    checked = access.check_click(deps, body, client, value.get("c"), respond)
    if checked is None:
        return
    case, member = checked
    meeting, why_not = _allowed(deps, case, member, value.get("m"))
    if why_not:
        access.tell(client, body, why_not, respond)
        return
    with deps.reading() as session:
        recap = _posted(session, meeting.id)
        if recap is None:
            access.tell(client, body, NO_RECORD, respond)
            return
        record = documents.gather(session, recap, tz=deps.settings.timezone)
        existing = fv.draft(session, meeting.id) or fv.approved(session, meeting.id)
        texts, ticked = family.prefill(record), []
        if existing is not None and existing.recap_id == recap.id:
            saved = fv.content_of(existing)
            texts = {s["key"]: s["text"] for s in saved.get("sections") or [] if s["key"] in dict(family.EDITABLE)}
            ticked = [CHILD] * bool(saved.get("includes_child_words")) + [OTHERS] * bool(
                saved.get("includes_other_agencies"))
    case_post.open_view(client, body, body.get("trigger_id"),
                        prepare_view(case_id=case.id, meeting=meeting, record=record, texts=texts, ticked=ticked))


def preview_blocks(*, case_id: int, row: FamilyVersion, content: dict, number: int) -> tuple[str, list[dict]]:
    reading = readability.measure(family.family_outline(content))
    text = f"Family version of meeting {number}: draft {row.version}, ready for you to check and approve."
    blocks = [kit.header(f"Family version of meeting {number} (draft)")]
    for section in content["sections"]:
        if section["text"]:
            blocks += kit.sections(f"*{kit.esc(section['heading'])}*\n{kit.esc(section['text'])}")
    if len(blocks) > 40:  # a message holds 50 blocks: the rest is in the document sent on approval
        blocks = [*blocks[:39], kit.context("This preview is cut short. Press “Change it” to read every part.")]
    target = "meets" if reading.meets_target else "does not meet"
    blocks.append(kit.context(
        f"Reading ease {reading.ease:.0f} (the target is {readability.TARGET_EASE:.0f} or more); sentences of"
        f" {reading.words_per_sentence:.1f} words on average (the target is under"
        f" {readability.TARGET_WORDS_PER_SENTENCE:.0f}). This {target} the target for a parent to read easily."))
    if content.get("includes_child_words"):
        blocks.append(kit.section("⚠️ *This includes the child's own words.* " + CHILD_REMINDER))
    if content.get("includes_other_agencies"):
        blocks.append(kit.section("⚠️ *This includes what other agencies wrote, word for word.* Check nothing in it is"
                                  " about someone the family should not read about."))
    blocks.append(kit.actions(
        kit.button("Approve for the family", Action.FAMILY_APPROVE,
                   button_value(c=case_id, f=row.id, d=digest(row.content)), style="primary",
                   confirm=kit.confirm_dialog("Approve the family version?",
                                              "Once approved, this version can be given to the family. It is kept"
                                              " as it is.", "Approve")),
        kit.button("Change it", Action.FAMILY_PREPARE, button_value(c=case_id, m=row.meeting_id))))
    return text, blocks


def submit_prepare(ack, body: dict, client: WebClient, deps: Deps) -> None:
    checked = access.check_submission(deps, ack, body, title=PREPARE_TITLE)
    if checked is None:
        return
    case, by = checked
    meeting_id = access.metadata(body).get("m")
    meeting, why_not = _allowed(deps, case, by, meeting_id)
    if why_not:
        ack(response_action="update", view=access.notice_view(PREPARE_TITLE, why_not))
        return
    raw = forms.values(body)
    errors: dict[str, str] = {}
    texts = {}
    for key, heading in family.EDITABLE:
        block_id = f"{Block.FAMILY_SECTION}_{key}"
        texts[key] = forms.text(raw.get(block_id), block_id, errors, limit=family.MAX_SECTION, what=heading.lower())
    if not any(texts.values()):
        errors[f"{Block.FAMILY_SECTION}_main"] = "Please write at least the main points for the family."
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ticked = raw.get(Block.FAMILY_INCLUDE) or []
    with deps.session() as session:
        if not audit.claim_once(session, f"view:{body['view']['id']}"):
            ack()
            return
        recap = _posted(session, meeting.id)
        if recap is None:
            ack(response_action="update", view=access.notice_view(PREPARE_TITLE, NO_RECORD))
            return
        record = documents.gather(session, recap, tz=deps.settings.timezone)
        content = family.build(record, texts, child=CHILD in ticked, others=OTHERS in ticked)
        row = fv.save_draft(session, meeting=session.get(Meeting, meeting.id), recap_id=recap.id, content=content,
                            member=session.get(Member, by.id), actor=access.actor_of(body), now=deps.now())
        row_id = row.id
        by_row = session.get(Member, by.id)
        session.expunge(by_row)
        session.expunge(row)
    ack()  # answered first: measuring the reading ease loads textstat's word list the first time
    log.info("family version %s drafted for meeting %s", row_id, meeting.id)
    text, blocks = preview_blocks(case_id=case.id, row=row, content=content, number=meeting.number)
    try:
        delivery.send_to_member(deps, client, member=by_row, text=text, blocks=blocks, case=case,
                                key=f"family-draft:{body['view']['id']}")
    except (SlackApiError, SlackClientError, OSError) as error:
        log.warning("could not send the family version preview %s: %s", row_id, type(error).__name__)


# --- approving ----------------------------------------------------------------------------------------------


def approve_clicked(body: dict, client: WebClient, respond, deps: Deps) -> None:
    value = access.button_value(body)
    checked = access.check_click(deps, body, client, value.get("c"), respond)
    if checked is None:
        return
    case, member = checked
    actor = access.actor_of(body)
    with deps.session() as session:
        row = session.get(FamilyVersion, access.int_or_none(value.get("f")) or 0)
        if row is None or row.case_id != case.id:
            access.tell(client, body, "I could not find that family version.", respond)
            return
        meeting = session.get(Meeting, row.meeting_id)
        if not fv.may_approve(session, meeting, member):
            access.tell(client, body, fv.NOT_ALLOWED, respond)
            return
        if row.status == FamilyVersionStatus.APPROVED:
            access.tell(client, body, ALREADY, respond)
            return
        if digest(row.content) != value.get("d"):
            access.tell(client, body, CHANGED, respond)
            return
        done = fv.approve(session, version_id=row.id, seen_content=row.content, member=member, actor=actor,
                          now=deps.now())
        if done is None:
            access.tell(client, body, CHANGED, respond)
            return
        number, version, row_id = meeting.number, done.version, done.id
        recap = session.get(Recap, done.recap_id) if done.recap_id else _posted(session, meeting.id)
        record = documents.gather(session, recap, tz=deps.settings.timezone)
        family_content = (done.version, fv.content_of(done))
    log.info("family version %s approved", row_id)
    text = (f"You approved version {version} of the family version of meeting {number}. It is the only version that"
            f" can be exported for the family. When you have given it to them, please record it here.")
    access.responded(respond, replace_original=True, text=text, blocks=[
        kit.section("✅ " + kit.esc(text)),
        kit.actions(kit.button("Record that it was given to the family", Action.FAMILY_GIVEN,
                               button_value(c=case.id, f=row_id), style="primary"))])
    from handlers.export import send_documents  # the approved document, privately, to the person who approved it

    send_documents(deps, client, actor=actor, case_id=case.id, member_id=member.id, record=record,
                   tell=lambda said: log.info("family version %s sent to its approver", row_id), family=family_content)


# --- given to the family -----------------------------------------------------------------------------------


def given_view(*, case_id: int, row: FamilyVersion, family_members: list[Member], today: date) -> dict:
    blocks = [kit.section(f"Record when, how and to whom you gave version {row.version} of the family version. The"
                          " record in the channel will show it.")]
    if family_members:
        to = kit.select(input_id(Block.GIVEN_TO), [(m.name, str(m.id)) for m in family_members],
                        initial=str(family_members[0].id), placeholder="Choose who")
    else:
        to = kit.plain_input(input_id(Block.GIVEN_TO), max_length=120)
    blocks += [kit.input_block("Given to", to, block_id=Block.GIVEN_TO),
               kit.input_block("On", kit.date_input(input_id(Block.GIVEN_ON), initial=today), block_id=Block.GIVEN_ON),
               kit.input_block("How", kit.radio(input_id(Block.GIVEN_HOW), fv.HOW_CHOICES), block_id=Block.GIVEN_HOW),
               kit.input_block("Interpreter", kit.checkboxes(input_id(Block.GIVEN_INTERPRETER),
                                                             [("An interpreter was used", "yes")]),
                               block_id=Block.GIVEN_INTERPRETER, optional=True)]
    return kit.modal(title="Given to the family", blocks=blocks, callback_id=View.FAMILY_GIVEN,
                     private_metadata={"c": case_id, "f": row.id})


def given_clicked(body: dict, client: WebClient, respond, deps: Deps) -> None:
    value = access.button_value(body)
    checked = access.check_click(deps, body, client, value.get("c"), respond)
    if checked is None:
        return
    case, member = checked
    with deps.reading() as session:
        row = session.get(FamilyVersion, access.int_or_none(value.get("f")) or 0)
        if row is None or row.case_id != case.id or row.status != FamilyVersionStatus.APPROVED:
            access.tell(client, body, "That family version is not approved, so it cannot be given yet.", respond)
            return
        if not fv.may_approve(session, session.get(Meeting, row.meeting_id), member):
            access.tell(client, body, fv.NOT_ALLOWED, respond)
            return
        view = given_view(case_id=case.id, row=row, family_members=fv.family_members(session, case.id),
                          today=deps.today())
    case_post.open_view(client, body, body.get("trigger_id"), view)


def submit_given(ack, body: dict, client: WebClient, deps: Deps) -> None:
    checked = access.check_submission(deps, ack, body, title="Given to the family")
    if checked is None:
        return
    case, by = checked
    raw = forms.values(body)
    errors: dict[str, str] = {}
    given_on = forms.parse_date(raw.get(Block.GIVEN_ON), Block.GIVEN_ON, errors)
    if given_on is not None and given_on > deps.today():
        errors[Block.GIVEN_ON] = "Please give the day it was given: it cannot be in the future."
    how = raw.get(Block.GIVEN_HOW)
    if how not in fv.HOW:
        errors[Block.GIVEN_HOW] = "Please choose how it was given."
    with deps.reading() as session:
        row = session.get(FamilyVersion, access.int_or_none(access.metadata(body).get("f")) or 0)
        if row is None or row.case_id != case.id or not fv.may_approve(session, session.get(Meeting, row.meeting_id),
                                                                       by):
            ack(response_action="update", view=access.notice_view("Given to the family", fv.NOT_ALLOWED))
            return
        people = {str(m.id): m.name for m in fv.family_members(session, case.id)}
    chosen = raw.get(Block.GIVEN_TO) or ""
    given_to = people.get(chosen) or (chosen if not people else "")
    if not given_to:
        errors[Block.GIVEN_TO] = "Please say who it was given to."
    if errors:
        ack(response_action="errors", errors=errors)
        return
    with deps.session() as session:
        if not audit.claim_once(session, f"view:{body['view']['id']}"):
            ack()
            return
        row = session.get(FamilyVersion, row.id)
        try:
            handover = fv.record_handover(session, version=row, given_on=given_on, how=how,
                                          interpreter="yes" in (raw.get(Block.GIVEN_INTERPRETER) or []),
                                          given_to=given_to, member=session.get(Member, by.id),
                                          actor=access.actor_of(body), now=deps.now())
        except DomainError as error:
            ack(response_action="errors", errors={Block.GIVEN_HOW: str(error)})
            return
        meeting = session.get(Meeting, row.meeting_id)
        words = fv.handover_words(handover, number=meeting.number)
        key = outbox_rows.enqueue(session, key=f"family-given:{handover.id}", kind=Kind.FAMILY_GIVEN,
                                  case_id=case.id, meeting_id=meeting.id, now=deps.now(),
                                  detail={"handover": handover.id, "notify": access.actor_of(body).user_id})
    ack(response_action="update", view=access.notice_view("Given to the family", "Saved. " + kit.esc(words)))
    outbox.send_all_now(deps, client, [key])


@outbox.sender(Kind.FAMILY_GIVEN, unconfirmed="It is saved, but Slack did not take the note in the channel yet. It"
                                              " will be posted there as soon as Slack takes it.")
def post_given(job: outbox.Job) -> None:
    """"Given to the family" in the record's thread (in the channel, if the record is not posted), once."""
    with job.deps.session() as session:
        handover = session.get(FamilyHandover, job.detail["handover"])
        if handover is None:
            raise outbox.Skipped("no_handover")
        meeting = session.get(Meeting, handover.meeting_id)
        case = session.get(Case, handover.case_id)
        recap = _posted(session, meeting.id)
        words = fv.handover_words(handover, number=meeting.number)
        channel = (recap.channel_id if recap else None) or case.channel_id
        thread = recap.message_ts if recap else None
    job.post(channel=channel, thread_ts=thread, message={
        "text": kit.esc(words), "blocks": [kit.section("📄 *Given to the family.* " + kit.esc(words))]})


# --- `/coregroup family` -----------------------------------------------------------------------------------


def panel(deps: Deps, case: Case) -> tuple[str, list[dict]]:
    with deps.reading() as session:
        posted = documents.posted_recaps(session, case.id)
        upcoming = family_views.views_meeting(session, case.id)
        lines, buttons = [], []
        if posted:
            meeting, _recap = posted[-1]
            row = fv.approved(session, meeting.id)
            draft = fv.draft(session, meeting.id)
            given = fv.handovers(session, meeting.id)
            if row is None:
                state = "a draft is waiting for approval" if draft else "not prepared yet"
            else:
                state = f"version {row.version} approved" + (", given to the family" if given else
                                                              ", not yet given to the family")
            lines.append(f"*Family version of meeting {meeting.number}:* {state}.")
            buttons.append(kit.button("Prepare the family version" if row is None and not draft else
                                      "Change the family version", Action.FAMILY_PREPARE,
                                      button_value(c=case.id, m=meeting.id)))
            if row is not None:
                buttons.append(kit.button("Record that it was given", Action.FAMILY_GIVEN,
                                          button_value(c=case.id, f=row.id)))
        else:
            lines.append("There is no posted record yet, so there is no family version to prepare.")
        if upcoming is not None:
            buttons.append(kit.button("Record the family's views", Action.FAMILY_VIEWS, button_value(c=case.id)))
    text = "The family's part. " + " ".join(lines).replace("*", "")
    blocks = [kit.section("\n".join(lines)),
              kit.context("Only the lead social worker and the chair can prepare, approve or hand over the family"
                          " version, or record the family's views.")]
    if buttons:
        blocks.append(kit.actions(*buttons))
    return text, blocks


def run_family(inv: Invocation) -> None:
    text, blocks = panel(inv.deps, inv.case)
    inv.reply(text, blocks)


def register(app: App, deps: Deps) -> None:
    deps.commands.add(SubCommand("family", "The family's part: the family version, and the family's views",
                                 run_family))

    @app.action(Action.FAMILY_PANEL)
    def panel_clicked(ack, body, client, respond):
        ack()
        start_from_button(deps, "family", body, client, respond, access.button_value(body).get("c"))

    @app.action(Action.FAMILY_PREPARE)
    def prepare(ack, body, client, respond):
        ack()
        prepare_clicked(body, client, respond, deps)

    @app.view(View.FAMILY_PREPARE)
    def prepared(ack, body, client):
        submit_prepare(ack, body, client, deps)

    @app.action(Action.FAMILY_APPROVE)
    def approve(ack, body, client, respond):
        ack()
        approve_clicked(body, client, respond, deps)

    @app.action(Action.FAMILY_GIVEN)
    def given(ack, body, client, respond):
        ack()
        given_clicked(body, client, respond, deps)

    @app.view(View.FAMILY_GIVEN)
    def given_saved(ack, body, client):
        submit_given(ack, body, client, deps)

    family_views.register(app, deps)
