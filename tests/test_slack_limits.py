"""Slack's size limits, end to end: nothing a person wrote is dropped or refused for being long.

Slack refuses a message of more than 50 blocks, and also one whose blocks are too large in total
(`msg_blocks_too_long`, about 13,000 characters), which the stand-in refuses too. A form holds at most
100 blocks, and the plain-language note takes one more when a form comes back with suggestions.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlmodel import Session, select

from handlers.blocks import kit
from handlers.blocks.updates import MAX_NOTE, MAX_TEXT
from handlers.ids import Action, Block, View
from handlers.plain import BLOCK_ID as PLAIN_LANGUAGE
from models.tables import Action as ActionRow
from models.tables import Member, ScalingQuestion, Score, Update
from tests.helpers import mark_the_rest, new_case, opened_view, posted, schedule_meeting
from tests.reads import one, rows
from tests.slack_standin import block_errors, blocks_too_long, view_errors

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
MEETING_DAY = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
TEXT_BLOCKS = (Block.UPDATE_CHILD_VIEWS, Block.UPDATE_CONTACTS, Block.UPDATE_WORKING_WELL, Block.UPDATE_WORRIES,
               Block.UPDATE_NEEDS)


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(MONDAY, tick=True):
        yield


@pytest.fixture
def meeting_case(people, slack):
    case = new_case(people, slack, members=("hv", "teacher"))
    meeting = schedule_meeting(people, slack, case, date="2026-11-30", chair="teacher")
    return case, meeting


def member_of(app, case, person) -> Member:
    return one(app, select(Member).where(Member.case_id == case.case_id, Member.slack_user_id == person.user_id))


def add_actions(app, case, owner: Member, count: int) -> list[int]:
    with Session(app.engine) as session:
        rows_ = [ActionRow(case_id=case.case_id, what=f"Action {n}: visit the family at home", owner_member_id=owner.id,
                           due_date=date(2026, 11, 27) + timedelta(days=n), measure="Seen at home")
                 for n in range(count)]
        session.add_all(rows_)
        session.commit()
        return [row.id for row in rows_]


def add_questions(app, case, count: int) -> list[int]:
    with Session(app.engine) as session:
        questions = [ScalingQuestion(case_id=case.case_id, question=f"Question {n}: how safe is Child A at home?",
                                     zero_means="not safe at all", ten_means="completely safe", standing=True)
                     for n in range(count)]
        session.add_all(questions)
        session.commit()
        return [q.id for q in questions]


def longest(marker: str, limit: int) -> str:
    """Text of exactly `limit` characters, counted by its markers, full of the characters escaping makes longer."""
    unit = f"{marker} & <b> "
    text = unit * (limit // len(unit))
    return text + "x" * (limit - len(text))


def thread(slack, channel: str, ts: str) -> list[dict]:
    return [m for m in slack.messages(channel) if m.get("thread_ts") == ts and m["ts"] != ts]


def within_limits(message: dict) -> bool:
    blocks = message["blocks"]
    return len(blocks) <= kit.MESSAGE_BLOCK_LIMIT and not block_errors(blocks) and not blocks_too_long(blocks)


def test_an_update_with_every_field_at_its_longest_is_posted_in_full_over_several_messages(people, slack, app,
                                                                                        meeting_case):
    case, meeting = meeting_case
    hv = people["hv"]
    actions = add_actions(app, case, member_of(app, case, hv), 3)
    hv.click(Action.SEND_APOLOGIES, {"c": case.case_id, "m": meeting.id}, channel=case.channel_id)
    view = opened_view(slack, View.UPDATE)
    values = {block: longest(f"field{n}", MAX_TEXT) for n, block in enumerate(TEXT_BLOCKS)}
    values[Block.UPDATE_CHILD_SEEN] = "yes"
    values[Block.UPDATE_SEEN_ALONE] = "no"
    for n, action_id in enumerate(actions):
        values[f"{Block.UPDATE_ACTION_STATUS}_{action_id}"] = "on_track"
        values[f"{Block.UPDATE_ACTION_NOTE}_{action_id}"] = longest(f"note{n}", MAX_NOTE)
    assert hv.submit(view, values).body == ""

    update = one(app, select(Update))
    assert len(update.worries) == MAX_TEXT
    refused = [c for c in slack.calls_to("chat.postMessage") if not c.response["ok"]]
    assert refused == [], [c.response["error"] for c in refused]
    replies = [m for m in thread(slack, case.channel_id, meeting.message_ts) if "blocks" in m]
    assert len(replies) > 1, "an update this long does not fit one message"
    assert all(within_limits(m) for m in replies)
    text = "\n".join(b["text"]["text"] for m in replies for b in m["blocks"] if b["type"] == "section")
    wrote = "\n".join(values[block] for block in TEXT_BLOCKS) + "\n".join(
        values[f"{Block.UPDATE_ACTION_NOTE}_{a}"] for a in actions)
    for marker in [f"field{n}" for n in range(len(TEXT_BLOCKS))] + [f"note{n}" for n in range(len(actions))]:
        assert text.count(marker) == wrote.count(marker) > 0, marker  # nothing dropped, nothing clipped
    assert text.count("&amp;") == wrote.count("&") and text.count("&lt;b&gt;") == wrote.count("<b>")
    assert "Update from" in replies[0]["blocks"][0]["text"]["text"]
    assert "Child seen:* Yes" in text

    # At the meeting, the same update is read out in full in the start post's thread.
    with time_machine.travel(MEETING_DAY, tick=True):
        people["teacher"].command("start", channel=case.channel_id)
        view = opened_view(slack, View.START)
        assert people["teacher"].submit(view, mark_the_rest(view)).body == ""
    start = posted(slack, case.channel_id, "Core group meeting 1 has started")[-1]
    written = thread(slack, case.channel_id, start["ts"])
    assert len(written) > 2 and all(within_limits(m) for m in written)
    read_out = "\n".join(b["text"]["text"] for m in written for b in m["blocks"] if b["type"] == "section")
    for n in range(len(TEXT_BLOCKS)):
        assert read_out.count(f"field{n}") == values[TEXT_BLOCKS[n]].count(f"field{n}")
    assert not [c for c in slack.calls_to("chat.postMessage") if not c.response["ok"]]


def _inputs(view: dict) -> list[str]:
    return [b["block_id"] for b in view["blocks"] if b["type"] == "input"]


def test_the_update_form_with_40_actions_and_8_questions_keeps_every_input_after_the_plain_language_note(
        people, slack, app, meeting_case):
    case, meeting = meeting_case
    hv = people["hv"]
    actions = add_actions(app, case, member_of(app, case, hv), 40)
    questions = add_questions(app, case, 8)
    hv.click(Action.SEND_APOLOGIES, {"c": case.case_id, "m": meeting.id}, channel=case.channel_id)
    opened = [c for c in slack.calls_to("views.open") if c.args["view"].get("callback_id") == View.UPDATE]
    assert len(opened) == 1 and opened[0].response["ok"], opened[0].response
    view = opened_view(slack, View.UPDATE)
    assert len(view["blocks"]) <= kit.FORM_BLOCK_LIMIT
    form_text = json.dumps(view["blocks"])
    shown = [a for a in actions if f"{Block.UPDATE_ACTION_STATUS}_{a}" in _inputs(view)]
    assert 0 < len(shown) < 40 and shown == actions[:len(shown)]  # the soonest due first
    assert f"And {40 - len(shown)} more of your actions" in form_text and "*My actions*" in form_text
    last = questions[-1]
    assert f"{Block.UPDATE_SCORE_UP}_{last}" in _inputs(view)  # every question, to its last field

    values = {Block.UPDATE_WORRIES: "Concerns were raised at the ICPC.",
              f"{Block.UPDATE_SCORE}_{last}": "6", f"{Block.UPDATE_SCORE_REASON}_{last}": "The heating is fixed.",
              f"{Block.UPDATE_SCORE_UP}_{last}": "Mother keeps the appointments for a month."}
    reply = hv.submit(view, values).json()
    assert reply["response_action"] == "update"
    returned = reply["view"]
    assert returned["blocks"][0]["block_id"] == PLAIN_LANGUAGE
    assert view_errors(returned) == []
    assert _inputs(returned) == _inputs(view)  # the note pushed nothing off the form
    kept = {b["block_id"]: b["element"].get("initial_value") for b in returned["blocks"] if b["type"] == "input"}
    assert kept[f"{Block.UPDATE_SCORE_UP}_{last}"] == "Mother keeps the appointments for a month."
    assert rows(app, select(Update)) == []

    returned.update(id=view["id"])
    assert hv.submit(returned, values).body == ""
    assert one(app, select(Update)).worries == "Concerns were raised at the ICPC."
    score = one(app, select(Score))
    assert (score.score, score.to_move_up) == (6, "Mother keeps the appointments for a month.")


def test_a_form_built_past_its_limit_fails_loudly_rather_than_losing_an_input():
    inputs = [kit.input_block(f"Field {n}", kit.plain_input(f"value_{n}"), block_id=f"field_{n}") for n in range(100)]
    with pytest.raises(Exception, match="99 blocks"):
        kit.modal(title="Too long", blocks=inputs, callback_id="too_long")
    assert len(kit.modal(title="Fits", blocks=inputs[:99], callback_id="fits")["blocks"]) == 99
    with pytest.raises(Exception, match="cannot exceed 100"):
        kit.home([kit.section(f"Line {n}") for n in range(101)])
    sections = [kit.section(f"Line {n}") for n in range(100)]
    assert kit.modal(title="A long list", blocks=sections, callback_id="list", submit=None)["blocks"] == sections
