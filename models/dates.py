"""Dates within sense: the one rule for every date a person chooses in a form.

A date picker lets anyone choose 2999 or 1900. A due date in 2999 takes an action out of every reminder; a
meeting or review conference years ahead, or an initial conference generations ago, is a slip of the
calendar, not a plan. So every form checks its dates here, and each check gives the message to show on the
field (the form keeps what was typed):

- due dates of actions: from today (a new date: after today), and within a year;
- meetings (scheduling, moving, the next meeting in the end form): within a year (that they are in the
  future and on a working day is `models.meetings.check_start`);
- the initial conference: already held, and within the last two years (a plan older than that would have
  ended or been reviewed several times);
- the review conference: after today (and after the initial conference), and within a year;
- "away until": from today, within a year;
- the day a case closed: not in the future, and not before its initial conference.

Each function returns why not, or None.
"""

from __future__ import annotations

from datetime import date, timedelta

AHEAD = timedelta(days=366)  # the furthest ahead anything may be planned
INITIAL_BACK = timedelta(days=731)  # the longest ago an initial conference may have been held


def long_date(day: date) -> str:
    """E.g. "Tuesday 8 December 2026"."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def latest(today: date) -> date:
    return today + AHEAD


def _too_far(day: date, today: date, why: str = "") -> str | None:
    if day > latest(today):
        return f"{long_date(day)} is more than a year ahead. Choose a date by {long_date(latest(today))}{why}."
    return None


def check_due(day: date, *, today: date, after_today: bool = False) -> str | None:
    """An action's due date (`after_today` for a new date given to an action already set)."""
    if after_today and day <= today:
        return "Choose a date after today."
    if day < today:
        return "That date has passed. Choose today or a later date."
    if day > latest(today):
        return (f"Choose a date within the next year (by {long_date(latest(today))}); the plan is reviewed"
                " before then.")
    return None


def check_meeting_day(day: date, *, today: date) -> str | None:
    """How far ahead a core group meeting may be arranged (the past is refused by check_start)."""
    return _too_far(day, today, ": a core group meets at least every 12 weeks")


def check_initial_conference(day: date, *, today: date) -> str | None:
    if day > today:
        return "The initial conference must already have taken place."
    if day < today - INITIAL_BACK:
        return (f"Choose the date of the initial conference that started this plan, within the last two years"
                f" (from {long_date(today - INITIAL_BACK)}).")
    return None


def check_review_conference(day: date, *, today: date, initial: date | None = None) -> str | None:
    if initial is not None and day <= initial:
        return "The review conference must be after the initial conference."
    if day <= today:
        return "The next review conference must be after today. Please choose a date in the future."
    return _too_far(day, today, ": review conferences are held at least every six months")


def check_away_until(day: date, *, today: date) -> str | None:
    if day < today:
        return "Choose a date from today onwards, or leave it empty."
    return _too_far(day, today)


def check_closed_on(day: date, *, today: date, initial: date) -> str | None:
    if day > today:
        return "Choose today or an earlier date: close the case when it has happened."
    if day < initial:
        return f"The case cannot close before its initial conference on {day_month_year(initial)}."
    return None


def day_month_year(day: date) -> str:
    """E.g. "8 December 2026"."""
    return f"{day.day} {day:%B %Y}"
