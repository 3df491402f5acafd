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


def test_next_meeting_is_brought_forward_before_the_review_conference():
    proposed = cal.propose_meeting_date(
        today=date(2026, 11, 23), initial_conference=date(2026, 11, 2), frequency_weeks=6,
        last_meeting=date(2026, 11, 16), review_conference=date(2027, 1, 25),
    )
    # Six weeks on would be 28 December (a bank holiday) → 24 December, but the last meeting must be
    # at least ten working days before the review on 25 January: 11 January. 24 December is earlier, so it stands.
    assert proposed == date(2026, 12, 24)
    later = cal.propose_meeting_date(
        today=date(2026, 12, 1), initial_conference=date(2026, 11, 2), frequency_weeks=6,
        last_meeting=date(2026, 12, 24), review_conference=date(2027, 1, 25),
    )
    assert later == cal.last_meeting_deadline(date(2027, 1, 25)) == date(2027, 1, 11)


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
