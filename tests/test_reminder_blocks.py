"""The scheduled messages' builders: user text escaped, and long lists within Block Kit's limits."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from handlers.blocks import reminders as texts
from models import dispatch
from models.ledger import Kind
from models.stalling import Stalling
from models.tables import Action, Case, Meeting, Member
from tests.slack_standin import block_errors

CASE = Case(id=1, reference="CP-TEST-0001", team_id="T0COUNCIL", channel_id="C1",
            initial_conference_date=date(2026, 11, 2), created_by_team_id="T0COUNCIL", created_by_user_id="U0SW")
OWNER = Member(id=2, case_id=1, name="Health Visitor <!channel>", role="Health visitor", slack_user_id="U0HV",
               slack_team_id="T0COUNCIL")
TODAY = date(2026, 12, 10)


def action(n: int, what: str = "Visit & check <@U0OTHER>") -> Action:
    return Action(id=n, case_id=1, what=what, owner_member_id=2, due_date=date(2026, 12, 1), measure="<b>",
                  carried_forward=n % 4)


def test_user_text_cannot_mention_or_link():
    text, blocks = texts.overdue(CASE, dispatch.Overdue(action=action(1), owner=OWNER, days_late=3, to_lead=False),
                                 TODAY)
    everything = text + json.dumps(blocks)
    assert "<@U0OTHER>" not in everything and "<!channel>" not in everything
    assert "Visit &amp; check &lt;@U0OTHER&gt;" in everything
    meeting = Meeting(id=3, case_id=1, scheduled_start=datetime(2026, 12, 8, 10, tzinfo=UTC),
                      location="<https://evil.example|Room 4>")
    _, blocks = texts.meeting_reminder(CASE, dispatch.MeetingReminder(Kind.REMIND_2D_MEMBER, meeting, OWNER),
                                       "Europe/London")
    assert "<https://evil.example" not in json.dumps(blocks)


def test_long_lists_stay_within_block_kit_limits():
    items = [dispatch.DriftItem(action=action(n, "x" * 900), owner=OWNER, days_late=n, away_until=None)
             for n in range(1, 121)]
    _, blocks = texts.drift(CASE, dispatch.Drift(items=items))
    assert block_errors(blocks) == [] and len(blocks) <= 50
    assert "…and 80 more." in json.dumps(blocks, ensure_ascii=False)
    carried = [(action(n, "y" * 500), OWNER) for n in range(60)]
    _, blocks = texts.stalling(CASE, Stalling(carried=carried, falling=[("How safe is Child A at home?", [6, 5, 3])]))
    assert block_errors(blocks) == []


def test_the_review_reminder_offers_a_button_to_book_a_meeting_when_none_is_booked():
    """A member from another organisation has no slash commands: what the reminder asks for is a button."""
    text, blocks = texts.review(CASE, dispatch.Review(review=date(2027, 1, 20), booked=None, days=14), "Europe/London")
    assert "/coregroup" not in text + json.dumps(blocks)
    [book] = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert book["text"]["text"] == "Book the next meeting" and json.loads(book["value"]) == {"c": CASE.id}
    meeting = Meeting(id=3, case_id=1, scheduled_start=datetime(2027, 1, 6, 10, tzinfo=UTC))
    _, blocks = texts.review(CASE, dispatch.Review(review=date(2027, 1, 20), booked=meeting, days=14), "Europe/London")
    assert not [b for b in blocks if b["type"] == "actions"]
