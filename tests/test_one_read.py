"""The one-statement check behind busy forms (models.cases.standing on models.db.OneRead): the same answers
as the records say, on both databases, and a clear failure, or a second try, when the database is not there."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from models import cases
from models.db import make_engine
from models.tables import Case, CaseStatus, Meeting, MeetingStatus, Member, MemberStatus
from tests.conftest import DATABASE


@pytest.fixture
def world(session):
    case = Case(reference="CP-TEST-0001", team_id="T0COUNCIL", channel_id="C0CASE", initial_conference_date=date(
        2026, 11, 16), created_by_team_id="T0COUNCIL", created_by_user_id="U0SW")
    other = Case(reference="CP-TEST-0002", team_id="T0COUNCIL", channel_id="C0OTHER", initial_conference_date=date(
        2026, 11, 16), created_by_team_id="T0COUNCIL", created_by_user_id="U0SW", status=CaseStatus.CLOSED)
    session.add_all([case, other])
    session.flush()
    teacher = Member(case_id=case.id, name="Teacher A", role="Teacher", slack_team_id="T0SCHOOL",
                     slack_user_id="U0TEACH")
    gone = Member(case_id=case.id, name="Police officer A", role="Police", slack_team_id="T0COUNCIL",
                  slack_user_id="U0POL", status=MemberStatus.REMOVED)
    meeting = Meeting(case_id=case.id, scheduled_start=datetime(2026, 11, 27, 10, tzinfo=UTC))
    elsewhere = Meeting(case_id=other.id, scheduled_start=datetime(2026, 11, 27, 10, tzinfo=UTC),
                        status=MeetingStatus.CANCELLED)
    session.add_all([teacher, gone, meeting, elsewhere])
    session.commit()
    return case, other, teacher, meeting, elsewhere


def test_standing_says_what_the_records_say(engine, world):
    case, other, teacher, meeting, elsewhere = world
    found = cases.standing(engine, case.id, "T0SCHOOL", "U0TEACH", meeting.id)
    assert found == cases.Standing(case.id, "open", "C0CASE", teacher.id, meeting.id, "scheduled")
    # the same person in another workspace, a removed member, no one: no membership
    assert cases.standing(engine, case.id, "T0COUNCIL", "U0TEACH", meeting.id).member_id is None
    assert cases.standing(engine, case.id, "T0COUNCIL", "U0POL", meeting.id).member_id is None
    assert cases.standing(engine, case.id, None, None, meeting.id).member_id is None
    # another case's meeting is no meeting of this case; no meeting asked for, none given
    assert cases.standing(engine, case.id, "T0SCHOOL", "U0TEACH", elsewhere.id)[4:] == (None, None)
    assert cases.standing(engine, case.id, "T0SCHOOL", "U0TEACH")[4:] == (None, None)
    assert cases.standing(engine, other.id, "T0SCHOOL", "U0TEACH", elsewhere.id)[1:] == (
        "closed", "C0OTHER", None, elsewhere.id, "cancelled")
    assert cases.standing(engine, 10**9, "T0SCHOOL", "U0TEACH", meeting.id) == cases.Standing(
        None, None, None, None, None, None)
    assert cases.standing(engine, None, "T0SCHOOL", "U0TEACH", meeting.id) == cases.Standing(
        None, None, None, None, None, None)


def test_a_database_that_is_not_there_is_a_database_error():
    dead = make_engine("postgresql://coregroup:coregroup@127.0.0.1:9/nowhere")
    with pytest.raises(SQLAlchemyError):
        cases.standing(dead, 1, "T0SCHOOL", "U0TEACH", 1)
    dead.dispose()


@pytest.mark.skipif(DATABASE != "postgresql", reason="SQLite has no server to close connections")
def test_after_the_server_closed_its_connections_the_next_check_still_answers(engine, world):
    case, _other, teacher, meeting, _elsewhere = world
    assert cases.standing(engine, case.id, "T0SCHOOL", "U0TEACH", meeting.id).member_id == teacher.id
    with engine.connect() as conn:  # as a restart of the server would: every other connection to this database
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                          " WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    assert cases.standing(engine, case.id, "T0SCHOOL", "U0TEACH", meeting.id).member_id == teacher.id
