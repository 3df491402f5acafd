"""Unit tests: the agenda's time boxes, the chair rotation, the calendar checks and the meeting builders."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from handlers.blocks import kit
from handlers.blocks import meetings as meeting_blocks
from handlers.blocks import start as start_blocks
from handlers.blocks import updates as update_blocks
from models import agenda, meetings
from models.audit import Actor
from models.calendar import WorkingCalendar
from models.tables import (
    Action,
    Case,
    Meeting,
    MeetingStatus,
    Member,
    MemberStatus,
    Update,
    UpdateActionProgress,
)
from tests.slack_standin import block_errors, view_errors

LONDON = ZoneInfo("Europe/London")
CAL = WorkingCalendar()
ACTOR = Actor(team_id="T0COUNCIL", user_id="U0SW")


# --- the agenda -------------------------------------------------------------------------------


@pytest.mark.parametrize("number", [1, 2])
@pytest.mark.parametrize("length", [30, 37, 45, 60, 75, 90, 100, 120, 150, 180, 240])
def test_time_boxes_add_up_to_the_meeting_length(length, number):
    # Changed with issue 13: the plan is the first item (reviewed at meeting 1, checked at every later one).
    items = agenda.agenda(length, datetime(2026, 11, 30, 10, 0, tzinfo=UTC), meeting_number=number)
    assert sum(item.minutes for item in items) == length
    assert all(item.minutes >= 1 for item in items)
    first = "Review the plan" if number == 1 else "Are we still working to the plan?"
    assert [item.title for item in items] == [first, *(title for title, _ in agenda.ITEMS)]
    assert items[0].starts == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    assert items[-1].ends == items[0].starts + timedelta(minutes=length)
    assert all(a.ends == b.starts for a, b in pairwise(items))


def test_a_ninety_minute_meeting_gets_the_guidance_weights_in_five_minute_steps():
    assert agenda.time_boxes(90) == [5, 10, 15, 10, 10, 15, 10, 10, 5]
    assert all(minutes % 5 == 0 for minutes in agenda.time_boxes(60))


# --- the chair rotation -----------------------------------------------------------------------


def _case(session) -> Case:
    case = Case(reference="CP-TEST-0900", team_id="T0COUNCIL", initial_conference_date=date(2026, 11, 16),
                created_by_team_id="T0COUNCIL", created_by_user_id="U0SW")
    session.add(case)
    session.flush()
    return case


def _member(session, case, user: str | None, role: str, *, lead: bool = False) -> Member:
    member = Member(case_id=case.id, name=f"Person {user}", role=role, slack_team_id="T0COUNCIL" if user else None,
                    slack_user_id=user, is_lead=lead)
    session.add(member)
    session.flush()
    return member


def _held(session, case, chair: Member, start: datetime, status=MeetingStatus.ENDED) -> Meeting:
    meeting = Meeting(case_id=case.id, scheduled_start=start, chair_member_id=chair.id, status=status)
    session.add(meeting)
    session.flush()
    return meeting


def test_the_chair_rotates_to_whoever_chaired_least_recently(session):
    case = _case(session)
    sw = _member(session, case, "U0SW", "Social worker", lead=True)
    hv = _member(session, case, "U0HV", "Health visitor")
    teacher = _member(session, case, "U0TEACH", "Teacher")
    _member(session, case, None, "Parent")  # family members are not asked to chair
    _member(session, case, None, "GP")  # nor people without Slack (they could not start the meeting)
    # The first meeting: the lead social worker.
    assert meetings.suggest_chair(session, case.id) == sw
    _held(session, case, sw, datetime(2026, 11, 30, 10, tzinfo=UTC))
    # Then the chair rotates: those who never chaired first.
    assert meetings.suggest_chair(session, case.id) == hv
    _held(session, case, hv, datetime(2027, 1, 11, 10, tzinfo=UTC))
    assert meetings.suggest_chair(session, case.id) == teacher
    _held(session, case, teacher, datetime(2027, 2, 22, 10, tzinfo=UTC))
    assert meetings.suggest_chair(session, case.id) == sw  # least recently
    # A cancelled meeting does not count as chairing.
    _held(session, case, sw, datetime(2027, 3, 1, 10, tzinfo=UTC), status=MeetingStatus.CANCELLED)
    assert meetings.suggest_chair(session, case.id) == sw
    sw.status = MemberStatus.REMOVED
    session.add(sw)
    session.flush()
    assert meetings.suggest_chair(session, case.id) == hv
    # Who actually chaired counts, not who was asked to.
    _held(session, case, hv, datetime(2027, 4, 12, 10, tzinfo=UTC)).chaired_by_member_id = teacher.id
    session.flush()
    assert meetings.suggest_chair(session, case.id) == hv


def test_the_lead_social_worker_may_stand_in_as_chair(session):
    case = _case(session)
    sw = _member(session, case, "U0SW", "Social worker", lead=True)
    hv = _member(session, case, "U0HV", "Health visitor")
    teacher = _member(session, case, "U0TEACH", "Teacher")
    meeting = _held(session, case, hv, datetime(2026, 11, 30, 10, tzinfo=UTC), status=MeetingStatus.SCHEDULED)
    assert meetings.is_chair(session, meeting, hv) and meetings.is_chair(session, meeting, sw)
    assert not meetings.is_chair(session, meeting, teacher)
    assert not meetings.is_chair(session, meeting, None)


def test_one_upcoming_meeting_at_a_time(session):
    case = _case(session)
    sw = _member(session, case, "U0SW", "Social worker", lead=True)
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    first = meetings.schedule(session, case=case, start=datetime(2026, 11, 30, 10, tzinfo=UTC), duration_minutes=90,
                              location="Room 2", chair_member_id=sw.id, actor=ACTOR, now=now)
    with pytest.raises(meetings.DomainError, match="already scheduled"):
        meetings.schedule(session, case=case, start=datetime(2026, 12, 1, 10, tzinfo=UTC), duration_minutes=90,
                          location="Room 2", chair_member_id=sw.id, actor=ACTOR, now=now)
    meetings.cancel(session, meeting=first, reason="Snow", actor=ACTOR, now=now)
    with pytest.raises(meetings.DomainError):
        meetings.move(session, meeting=first, start=datetime(2026, 12, 2, 10, tzinfo=UTC), reason="x", actor=ACTOR,
                      now=now)
    second = meetings.schedule(session, case=case, start=datetime(2026, 12, 1, 10, tzinfo=UTC), duration_minutes=90,
                               location="Room 2", chair_member_id=sw.id, actor=ACTOR, now=now)
    assert second.number == 1 and meetings.upcoming(session, case.id) == second


def test_only_a_professional_on_slack_can_be_asked_to_chair(session):
    case = _case(session)
    _member(session, case, "U0SW", "Social worker", lead=True)
    parent = _member(session, case, None, "Parent")
    gp = _member(session, case, None, "GP")  # on no Slack: could not press the chair's buttons
    start, now = datetime(2026, 11, 30, 10, tzinfo=UTC), datetime(2026, 11, 23, 9, tzinfo=UTC)
    for chair in (parent, gp):
        with pytest.raises(meetings.DomainError, match="professional in the core group who uses Slack"):
            meetings.schedule(session, case=case, start=start, duration_minutes=90, location="Room 2",
                              chair_member_id=chair.id, actor=ACTOR, now=now)
    assert [m.role for m in meetings.chairs(session, case.id)] == ["Social worker"]


def test_who_actually_chairs_is_recorded_at_the_start(session):
    case = _case(session)
    sw = _member(session, case, "U0SW", "Social worker", lead=True)
    hv = _member(session, case, "U0HV", "Health visitor")
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    meeting = meetings.schedule(session, case=case, start=datetime(2026, 11, 30, 10, tzinfo=UTC),
                                duration_minutes=90, location="Room 2", chair_member_id=hv.id, actor=ACTOR, now=now)
    # The lead social worker presses Start for the chair, who is here: the chair chairs.
    assert meetings.actual_chair(meeting=meeting, starter=sw, marked={hv.id: "present", sw.id: "present"}) == hv.id
    # The chair is not here: the lead social worker, starting it, stands in.
    assert meetings.actual_chair(meeting=meeting, starter=sw, marked={hv.id: "apologies", sw.id: "present"}) == sw.id
    meetings.start(session, meeting=meeting, present={sw.id: "present", hv.id: "apologies"}, actor=ACTOR, now=now,
                   chaired_by=sw.id)
    assert meeting.chaired_by_member_id == sw.id and meetings.chair_id_of(meeting) == sw.id
    assert meetings.is_chair(session, meeting, sw) and not meetings.is_chair(session, meeting, hv)


# --- the calendar checks ----------------------------------------------------------------------


def test_check_start_explains_weekends_bank_holidays_and_the_past():
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    assert "Good Friday" in meetings.check_start(CAL, start=CAL.at(date(2027, 3, 26), _ten()), now=now)
    assert "Sunday" in meetings.check_start(CAL, start=CAL.at(date(2026, 11, 29), _ten()), now=now)
    assert "already passed" in meetings.check_start(CAL, start=CAL.at(date(2026, 11, 20), _ten()), now=now)
    assert meetings.check_start(CAL, start=CAL.at(date(2026, 11, 24), _ten()), now=now) is None


def _ten():
    from datetime import time

    return time(10, 0)


def test_the_proposal_says_why():
    case = Case(reference="CP-TEST-0901", team_id="T", initial_conference_date=date(2026, 11, 2),
                review_conference_date=date(2027, 1, 25), frequency_weeks=6, created_by_team_id="T",
                created_by_user_id="U")
    first = meetings.propose(CAL, case=case, last_meeting=None, today=date(2026, 11, 23))
    # The first deadline (16 November) has passed, so the next working day is suggested.
    assert first.day == date(2026, 11, 24)
    assert "by Monday 16 November 2026" in first.reasons[0] and "has passed" in first.reasons[-1]
    later = meetings.propose(CAL, case=case, last_meeting=date(2026, 11, 24), today=date(2026, 11, 25))
    assert later.day == date(2027, 1, 5)  # six weeks on; 5 January (a working day)
    assert any("review conference" in reason for reason in later.reasons)


def _reviewed(review: date) -> Case:
    return Case(reference="CP-TEST-0902", team_id="T", initial_conference_date=date(2026, 9, 1),
                review_conference_date=review, frequency_weeks=6, created_by_team_id="T", created_by_user_id="U")


def test_the_review_warning_is_only_for_the_ten_working_days_before_a_review_still_to_come():
    case = _reviewed(date(2026, 11, 20))  # Friday 20 November 2026; ten working days before is 6 November

    def at(day: date) -> datetime:
        return CAL.at(day, _ten())

    # Long after the review (the audit's example), and on the review day itself: nothing to warn about.
    assert meetings.deadline_warning(CAL, case=case, start=at(date(2027, 3, 2)), first=False) is None
    assert meetings.deadline_warning(CAL, case=case, start=at(date(2026, 11, 20)), first=False) is None
    assert meetings.deadline_warning(CAL, case=case, start=at(date(2026, 11, 6)), first=False) is None
    warned = meetings.deadline_warning(CAL, case=case, start=at(date(2026, 11, 9)), first=False)
    assert "less than 10 working days before the review conference on Friday 20 November 2026" in warned
    assert "by Friday 6 November 2026" in warned
    # A new review date being saved with the meeting is the one checked.
    moved = meetings.deadline_warning(CAL, case=case, start=at(date(2027, 3, 2)), first=False,
                                      review_conference=date(2027, 3, 5))
    assert "review conference on Friday 5 March 2027" in moved


def test_the_proposal_explains_a_date_brought_forward_or_left_after_the_review():
    brought = meetings.propose(CAL, case=_reviewed(date(2027, 2, 5)), last_meeting=date(2026, 12, 14),
                               today=date(2026, 12, 15))
    assert brought.day == date(2027, 1, 22)
    assert any("brought forward to that day" in reason for reason in brought.reasons)
    assert not any("has passed" in reason for reason in brought.reasons)
    after = meetings.propose(CAL, case=_reviewed(date(2027, 1, 25)), last_meeting=date(2027, 1, 4),
                             today=date(2027, 1, 5))
    assert after.day == date(2027, 2, 15)
    assert any("Monday 4 January 2027 is the last core group before the review" in reason
               and "no extra meeting" in reason for reason in after.reasons)


# --- builders ---------------------------------------------------------------------------------


def _meeting(**kwargs) -> Meeting:
    values = dict(id=7, case_id=3, number=2, scheduled_start=datetime(2027, 6, 8, 9, 0, tzinfo=UTC),
                  duration_minutes=90, location="Room 2", chair_member_id=1, status=MeetingStatus.SCHEDULED)
    values.update(kwargs)
    return Meeting(**values)


def test_when_text_uses_local_time_in_summer():
    # 09:00 UTC in June is 10:00 in London (British Summer Time).
    assert meeting_blocks.when_text(_meeting(), "Europe/London") == "Tuesday 8 June 2027, 10:00 to 11:30"
    assert meeting_blocks.when_text(_meeting(), LONDON) == "Tuesday 8 June 2027, 10:00 to 11:30"


def test_meeting_message_buttons_carry_ids_only_and_go_when_cancelled():
    chair = Member(id=1, case_id=3, name="Health Visitor A", role="Health visitor", slack_user_id="U0HV",
                   status=MemberStatus.ACTIVE)
    message = meeting_blocks.meeting_message(meeting=_meeting(), chair=chair, tz=LONDON, case_id=3)
    assert block_errors(message["blocks"]) == []
    values = [e["value"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    # Attending, Send apologies, Send my update; the chair's Start and Record the family's views (the case only)
    assert values == ['{"c":3,"m":7}'] * 4 + ['{"c":3}']
    cancelled = meeting_blocks.meeting_message(meeting=_meeting(status=MeetingStatus.CANCELLED), chair=chair,
                                               tz=LONDON, case_id=3)
    assert not any(b["type"] == "actions" for b in cancelled["blocks"])


def test_long_updates_are_split_over_sections_and_messages():
    member = Member(id=1, case_id=3, name="Teacher A", role="Teacher", slack_user_id="U0TEACH",
                    status=MemberStatus.ACTIVE)
    long = "A sentence about the week. " * 600  # about 16,000 characters
    update = Update(id=1, meeting_id=7, member_id=1, version=2, child_views=long, contacts=long, working_well=long,
                    worries=long, needs_to_happen=long)
    actions = [(Action(id=i, case_id=3, what=f"Action {i} " + "x" * 900, owner_member_id=1,
                       due_date=date(2027, 1, 1)), UpdateActionProgress(update_id=1, action_id=i, status="delayed",
                                                                        note="y" * 900))
               for i in range(40)]
    blocks = update_blocks.update_blocks(update=update, member=member, meeting=_meeting(), progress=actions,
                                         replaces=True)
    groups = kit.split_messages(blocks)
    assert len(groups) > 1
    assert all(block_errors(group) == [] for group in groups)
    text = "".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert text.count("sentence") == 5 * 600  # every word is there
    assert text.count("y" * 900) == 40


def test_update_form_stays_within_a_modals_limits_with_many_actions_and_questions():
    from models.tables import ScalingQuestion

    actions = [Action(id=i, case_id=3, what="w" * 1000, owner_member_id=1, due_date=date(2027, 1, 1))
               for i in range(60)]
    questions = [ScalingQuestion(id=i, case_id=3, question="q" * 500, zero_means="z" * 300, ten_means="t" * 300)
                 for i in range(12)]
    view = update_blocks.update_modal(case_id=3, meeting=_meeting(), tz=LONDON, since="the last meeting",
                                      actions=actions, questions=questions, previous=None, previous_progress={},
                                      reply="apologies")
    assert view_errors(view) == []
    assert "more of your actions" in json.dumps(view["blocks"])


def test_start_post_with_a_large_group_stays_within_limits():
    people = [Member(id=i, case_id=3, name=f"Person {i}", role="Teacher", slack_user_id=f"U{i:08d}",
                     status=MemberStatus.ACTIVE) for i in range(120)]
    started = datetime(2026, 11, 30, 10, tzinfo=UTC)
    post = start_blocks.start_post(meeting=_meeting(), chair=people[0], tz=LONDON, started=started,
                                   present=people[:80], apologies=people[80:100], absent=people[100:],
                                   items=agenda.agenda(90, started))
    assert block_errors(post["blocks"]) == []
    view = start_blocks.start_modal(case_id=3, meeting=_meeting(), tz=LONDON, people=people, suggested={},
                                    sent_update=set(), today=date(2026, 11, 30))
    assert view_errors(view) == []
