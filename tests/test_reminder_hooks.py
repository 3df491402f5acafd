"""The hooks keep the ledger in step with the domain, and claiming never hands one row to two senders."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlmodel import Session

from models import ledger, reminders
from models.ledger import Kind, Planned
from models.planning import Policy
from models.tables import Case, MessageStatus
from tests.reminder_world import at, make_world

NOW = at("2026-11-23T12:00")
MEETING = at("2026-12-08T10:00")


@pytest.fixture(autouse=True)
def default_policy():
    reminders.configure(Policy())
    yield
    reminders.configure(Policy())


def live(world, **kinds) -> dict[str, list]:
    rows = world.rows(status=MessageStatus.PENDING)
    return {kind: sorted(r.due_at.isoformat() for r in rows if r.kind == kind) for kind in kinds.values()}


def test_scheduling_moving_and_moving_back_a_meeting(engine, slack):
    world = make_world(engine, slack, now=NOW)
    meeting = world.meeting(MEETING, now=NOW)
    kinds = {"2d": Kind.REMIND_2D, "day": Kind.APOLOGIES, "morning": Kind.REMIND_MORNING, "end": Kind.TIMEKEEPING}
    assert live(world, **kinds) == {
        Kind.REMIND_2D: ["2026-12-04T09:00:00+00:00"], Kind.APOLOGIES: ["2026-12-07T09:00:00+00:00"],
        Kind.REMIND_MORNING: ["2026-12-08T09:00:00+00:00"], Kind.TIMEKEEPING: ["2026-12-08T11:20:00+00:00"]}
    first_keys = {r.key for r in world.pending() if r.meeting_id == meeting}
    world.change_meeting(meeting, now=NOW, scheduled_start=MEETING + timedelta(days=1))
    assert live(world, **kinds)[Kind.REMIND_2D] == ["2026-12-07T09:00:00+00:00"]
    assert {r.key for r in world.rows(status=MessageStatus.CANCELLED)} == first_keys
    world.change_meeting(meeting, now=NOW, scheduled_start=MEETING)  # moved back: the first rows come back
    assert {r.key for r in world.pending() if r.meeting_id == meeting} == first_keys


def test_a_started_meeting_keeps_the_chairs_prompts_and_only_a_posted_record_moves_the_lapse_check(engine, slack):
    # Changed with issue 13: a running meeting also plans the prompts for a meeting left open, and a meeting
    # counts as held (moving the lapse check) only once its record is posted, not when it is merely ended.
    world = make_world(engine, slack, now=NOW, initial=date(2026, 11, 16), opened=True)
    assert [r.key for r in world.pending(Kind.LAPSE)] == [f"case:{world.case_id}:lapse:2026-11-30"]
    meeting = world.meeting(at("2026-11-27T10:00"), now=NOW)
    world.change_meeting(meeting, now=at("2026-11-27T10:00"), status="in_progress")
    running = {r.kind: r.due_at for r in world.pending() if r.meeting_id == meeting}
    # Friday 27 November, 10:00 for 90 minutes: the chair at 12:00, the lead on Monday morning, closed on Tuesday.
    assert running == {Kind.TIMEKEEPING: at("2026-11-27T11:20"), Kind.OPEN_CHAIR: at("2026-11-27T12:00"),
                       Kind.OPEN_LEAD: at("2026-11-30T09:00"), Kind.OPEN_CLOSE: at("2026-12-01T09:00")}
    world.change_meeting(meeting, now=at("2026-11-27T11:30"), status="ended")
    assert [r.meeting_id for r in world.pending()].count(meeting) == 1  # the stalling check, nothing else
    assert world.pending(Kind.STALLING)[0].meeting_id == meeting
    # Ended, but no record yet: it does not count as held, so the lapse check stays where it was.
    assert [r.key for r in world.pending(Kind.LAPSE)] == [f"case:{world.case_id}:lapse:2026-11-30"]
    world.post_record(meeting, now=at("2026-11-27T11:40"))
    # Six weeks after 27 November is 8 January 2027; checked on the next working morning.
    [lapse] = world.pending(Kind.LAPSE)
    assert lapse.key.endswith(":lapse:2027-01-08") and lapse.due_at == at("2027-01-11T09:00")


def test_actions_redated_or_done_move_or_withdraw_their_nudges(engine, slack):
    world = make_world(engine, slack, now=NOW)
    action = world.action("hv", date(2026, 12, 7), now=NOW)
    [first] = world.pending(Kind.OVERDUE)
    assert first.key == f"action:{action}:overdue:2026-12-07:1" and first.due_at == at("2026-12-08T09:00")
    world.change_action(action, now=NOW, due_date=date(2026, 12, 14))
    [second] = world.pending(Kind.OVERDUE)
    assert second.key == f"action:{action}:overdue:2026-12-14:1"
    world.change_action(action, now=NOW, status="done")
    assert world.pending(Kind.OVERDUE) == []


def test_removed_member_and_closed_case_withdraw_what_was_planned(engine, slack):
    world = make_world(engine, slack, now=NOW, opened=True)
    world.change_member("hv", now=NOW, away_until=date(2026, 12, 4))
    assert len(world.pending(Kind.AWAY)) == 1
    world.change_member("hv", now=NOW, status="removed")
    assert world.pending(Kind.AWAY) == []
    world.meeting(MEETING, now=NOW)
    with world.session() as session:
        reminders.case_closed(session, case=session.get(Case, world.case_id), now=NOW)
        session.commit()
    assert world.pending() == []


def test_the_same_key_planned_twice_is_one_row(engine, slack):
    world = make_world(engine, slack, now=NOW)
    planned = Planned(key="case:1:test", kind=Kind.DRIFT, case_id=world.case_id, due_at=NOW)
    with Session(engine) as session:
        ledger.insert_new(session, [planned], now=NOW)
        ledger.insert_new(session, [planned], now=NOW)
        ledger.plan(session, planned, now=NOW)
        session.commit()
    assert len([r for r in world.rows() if r.key == "case:1:test"]) == 1


def test_two_claimers_never_get_the_same_row(engine, slack):
    world = make_world(engine, slack, now=NOW)
    with Session(engine) as session:
        ledger.insert_new(session, [Planned(key=f"case:{world.case_id}:t{i}", kind=Kind.DRIFT, case_id=world.case_id,
                                            due_at=NOW - timedelta(minutes=i)) for i in range(5)], now=NOW)
        session.commit()
    lease = NOW + timedelta(minutes=5)
    second: list = []
    with Session(engine) as first_session:
        first = ledger.claim_due(first_session, now=NOW, me="one", lease_until=lease, limit=3)

        def claim_again():
            with Session(engine) as session:
                second.extend(ledger.claim_due(session, now=NOW, me="two", lease_until=lease, limit=5))
                session.commit()

        thread = threading.Thread(target=claim_again)
        thread.start()
        thread.join(timeout=0.5)  # PostgreSQL skips the locked rows; SQLite waits for this commit
        first_session.commit()
    thread.join(timeout=30)
    assert len(first) == 3 and len(second) == 2
    assert {r.id for r in first}.isdisjoint({r.id for r in second})
    assert [r.key for r in first] == [f"case:{world.case_id}:t{i}" for i in (4, 3, 2)]  # oldest first
