"""Builders for scaling questions: the chair's form, the channel message, the private score form and
the scores shown together.

Wording from the guidance (seeds/000): "On a scale of 0-10 …"; "ask individuals their reason behind
their rating and what would need to happen to improve the rating for the child"; "everyone does not
need to agree"; "it is good to discuss and explore differences in opinions as it builds the best
picture". Before the chair shows the scores, nothing here ever carries a score.
"""

from __future__ import annotations

from collections.abc import Sequence

from handlers.blocks import kit
from handlers.blocks.actions import long_date
from handlers.blocks.members import who
from handlers.ids import Action, Block, View, input_id
from models.scaling import MAX_ANCHOR, MAX_QUESTION, MAX_REASON, MAX_TO_MOVE_UP, RoundSummary, ScoreLine
from models.tables import Child, Member, PlanItem, ScalingQuestion, Score

EXAMPLE = ("For example: “On a scale of 0 to 10, how safe is Child A at home? 0 means Child A is not safe at"
           " home; 10 means everyone is confident Child A is safe at home.”")
NOT_AGREE = ("Everyone does not need to agree: it is good to discuss and explore differences of view, as it"
             " builds the best picture of what will help the child.")
STANDING = "yes"


def number(value: float | None) -> str:
    if value is None:
        return "–"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def question_text(question: ScalingQuestion, *, child_label: str | None = None,
                  danger_text: str | None = None) -> str:
    asked = kit.esc(question.question)
    if not question.question.lower().lstrip().startswith("on a scale"):
        asked = f"On a scale of 0 to 10: {asked}"
    lines = [f"*{asked}*",
             f"*0* means {kit.esc(question.zero_means)}", f"*10* means {kit.esc(question.ten_means)}"]
    if child_label:
        lines.append(f"_About:_ {kit.esc(child_label)}")
    if danger_text:
        lines.append(f"_Danger statement:_ {kit.esc(kit.clip(danger_text, 500))}")
    if question.goal is not None:
        lines.append(f"_The score we are aiming for:_ {question.goal}")
    return "\n".join(lines)


def ask_modal(*, case_id: int, meeting_id: int, children: Sequence[Child], dangers: Sequence[PlanItem],
              questions: Sequence[ScalingQuestion]) -> dict:
    """The chair's form: pick a question asked before, or write a new one."""
    blocks = [kit.section("Ask everyone in the meeting to scale the same question. Each person scores"
                          " privately, with their reason and what would need to happen to move the score up."
                          " You then show all the scores together. " + NOT_AGREE)]
    if questions:
        choices = [(kit.clip(q.question, 75), str(q.id)) for q in questions]
        blocks.append(kit.input_block("Ask a question we have asked before", kit.select(
            input_id(Block.SCALE_EXISTING), choices, placeholder="Choose a question"),
            block_id=Block.SCALE_EXISTING, optional=True, hint="Or leave this empty and write a new question below."))
        blocks.append(kit.divider())
    new = bool(questions)
    blocks += [
        kit.input_block("A new question" if new else "The question", kit.plain_input(
            input_id(Block.SCALE_QUESTION), multiline=True, max_length=MAX_QUESTION,
            placeholder="How safe is Child A at home?"), block_id=Block.SCALE_QUESTION, optional=new, hint=EXAMPLE),
        kit.input_block("What 0 means", kit.plain_input(input_id(Block.SCALE_ZERO), max_length=MAX_ANCHOR),
                        block_id=Block.SCALE_ZERO, optional=new),
        kit.input_block("What 10 means", kit.plain_input(input_id(Block.SCALE_TEN), max_length=MAX_ANCHOR),
                        block_id=Block.SCALE_TEN, optional=new,
                        hint="Usually the safe end: for example, everyone is confident the child is safe."),
    ]
    if children:
        blocks.append(kit.input_block("Which child (optional)", kit.select(
            input_id(Block.SCALE_CHILD), [(c.label, str(c.id)) for c in children], placeholder="Choose a child"),
            block_id=Block.SCALE_CHILD, optional=True))
    if dangers:
        blocks.append(kit.input_block("Which danger statement (optional)", kit.select(
            input_id(Block.SCALE_DANGER), [(kit.clip(d.text, 75), str(d.id)) for d in dangers],
            placeholder="Choose a danger statement"), block_id=Block.SCALE_DANGER, optional=True))
    blocks += [
        kit.input_block("Carry it forward", kit.checkboxes(
            input_id(Block.SCALE_STANDING), [("Ask it again at every meeting, to see the direction of travel",
                                              STANDING)], initial=[STANDING]),
            block_id=Block.SCALE_STANDING, optional=True),
        kit.input_block("The score we are aiming for (optional)", kit.select(
            input_id(Block.SCALE_GOAL), [(str(n), str(n)) for n in range(11)], placeholder="Choose a score"),
            block_id=Block.SCALE_GOAL, optional=True),
    ]
    return kit.modal(title="Scaling question", blocks=blocks, callback_id=View.SCALE_ASK, submit="Ask",
                     private_metadata={"c": case_id, "m": meeting_id})


def _buttons(case_id: int, round_id: int, *, revealed: bool) -> dict:
    value = {"c": case_id, "r": round_id}
    if revealed:
        return kit.actions(kit.button("Give or change my score", Action.GIVE_SCORE, value), block_id="scale_buttons")
    return kit.actions(
        kit.button("Give my score", Action.GIVE_SCORE, value, style="primary"),
        kit.button("Show the scores", Action.REVEAL, value, confirm=kit.confirm_dialog(
            "Show the scores?", "Everyone's score, reason and what would move it up will be shown to the group.",
            "Show them")),
        block_id="scale_buttons",
    )


