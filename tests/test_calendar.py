"""The working calendar: weekends, England and Wales bank holidays, and the statutory meeting dates."""

from datetime import UTC, date, datetime, time

from models.calendar import WorkingCalendar

cal = WorkingCalendar()


def test_weekends_and_bank_holidays_are_not_working_days():
    assert cal.is_working_day(date(2026, 12, 24))
    assert not cal.is_working_day(date(2026, 12, 25))  # Christmas Day
    assert not cal.is_working_day(date(2026, 12, 28))  # Boxing Day substitute (26th is a Saturday)
    assert not cal.is_working_day(date(2026, 8, 31))  # summer bank holiday in England and Wales
    assert not cal.is_working_day(date(2026, 11, 28))  # Saturday


def test_adding_working_days_skips_christmas():
    # Wednesday 23 December 2026 + 3 working days: 24th, (25th, 26th, 27th, 28th off), 29th, 30th.
    assert cal.add_working_days(date(2026, 12, 23), 3) == date(2026, 12, 30)
    assert cal.add_working_days(date(2026, 12, 30), -3) == date(2026, 12, 23)


def test_first_meeting_within_ten_working_days_of_conference():
    # Conference Monday 2 November 2026: ten working days later is Monday 16 November.
    assert cal.first_meeting_deadline(date(2026, 11, 2)) == date(2026, 11, 16)


def _next(last: date, review: date | None, weeks: int = 6, today: date = date(2026, 11, 23)) -> date:
    return cal.propose_meeting_date(today=today, initial_conference=date(2026, 11, 2), frequency_weeks=weeks,
                                    last_meeting=last, review_conference=review)


def test_a_next_meeting_due_before_the_review_deadline_stands():
    # Six weeks on would be 28 December (a bank holiday) → 24 December. The last meeting before the review on
    # 25 January must be at least ten working days before it: by 11 January. 24 December is earlier, so it stands.
    assert _next(date(2026, 11, 16), date(2027, 1, 25)) == date(2026, 12, 24)


def test_a_meeting_that_already_meets_the_review_rule_is_not_followed_by_an_extra_one():
    # After the 24 December meeting, six weeks on is Thursday 4 February, after the review on 25 January. The
    # 24 December meeting is then the last core group before the review, 19 working days before it: the rule
    # (at least 10 working days before) is met. Suggesting 11 January would add a meeting the rule does not ask
    # for, two and a half weeks after the last one over Christmas, so the six-weekly date stands.
    assert cal.working_days_between(date(2026, 12, 24), date(2027, 1, 25)) == 19
    assert _next(date(2026, 12, 24), date(2027, 1, 25), today=date(2026, 12, 24)) == date(2027, 2, 4)
    # The same when the last meeting was three weeks before the review (4 January): not 11 January.
    assert _next(date(2027, 1, 4), date(2027, 1, 25), today=date(2027, 1, 4)) == date(2027, 2, 15)


def test_a_next_meeting_inside_the_ten_days_before_the_review_is_brought_forward_to_the_deadline():
    # Six weeks after 14 December is Monday 25 January, inside the ten working days before the review on Friday
    # 5 February. That meeting would be the last before the review and too close to it, so it is brought
    # forward to the deadline itself, Friday 22 January: as close to the review as the rule allows.
    assert cal.last_meeting_deadline(date(2027, 2, 5)) == date(2027, 1, 22)
    assert _next(date(2026, 12, 14), date(2027, 2, 5)) == date(2027, 1, 22)


def test_a_weekly_group_that_has_just_met_by_the_deadline_next_meets_after_the_review():
    # Meeting weekly, the last meeting was on the deadline itself (11 January, ten working days before the
    # review on 25 January). 18 January would be too close to the review, and there is no room to bring it
    # forward, so the next meeting is the working day after the review.
    assert _next(date(2027, 1, 11), date(2027, 1, 25), weeks=1, today=date(2027, 1, 11)) == date(2027, 1, 26)
    # Fortnightly, a meeting on 6 January: 20 January is inside the window, and the deadline (11 January) is
    # less than half an interval later, so again after the review rather than a meeting three working days on.
    assert _next(date(2027, 1, 6), date(2027, 1, 25), weeks=2, today=date(2027, 1, 6)) == date(2027, 1, 26)


def test_a_review_conference_already_held_does_not_move_the_next_meeting():
    # The review on 20 November 2026 was before the last meeting: six weeks on from 23 November is 4 January.
    assert _next(date(2026, 11, 23), date(2026, 11, 20), today=date(2026, 11, 23)) == date(2027, 1, 4)


def test_proposal_is_never_in_the_past():
    proposed = cal.propose_meeting_date(
        today=date(2026, 11, 23), initial_conference=date(2026, 9, 1), frequency_weeks=6,
        last_meeting=None, review_conference=None,
    )
    assert proposed == date(2026, 11, 24)


def test_working_hours_across_the_clock_changes():
    # Summer time starts on 28 March 2027 (Easter Sunday; Good Friday and Easter Monday are bank holidays).
    # 08:30 UTC on Tuesday 30 March is 09:30 in London: inside working hours.
    assert cal.in_working_hours(datetime(2027, 3, 30, 8, 30, tzinfo=UTC))
    assert not cal.in_working_hours(datetime(2027, 3, 29, 8, 30, tzinfo=UTC))  # Easter Monday
    # 08:30 UTC on Wednesday 24 March is 08:30 in London (winter time): before working hours.
    assert not cal.in_working_hours(datetime(2027, 3, 24, 8, 30, tzinfo=UTC))
    # After the October change, 09:00 London is 09:00 UTC again.
    moment = cal.next_working_moment(datetime(2026, 10, 26, 7, 0, tzinfo=UTC))
    assert moment == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)


def test_next_working_moment_after_hours_goes_to_next_working_morning():
    friday_evening = datetime(2026, 12, 24, 18, 0, tzinfo=UTC)
    assert cal.next_working_moment(friday_evening) == cal.at(date(2026, 12, 29), time(9, 0))
