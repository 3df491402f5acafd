"""The per-meeting facts the oversight measures count (models/meeting_facts.py) stay true as a meeting is ended,
its record posted, the family version given and a written update sent, in the same transaction as each change;
and `coregroup oversight rebuild` gives exactly the same facts and figures as the incremental updates."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlalchemy import text
from sqlmodel import select

from bot import cli
from models import actions, meeting_facts, meetings, oversight, recap_posting, reminders
from models.audit import Actor
from models.calendar import WorkingCalendar
from models.planning import Policy
from models.tables import (
    Action,
    FamilyHandover,
    FamilyVersion,
    Meeting,
    MeetingStatus,
    Member,
    Recap,
    RecapStatus,
    Update,
)
from tests.oversight_world import END, START, TEAM, TODAY, build

EVERYTHING = ("SELECT id FROM cases", {})


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _fact(session, meeting_id: int):
    return session.execute(text("SELECT seq, n, due_n, posted_n, given_n, child_said FROM meeting_facts"
                                " WHERE meeting_id = :m"), {"m": meeting_id}).mappings().first()


def _attendance(session, meeting_id: int) -> dict[str, tuple[int, int, int, int]]:
    rows = session.execute(text("SELECT org, present, apologies_update, apologies_only, absent"
                                " FROM meeting_attendance_facts WHERE meeting_id = :m"), {"m": meeting_id})
    return {row[0]: tuple(row[1:]) for row in rows}


def _october(session, key: str) -> dict:
    table = oversight.measure(session, key, scope=EVERYTHING, start=START, end=END, today=TODAY)
    return next((row for row in table.rows if row["group"] == "2026-10"), {})


def _everything(session) -> tuple:
    """Every fact, and the facts summed by workspace and day as each change came (minus the old, plus the new, and
    a row left at nought taken away), and every figure."""
    rows = [tuple(row) for table in (*meeting_facts.FACT_TABLES, *meeting_facts.SUM_TABLES)
            for row in session.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2, 3")).all()]
    figures = [(table.measure.key, table.rows)
               for by in ("month", "organisation", "team")
               for table in oversight.report(session, scope=EVERYTHING, start=START, end=END, today=TODAY,
                                             by=by).tables]
    return rows, figures


def test_the_facts_follow_a_meeting_from_its_end_to_the_family_version_and_a_rebuild_agrees(
        engine, session, monkeypatch, capsys):
    world = build(session)
    b = world.cases["b"]  # first core group Tue 8 September; the next was due by Tue 20 October
    people = {m.role: m for m in session.exec(select(Member).where(Member.case_id == b))}
    social_worker, police = people["Social worker"], people["Police officer"]
    chair = Actor(team_id=social_worker.slack_team_id, user_id=social_worker.slack_user_id)
    assert _october(session, "later_meetings")["meetings"] == 1  # CP-TEST-0001's only

    # Thursday 22 October: the meeting starts, attendance is taken, and it ends.
    meeting = Meeting(case_id=b, number=2, scheduled_start=_at(date(2026, 10, 22)), status=MeetingStatus.IN_PROGRESS,
                      chair_member_id=social_worker.id, started_at=_at(date(2026, 10, 22)))
    session.add(meeting)
    session.flush()
    meetings.set_attendance(session, meeting=meeting, member=social_worker, status="present", actor=chair,
                            now=_at(date(2026, 10, 22)))
    meetings.set_attendance(session, meeting=meeting, member=police, status="apologies", actor=chair,
                            now=_at(date(2026, 10, 22)))
    session.commit()
    recap_posting.end_meeting(session, meeting=meeting, actor=chair, now=_at(date(2026, 10, 22), 12))
    session.commit()
    assert _fact(session, meeting.id) is None  # ended, but not held until its record is posted
    assert _october(session, "later_meetings")["meetings"] == 1

    # Friday 23 October: the record is posted (1 working day after: on time). Now it counts, 2 working days late.
    recap = Recap(meeting_id=meeting.id, status=RecapStatus.POSTING,
                  content=json.dumps({"child_views": {"text": "Child A said they were happy.", "not_obtained": ""},
                                      "parents_views": ""}))
    session.add(recap)
    session.commit()
    recap_posting.mark_posted(session, recap_id=recap.id, now=_at(date(2026, 10, 23), 15))
    session.commit()
    fact = _fact(session, meeting.id)
    assert (fact["seq"], fact["n"] - fact["due_n"], fact["posted_n"] - fact["n"], fact["given_n"],
            fact["child_said"]) == (2, 2, 1, None, 1)
    later = _october(session, "later_meetings")
    assert (later["meetings"], later["late"], later["days_late"]) == (2, 1, 2)
    assert _attendance(session, meeting.id) == {"Children's services": (1, 0, 0, 0), "Police": (0, 0, 1, 0)}
    records = _october(session, "records")
    assert (records["meetings"], records["record_on_time"], records["family_late"]) == (2, 2, 1)

    # Monday 2 November: the family version is given (7 working days after: late).
    version = FamilyVersion(case_id=b, meeting_id=meeting.id, recap_id=recap.id, status="approved",
                            content="Family version.")
    session.add(version)
    session.flush()
    session.add(FamilyHandover(family_version_id=version.id, case_id=b, meeting_id=meeting.id,
                               given_on=date(2026, 11, 2), how="in person", given_to="Mother of Child A"))
    session.commit()
    fact = _fact(session, meeting.id)
    assert fact["given_n"] - fact["n"] == 7
    assert _october(session, "records")["family_late"] == 2

    # The police's written update, sent late, turns their apologies into apologies with an update.
    session.add(Update(meeting_id=meeting.id, member_id=police.id, working_well="Fixture update."))
    session.commit()
    assert _attendance(session, meeting.id)["Police"] == (0, 1, 0, 0)

    # A change rolled back leaves the facts as they were.
    police.agency = "Another organisation"
    session.add(police)
    session.flush()
    session.rollback()
    assert "Police" in _attendance(session, meeting.id)

    incremental = _everything(session)
    session.commit()
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    session.execute(text("DELETE FROM meeting_attendance_facts"))  # as if left behind: the rebuild restores them
    session.commit()
    assert cli.main(["oversight", "rebuild"]) == 0
    assert "Worked out the facts of 4 held core groups again." in capsys.readouterr().out
    session.expire_all()
    assert _everything(session) == incremental


def test_a_members_organisation_changed_moves_their_attendance(session):
    world = build(session)
    police = session.exec(select(Member).where(Member.case_id == world.cases["a"], Member.role == "Police officer")
                          ).one()
    police.agency = "British Transport Police"
    session.add(police)
    session.commit()
    table = oversight.measure(session, "attendance", scope=EVERYTHING, start=START, end=END, today=TODAY,
                              by="organisation")
    by_org = {row["group"]: row for row in table.rows}
    assert by_org["British Transport Police"]["apologies_only"] == 2  # CP-TEST-0001's two meetings
    assert by_org["Police"]["apologies_only"] == 1  # CP-TEST-0002's


def _figures(session, scope: tuple[str, dict], by: str) -> list:
    return [(table.measure.key, table.rows)
            for table in oversight.report(session, scope=scope, start=START, end=END, today=TODAY, by=by).tables]


def test_a_whole_workspace_counted_from_the_sums_by_day_agrees_with_counting_case_by_case(session):
    """An analyst's and the monthly report's figures come from the facts summed by workspace and day; a team
    manager's from each case's facts. The same cases give the same figures either way, measure by measure, as
    actions are carried forward and done."""
    world = build(session)
    a = world.cases["a"]
    owner = session.exec(select(Member).where(Member.case_id == a, Member.role == "Police officer")).one()
    chair = Actor(team_id=TEAM, user_id="U0SW1")
    overdue = Action(case_id=a, what="Fixture action.", owner_member_id=owner.id, due_date=date(2026, 10, 2))
    done = Action(case_id=a, what="Fixture action.", owner_member_id=owner.id, due_date=date(2026, 10, 9),
                  carried_forward=1)
    session.add_all([overdue, done])
    session.commit()
    actions.mark_done(session, action=done, actor=chair, member_id=None, now=_at(date(2026, 10, 12)))
    session.commit()
    workspace = ("SELECT id FROM cases WHERE team_id = :st", {"st": TEAM})
    for by in ("month", "organisation"):
        case_by_case = _figures(session, ("SELECT id FROM cases WHERE id > 0", {}), by)
        assert _figures(session, EVERYTHING, by) == case_by_case
        assert _figures(session, workspace, by) == case_by_case
        assert _figures(session, ("SELECT id FROM cases WHERE team_id = :st AND id > 0", {"st": TEAM}), by) \
            == case_by_case
    by_org = {row["group"]: row for row in oversight.measure(
        session, "actions", scope=EVERYTHING, start=START, end=END, today=TODAY, by="organisation").rows}
    # the police's three: overdue, done after being carried forward once, and CP-TEST-0003's carried twice
    assert (by_org["Police"]["actions"], by_org["Police"]["overdue"], by_org["Police"]["carried"],
            by_org["Police"]["times_carried"]) == (3, 2, 2, 3)


def test_a_meeting_just_after_midnight_in_summer_counts_on_its_day_in_london_and_a_new_timezone_recounts(
        engine, session):
    """A core group booked for 00.30 on Saturday 3 October 2026 in London (23.30 UTC on the Friday) counts on
    London's day. When the app's timezone changes, the facts are worked out again at start."""
    world = build(session)
    held = session.exec(select(Meeting).where(Meeting.case_id == world.cases["a"], Meeting.number == 1)).one()
    held.scheduled_start = datetime(2026, 10, 2, 23, 30, tzinfo=UTC)  # 00.30 on Saturday 3 October in London
    session.add(held)
    session.commit()
    day = session.execute(text("SELECT day, month FROM meeting_facts WHERE meeting_id = :m"), {"m": held.id}).one()
    assert str(day[0]) == "2026-10-03"
    # an escalation sent at 23.30 UTC on Wednesday 30 September was sent at 00.30 on 1 October in London
    session.execute(text("UPDATE scheduled_messages SET sent_at = :at WHERE kind = 'case.lapse.channel'"),
                    {"at": datetime(2026, 9, 30, 23, 30)})
    lapses = oversight.measure(session, "lapses", scope=EVERYTHING, start=START, end=END, today=TODAY)
    assert [(row["group"], row["escalations"]) for row in lapses.rows] == [("2026-10", 1)]
    lapses = oversight.measure(session, "lapses", scope=EVERYTHING, start=START, end=date(2026, 9, 30), today=TODAY)
    assert lapses.rows == []
    session.commit()
    assert meeting_facts.ensure_current(engine)  # this database's facts were never stamped with their rules
    assert not meeting_facts.ensure_current(engine)
    reminders.configure(Policy(calendar=WorkingCalendar(timezone="UTC")))
    try:
        assert meeting_facts.ensure_current(engine)
        session.expire_all()
        day = session.execute(text("SELECT day FROM meeting_facts WHERE meeting_id = :m"), {"m": held.id}).one()
        assert str(day[0]) == "2026-10-02"
    finally:
        reminders.configure(Policy())


def test_a_database_upgrade_works_the_facts_out_again_once_for_new_rules(engine, session, monkeypatch, capsys):
    """An administrator upgrading the database before starting the new version: facts built by older rules (here
    never stamped) are worked out again once, and not at the next upgrade."""
    build(session)
    session.execute(text("DELETE FROM held_by_day"))  # as if built by rules that did not keep these sums
    session.commit()
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    assert cli.main(["db", "upgrade"]) == 0
    assert "oversight facts: worked out again" in capsys.readouterr().out
    session.expire_all()
    assert session.execute(text("SELECT SUM(meetings) FROM held_by_day")).scalar_one() == 3
    session.commit()
    assert cli.main(["db", "upgrade"]) == 0
    assert "oversight facts" not in capsys.readouterr().out
