"""Builders for actions, decisions and scaling: what people read, escaped, and within Block Kit's limits."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from handlers.blocks import actions as action_blocks
from handlers.blocks import scaling as scaling_blocks
from models.scaling import RoundSummary, ScoreLine
from models.tables import Action, ActionStatus, Decision, Member, ScalingQuestion
from tests.slack_standin import block_errors, blocks_too_long, view_errors

TODAY = date(2026, 12, 8)
OWNER = Member(id=3, case_id=1, name="Health Visitor A", role="Health visitor", slack_team_id="T0COUNCIL",
               slack_user_id="U0HV")
PARENT = Member(id=4, case_id=1, name="Mother <of> Child A", role="Parent")


def _action(n: int = 1, **values) -> Action:
    fields = dict(id=n, case_id=1, what=f"Action {n}", owner_member_id=OWNER.id, due_date=TODAY + timedelta(days=n),
                  measure="Seen at the next visit")
    fields.update(values)
    return Action(**fields)


def test_action_line_marks_overdue_and_carried_forward_and_escapes():
    action = _action(what="Tell <!channel> & the school", due_date=TODAY - timedelta(days=3), carried_forward=2)
    line = action_blocks.action_line(action, PARENT, TODAY)
    assert "&lt;!channel&gt; &amp; the school" in line and "<!channel>" not in line
    assert "Mother &lt;of&gt; Child A" in line
    assert "*overdue by 2 working days*" in line and "carried forward twice" in line  # due Saturday, seen Tuesday
    assert "How we will know it is done:_ Seen at the next visit" in line
    assert "<@U0HV>" in action_blocks.action_line(_action(), OWNER, TODAY)
    assert "due today" in action_blocks.action_line(_action(due_date=TODAY), OWNER, TODAY)
    done = _action(status=ActionStatus.DONE, completed_at=datetime(2026, 12, 7, 12, tzinfo=UTC))
    assert action_blocks.action_line(done, OWNER, TODAY).startswith("✅") and "overdue" not in \
        action_blocks.action_line(done, OWNER, TODAY)


def test_buttons_carry_ids_only():
    block = action_blocks.action_buttons(1, 9)
    values = {e["action_id"]: json.loads(e["value"]) for e in block["elements"]}
    assert values == {"action_done": {"c": 1, "a": 9}, "action_progress": {"c": 1, "a": 9},
                      "action_new_date": {"c": 1, "a": 9}}
    assert block_errors([block]) == []


def test_forty_long_actions_page_within_message_limits():
    long = "x" * 1000
    actions = [_action(n, what=long, measure=long) for n in range(1, 41)]
    for page in range(4):
        blocks = action_blocks.actions_list(case_id=1, reference="CP-TEST-0001", actions=actions,
                                            owners={OWNER.id: OWNER}, today=TODAY, page=page)
        assert block_errors(blocks) == [], page
        shown = [b["block_id"] for b in blocks if b.get("block_id", "").startswith("action_buttons_")]
        assert shown == [f"action_buttons_{n}" for n in range(page * 10 + 1, page * 10 + 11)]
    assert view_errors(action_blocks.list_modal(blocks, case_id=1)) == []


def test_forms_are_valid_views():
    members = [OWNER, PARENT]
    assert view_errors(action_blocks.action_modal(case_id=1, members=members, goals=[], today=TODAY,
                                                  in_meeting=True, what="x" * 5000, owner_id=4)) == []
    assert view_errors(action_blocks.progress_modal(case_id=1, action=_action(), owner=OWNER, today=TODAY)) == []
    assert view_errors(action_blocks.new_date_modal(case_id=1, action=_action(), owner=OWNER, today=TODAY)) == []
    assert view_errors(action_blocks.decision_modal(case_id=1, in_meeting=False, text="y" * 5000)) == []


def test_decision_post_is_quoted_and_escaped():
    post = action_blocks.decision_post(decision=Decision(case_id=1, text="Line one\n<@U0X> two"), by=OWNER)
    text = json.dumps(post["blocks"])
    assert "> Line one" in text and "&lt;@U0X&gt; two" in text and block_errors(post["blocks"]) == []


def test_plain_text_from_a_message():
    names = {"U0HV": "Health Visitor A"}
    text = "Ask <@U0HV> and <@U0ZZ> about <https://example.org|the form> in <#C1|cg-x> &lt;soon&gt; <!here>"
    assert action_blocks.plain_from_message(text, names) == (
        "Ask Health Visitor A and someone about the form in #cg-x <soon>")


QUESTION = ScalingQuestion(id=1, case_id=1, question="How safe is Child A at home?", zero_means="Not safe",
                           ten_means="Everyone is confident Child A is safe", goal=7)


def _summary(scores: list[int], **values) -> RoundSummary:
    lines = [ScoreLine(member_id=n, name=f"Member {n}", role="Teacher", score=s, reason=f"Reason {n} " + "r" * 900,
                       to_move_up="u" * 900) for n, s in enumerate(scores)]
    fields = dict(question=QUESTION, scores=lines, low=min(scores), high=max(scores), median=5.0,
                  spread=max(scores) - min(scores), differs=max(scores) - min(scores) >= 3, previous_median=None,
                  previous_date=None, direction=None, round_id=1)
    fields.update(values)
    return RoundSummary(**fields)


def test_open_message_shows_who_never_what():
    message = scaling_blocks.open_message(case_id=1, round_id=1, question=QUESTION, answered=[OWNER, PARENT])
    text = json.dumps(message)
    assert "<@U0HV>" in text and "Mother &lt;of&gt; Child A" in text and "(2)" in text
    assert "Reason" not in text and "Lowest" not in text
    assert block_errors(message["blocks"]) == []


def test_revealed_scores_continue_in_the_thread_when_there_are_many():
    messages = scaling_blocks.revealed_messages(case_id=1, summary=_summary([2, 5, 8] * 20))
    # 60 long reasons are far more than one message holds: not only 50 blocks, but Slack's limit on the size
    # of a message's blocks (about 13,000 characters) too, so they go on over several messages in the thread.
    assert len(messages) > 2
    assert all(block_errors(m["blocks"]) == [] and not blocks_too_long(m["blocks"]) for m in messages)
    assert [b["type"] for m in messages for b in m["blocks"]].count("actions") == 1  # the buttons, once
    assert messages[0]["blocks"][-1]["type"] == "actions"
    text = json.dumps([m["blocks"] for m in messages])
    assert all(f"Reason {n} " in text for n in range(60))
    assert "A difference of view to talk about" in text


def test_trend_wording():
    down = _summary([4, 5], median=4.5, previous_median=6.0, previous_date=TODAY - timedelta(weeks=6),
                    direction="down", previous_low=5, previous_high=7)
    assert "It has gone *down* by 1.5" in scaling_blocks.trend_text(down)
    assert "Tuesday 27 October 2026" in scaling_blocks.trend_text(down)
    same = _summary([5], median=5.0, previous_median=5.0, previous_date=TODAY, direction="same", previous_low=5,
                    previous_high=5)
    assert "the same" in scaling_blocks.trend_text(same)


def test_score_form_opens_with_the_earlier_answer_and_is_valid():
    from models.tables import Score

    earlier = Score(round_id=1, member_id=3, score=6, reason="Better", to_move_up="More visits")
    view = scaling_blocks.score_modal(case_id=1, round_id=1, question=QUESTION, previous=earlier)
    assert view_errors(view) == []
    assert "replaces your score" in json.dumps(view)
    ask = scaling_blocks.ask_modal(case_id=1, meeting_id=2, children=[], dangers=[], questions=[QUESTION])
    assert view_errors(ask) == []