def open_message(*, case_id: int, round_id: int, question: ScalingQuestion, answered: Sequence[Member],
                 child_label: str | None = None, danger_text: str | None = None) -> dict:
    """The channel message before the scores are shown: who has answered, never what."""
    if answered:
        names = ", ".join(who(m) for m in answered)
        so_far = f"*Scored so far ({len(answered)}):* {names}"
    else:
        so_far = "_No one has scored yet._"
    blocks = [
        kit.header("Scaling question"),
        kit.section(question_text(question, child_label=child_label, danger_text=danger_text)),
        kit.context("Score privately: give your reason, and what would need to happen to move the score up one"
                    " point. Only the chair can show the scores, and shows them all together."),
        kit.section(kit.clip(so_far, kit.SECTION_LIMIT), block_id="scale_answered"),
        _buttons(case_id, round_id, revealed=False),
    ]
    return kit.message(f"Scaling question: {kit.esc(kit.clip(question.question, 200))}", blocks)


def score_modal(*, case_id: int, round_id: int, question: ScalingQuestion, previous: Score | None,
                child_label: str | None = None, danger_text: str | None = None) -> dict:
    choices = [(str(n), str(n)) for n in range(11)]
    choices[0] = (kit.clip(f"0 – {question.zero_means}", 75), "0")
    choices[10] = (kit.clip(f"10 – {question.ten_means}", 75), "10")
    blocks = [
        kit.section(question_text(question, child_label=child_label, danger_text=danger_text)),
        kit.context("Your score stays private until the chair shows everyone's scores together."
                    + (" You have scored this already; saving again replaces your score." if previous else "")),
        kit.input_block("Your score", kit.select(input_id(Block.SCORE), choices,
                                                 initial=str(previous.score) if previous else None,
                                                 placeholder="Choose 0 to 10"), block_id=Block.SCORE),
        kit.input_block("Why this score?", kit.plain_input(input_id(Block.SCORE_REASON), multiline=True,
                                                           max_length=MAX_REASON,
                                                           initial=previous.reason if previous else None),
                        block_id=Block.SCORE_REASON),
        kit.input_block("What would need to happen to move it up one point?", kit.plain_input(
            input_id(Block.SCORE_UP), multiline=True, max_length=MAX_TO_MOVE_UP,
            initial=previous.to_move_up if previous else None), block_id=Block.SCORE_UP, optional=True,
            hint="What would improve things for the child."),
    ]
    return kit.modal(title="Give my score", blocks=blocks, callback_id=View.SCALE_SCORE, submit="Save my score",
                     private_metadata={"c": case_id, "r": round_id})


def score_line(line: ScoreLine) -> str:
    written = " · _sent in writing_" if line.in_writing else ""
    if line.recorded_by:
        written += f" · _given by the family, recorded by {kit.esc(line.recorded_by['name'])}_"
    text = f"*{line.score}* · {kit.esc(line.name)} ({kit.esc(line.role)}){written}\n_Why:_ {kit.esc(line.reason)}"
    if line.to_move_up:
        text += f"\n_To move it up one point:_ {kit.esc(line.to_move_up)}"
    return text


def trend_text(summary: RoundSummary) -> str:
    if summary.previous_median is None:
        return "This is the first meeting where the group has scored this question."
    text = (f"At the last meeting where it was scored ({long_date(summary.previous_date)}), the middle score was"
            f" *{number(summary.previous_median)}* (lowest {summary.previous_low}, highest {summary.previous_high}).")
    if summary.direction is None or summary.median is None:
        return text
    change = abs(summary.median - summary.previous_median)
    return text + {"up": f" It has gone *up* by {number(change)}.", "down": f" It has gone *down* by {number(change)}.",
                   "same": " It is *the same* as then."}[summary.direction]


def revealed_messages(*, case_id: int, summary: RoundSummary) -> list[dict]:
    """Every score with role and reason, lowest, highest and middle, any difference of view, and the trend.
    The first message replaces the question's message; any more go in its thread."""
    question = summary.question
    head = [
        kit.header("Scaling: everyone's scores"),
        kit.section(question_text(question, child_label=summary.child_label, danger_text=summary.danger_text)),
    ]
    if summary.scores:
        stats = (f"*Lowest* {summary.low} · *Highest* {summary.high} · *Middle score* {number(summary.median)}"
                 f" · {len(summary.scores)} score{'s' if len(summary.scores) != 1 else ''}")
        head.append(kit.section(stats, block_id="scale_stats"))
        if summary.differs:
            head.append(kit.section(f"⚠️ *A difference of view to talk about:* the scores are {summary.spread}"
                                    f" points apart. {NOT_AGREE}", block_id="scale_differs"))
    else:
        head.append(kit.section("_No one gave a score._"))
    head.append(kit.context(trend_text(summary)))
    head.append(kit.divider())
    lines = [block for line in summary.scores for block in kit.sections(score_line(line))]  # nothing clipped
    buttons = _buttons(case_id, summary.round_id or 0, revealed=True)
    # Every message within Slack's limits on blocks and on characters, with room in each for the buttons
    # (the first message has them); the head is small, so it always stays in the first message.
    parts = kit.split_messages([*head, *lines], max_blocks=kit.MESSAGE_BLOCK_LIMIT - 1,
                               max_chars=kit.MESSAGE_CHAR_LIMIT - kit.block_size(buttons))
    fallback = (f"Scaling scores: lowest {summary.low}, highest {summary.high}, middle {number(summary.median)}"
                if summary.scores else "Scaling: no one gave a score")
    messages = [kit.message(fallback, [*parts[0], buttons])]
    messages += [kit.message("More scores", part) for part in parts[1:]]
    return messages
