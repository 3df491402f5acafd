"""Builders for written updates: the form, and the update as posted in the meeting's thread.

The order follows the guidance: the children's views at the fore, then what each practitioner saw and
did, then what is working well, what we are worried about and what needs to happen. The posted update
is "the written views of those who were not able to attend"; scores are never shown in it (they are
revealed with everyone else's).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from handlers.blocks import kit
from handlers.blocks.meetings import labelled, when_text
from handlers.blocks.members import who
from handlers.ids import Block, View, input_id
from models.tables import Action, Meeting, Member, ScalingQuestion, Update, UpdateActionProgress

MAX_TEXT = 3000
MAX_NOTE = 1000
MAX_SCORE_TEXT = 1000
MAX_QUESTIONS = 8
ATTENDING_CHOICES = [("I will attend", "attending"), ("I cannot attend: I send my apologies", "apologies")]
SEEN_CHOICES = [("Yes", "yes"), ("No", "no"), ("Not applicable", "not_applicable")]
SEEN_WORDS = dict((value, text) for text, value in SEEN_CHOICES)
PROGRESS_CHOICES = [("Done", "done"), ("On track", "on_track"), ("Delayed", "delayed")]
PROGRESS_WORDS = dict((value, text) for text, value in PROGRESS_CHOICES)
TEXT_FIELDS = (
    (Block.UPDATE_CHILD_VIEWS, "The child's views, as you heard them", "child_views",
     "In the child's own words where you can. If you could not hear their views, say why."),
    (Block.UPDATE_CONTACTS, "Your contact with the family since {since}", "contacts",
     "Visits, appointments, calls: when, who was there, what happened."),
    (Block.UPDATE_WORKING_WELL, "What is working well?", "working_well", None),
    (Block.UPDATE_WORRIES, "What are we worried about?", "worries", None),
    (Block.UPDATE_NEEDS, "What needs to happen?", "needs_to_happen", "What needs to change, by how much, by when."),
)


def block_for(prefix: str, record_id: int) -> str:
    return f"{prefix}_{record_id}"


def id_from(block_id: str, prefix: str) -> int | None:
    """The record id in a per-record block id such as "update_action_status_12"."""
    head = f"{prefix}_"
    if not block_id.startswith(head) or not block_id[len(head):].isdigit():
        return None
    return int(block_id[len(head):])


def _text_input(block_id: str, label: str, *, initial: str | None, hint: str | None = None,
                limit: int = MAX_TEXT) -> dict:
    return kit.input_block(label, kit.plain_input(input_id(block_id), multiline=True, max_length=limit,
                                                  initial=initial), block_id=block_id, optional=True, hint=hint)


def _text_block(block_id: str, label: str, attr: str, hint: str | None, previous: Update | None,
                since: str) -> dict:
    return _text_input(block_id, label.format(since=since), initial=getattr(previous, attr) if previous else None,
                       hint=hint)


def update_modal(*, case_id: int, meeting: Meeting, tz: str | tzinfo, since: str, actions: Sequence[Action],
                 questions: Sequence[ScalingQuestion], previous: Update | None,
                 previous_progress: dict[int, UpdateActionProgress], reply: str | None = None) -> dict:
    """The update form for one member and one meeting, filled in with their latest version if there is one.

    `reply` is what they last said (attending or apologies), so the form starts from it."""
    intro = (f"*Your update for core group meeting {meeting.number}* ({when_text(meeting, tz)})\n"
             "It is posted in the meeting's thread for the core group, and goes in the record as the written"
             " views of those who were not able to attend. You can change it until the meeting starts.")
    blocks = [kit.section(intro)]
    if previous is not None:
        blocks.append(kit.context(f"You have sent an update already (version {previous.version}). Saving this"
                                  " replaces it; the earlier one is kept in the record."))
    attending = reply if reply in ("attending", "apologies") else None
    blocks.append(kit.input_block("Can you come to the meeting?", kit.radio(
        input_id(Block.UPDATE_ATTENDING), ATTENDING_CHOICES, initial=attending), block_id=Block.UPDATE_ATTENDING))
    field_blocks = [_text_block(*spec, previous, since) for spec in TEXT_FIELDS]
    blocks.append(field_blocks[0])  # the child's views first
    blocks.append(field_blocks[1])
    blocks.append(kit.input_block("Was the child seen?", kit.radio(
        input_id(Block.UPDATE_CHILD_SEEN), SEEN_CHOICES, initial=previous.child_seen if previous else None),
        block_id=Block.UPDATE_CHILD_SEEN, optional=True))
    blocks.append(kit.input_block("Was the child seen alone?", kit.radio(
        input_id(Block.UPDATE_SEEN_ALONE), SEEN_CHOICES, initial=previous.seen_alone if previous else None),
        block_id=Block.UPDATE_SEEN_ALONE, optional=True))
    questions = list(questions)[:MAX_QUESTIONS]
    shown = list(actions)[:actions_that_fit(before=len(blocks), count=len(actions), questions=len(questions))]
    if shown:
        blocks.append(kit.section("*Progress on your actions*"))
        for action in shown:
            blocks.extend(_action_blocks(action, previous_progress.get(action.id)))
        if len(actions) > len(shown):
            blocks.append(kit.context(MORE_ACTIONS.format(count=len(actions) - len(shown))))
    blocks.extend(field_blocks[2:])
    if questions:
        blocks.append(kit.section("*Scaling* If you cannot attend, score these so your view is counted."
                                  " Your score is shown only when the chair reveals everyone's scores."
                                  " A score you sent before stays unless you score again."))
        for question in questions:
            blocks.extend(_question_blocks(question))
    return kit.modal(title="Your update", blocks=blocks, callback_id=View.UPDATE, submit="Send update",
                     private_metadata={"c": case_id, "m": meeting.id})


MORE_ACTIONS = ("And {count} more of your actions, not listed here because the form has no room for them: update"
                " them with *My actions* on the pinned message in the case channel, or `/coregroup actions mine`.")
BLOCKS_PER_ACTION = 2  # its progress menu and its note
BLOCKS_PER_QUESTION = 3  # the score, why, and what would move it up


def actions_that_fit(*, before: int, count: int, questions: int) -> int:
    """How many actions the form lists, so that it keeps within a form's block limit (kit.FORM_BLOCK_LIMIT,
    which leaves room for the plain-language note) whatever the number of actions: `before` blocks come
    first, then the actions' heading, the actions (and a line saying how many more there are, if not all
    fit), the three remaining text fields and the scaling questions with their heading."""
    after = len(TEXT_FIELDS) - 2 + (1 + BLOCKS_PER_QUESTION * questions if questions else 0)
    room = kit.FORM_BLOCK_LIMIT - before - after - 1  # the actions' heading
    if count * BLOCKS_PER_ACTION <= room:
        return count
    return max((room - 1) // BLOCKS_PER_ACTION, 0)  # one block for "And N more"


def _action_blocks(action: Action, previous: UpdateActionProgress | None) -> list[dict]:
    label = f"{action.what} (due {action.due_date.day} {action.due_date:%B})"
    status = kit.input_block(label, kit.select(input_id(Block.UPDATE_ACTION_STATUS), PROGRESS_CHOICES,
                                               initial=previous.status if previous else None,
                                               placeholder="Done, on track or delayed"),
                             block_id=block_for(Block.UPDATE_ACTION_STATUS, action.id), optional=True)
    note = _text_input(block_for(Block.UPDATE_ACTION_NOTE, action.id), "Note on this action",
                       initial=previous.note if previous else None, limit=MAX_NOTE)
    return [status, note]


def _question_blocks(question: ScalingQuestion) -> list[dict]:
    scale = [(str(n), str(n)) for n in range(11)]
    hint = f"0 means {question.zero_means}. 10 means {question.ten_means}."
    return [
        kit.input_block(f"On a scale of 0 to 10: {question.question}",
                        kit.select(input_id(Block.UPDATE_SCORE), scale, placeholder="Your score"),
                        block_id=block_for(Block.UPDATE_SCORE, question.id), optional=True, hint=hint),
        _text_input(block_for(Block.UPDATE_SCORE_REASON, question.id), "Why that score?", initial=None,
                    limit=MAX_SCORE_TEXT),
        _text_input(block_for(Block.UPDATE_SCORE_UP, question.id), "What would need to happen to move it up one"
                    " point?", initial=None, limit=MAX_SCORE_TEXT),
    ]


# --- the update as posted ---------------------------------------------------------------------


def _seen_line(update: Update) -> str | None:
    parts = []
    if update.child_seen:
        parts.append(f"*Child seen:* {SEEN_WORDS.get(update.child_seen, update.child_seen)}")
    if update.seen_alone:
        parts.append(f"*Seen alone:* {SEEN_WORDS.get(update.seen_alone, update.seen_alone)}")
    return " · ".join(parts) or None


def progress_lines(progress: Sequence[tuple[Action, UpdateActionProgress]]) -> str:
    lines = []
    for action, item in progress:
        line = f"• *{PROGRESS_WORDS.get(item.status, item.status)}*: {kit.esc(action.what)}"
        if item.note:
            line += f"\n    {kit.esc(item.note)}"
        lines.append(line)
    return "\n".join(lines)


def update_blocks(*, update: Update, member: Member, meeting: Meeting,
                  progress: Sequence[tuple[Action, UpdateActionProgress]], scored: int = 0,
                  replaces: bool = False) -> list[dict]:
    """One member's update as the core group reads it; long texts continue over several sections."""
    coming = "will attend" if update.attending else "sends apologies"
    role = kit.esc(member.role) + (f", {kit.esc(member.agency)}" if member.agency else "")
    blocks = [kit.section(f"*Update from {who(member)}* ({role}) for core group meeting {meeting.number}:"
                          f" {coming}.")]
    if replaces:
        blocks.append(kit.context(f"Version {update.version}: this replaces the update they sent earlier."))
    if update.child_views:
        blocks += labelled("The child's views", update.child_views)
    else:
        blocks.append(kit.section("*The child's views*\n_Not given in this update._"))
    if update.contacts:
        blocks += labelled("Contact with the family", update.contacts)
    seen = _seen_line(update)
    if seen:
        blocks.append(kit.section(seen))
    if progress:
        blocks += kit.sections("*Progress on their actions*\n" + progress_lines(progress))
    for label, text in (("What is working well", update.working_well), ("What we are worried about", update.worries),
                        ("What needs to happen", update.needs_to_happen)):
        if text:
            blocks += labelled(label, text)
    if scored:
        blocks.append(kit.context(f"Scored {scored} scaling question{'s' if scored != 1 else ''}. Scores are shown"
                                  " when the chair reveals them."))
    return blocks


def update_fallback(member: Member, meeting: Meeting) -> str:
    return f"Update from {who(member)} for core group meeting {meeting.number}"
