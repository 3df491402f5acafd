"""Oversight across cases (issue 14): every measure, with known answers, in the CSV, the workbook and the App Home;
who may see what; roles granted on the command line."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot import cli
from models import oversight, staff
from models.audit import Actor
from models.tables import AuditEvent, StaffRole
from tests.harness import send_event
from tests.oversight_world import END, START, TEAM, TODAY, build

ADMIN = Actor(team_id="command line", user_id="admin")

# What the world in tests/oversight_world.py must give, over 1 August to 30 November 2026, by month.
BY_MONTH = {
    ("First core group on time", "2026-08"): {"Initial conferences": 2, "On time": 1, "Late": 1,
                                               "Working days late in all": 1, "Not held, overdue": 0},
    ("First core group on time", "2026-11"): {"Initial conferences": 2, "On time": 0, "Not held, overdue": 1,
                                               "Not held, not yet due": 1},
    ("Later core groups within the agreed interval", "2026-10"): {"Meetings": 1, "On time": 1, "Late": 0},
    ("Last core group before the review conference", "2026-09"): {"Review conferences": 1,
                                                                   "Closer than 10 working days": 1},
    ("Last core group before the review conference", "2026-11"): {"At least 10 working days before": 1},
    ("Record and family version on time", "2026-09"): {
        "Meetings held": 2, "Record within 1 working day": 1, "Record later": 1,
        "Family version within 5 days": 1, "Family version not given, overdue": 1},
    ("Record and family version on time", "2026-10"): {"Meetings held": 1, "Record within 1 working day": 1,
                                                        "Family version later": 1},
    ("The child's views", "2026-09"): {"Views obtained": 2},
    ("The child's views", "2026-10"): {"Not obtained, reason given": 1, "Neither": 0},
    ("The parents' views", "2026-09"): {"Recorded": 2},
    ("The parents' views", "2026-10"): {"Not recorded": 1},
    ("Meetings left open", "2026-11"): {"Meetings left open": 1},
    ("Lapse escalations sent", "2026-10"): {"Escalations sent": 1},
}
BY_MONTH_AND_ORGANISATION = {
    ("Attendance by organisation", "2026-09", "Police"): {"Apologies without update": 2, "Present": 0},
    ("Attendance by organisation", "2026-10", "Police"): {"Apologies without update": 1},
    ("Attendance by organisation", "2026-09", "Education"): {"Apologies with written update": 1},
    ("Attendance by organisation", "2026-10", "Family"): {"Absent": 1},
    ("Actions overdue and carried forward", "2026-11", "Police"): {"Overdue": 1, "Carried forward": 1,
                                                                   "Times carried forward": 2},
    ("Chairing shared", "2026-09", "Children's services"): {"Meetings chaired": 2},
    ("Chairing shared", "2026-10", "Health"): {"Meetings chaired": 1},
}
ATTENDANCE_BY_ORGANISATION = {
    "Children's services": [3, 0, 0, 0], "Education": [1, 1, 0, 0], "Family": [2, 0, 0, 1],
    "Health": [2, 1, 0, 0], "Police": [0, 0, 3, 0],
}


def _report(monkeypatch, engine, tmp_path, *args) -> tuple[int, object]:
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    fmt = args[args.index("--format") + 1]
    path = tmp_path / f"report.{fmt}"
    code = cli.main(["report", "--from", START.isoformat(), "--to", END.isoformat(), *args, "--output", str(path)])
    return code, path


def _csv_figures(path) -> dict:
    rows = list(csv.reader(io.StringIO(path.read_text())))
    assert rows[0] == ["Measure", "Group", "Organisation", "Figure", "Value"]
    return {(m, g, o, f): int(v) for m, g, o, f, v in rows[1:]}


def test_every_measure_in_the_csv_by_month(engine, session, monkeypatch, tmp_path):
    build(session)
    code, path = _report(monkeypatch, engine, tmp_path, "--format", "csv")
    assert code == 0
    figures = _csv_figures(path)
    for (measure, month), expected in BY_MONTH.items():
        for figure, value in expected.items():
            assert figures[(measure, month, "", figure)] == value, (measure, month, figure)
    for (measure, month, org), expected in BY_MONTH_AND_ORGANISATION.items():
        for figure, value in expected.items():
            assert figures[(measure, month, org, figure)] == value, (measure, month, org, figure)
    text = path.read_text()
    for secret in ("CP-TEST", "Child A", "Mother of Child A", "unwell", "Fixture"):
        assert secret not in text
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_the_workbook_has_a_sheet_per_measure_and_the_definitions(engine, session, monkeypatch, tmp_path):
    build(session)
    code, path = _report(monkeypatch, engine, tmp_path, "--format", "xlsx", "--by", "organisation")
    assert code == 0
    book = load_workbook(path)
    assert book.sheetnames[0] == "Definitions"
    assert len(book.sheetnames) == 1 + len(oversight.MEASURES)
    definitions = [[c.value for c in row] for row in book["Definitions"].iter_rows()]
    described = {row[1]: row[2] for row in definitions if row and row[1]}
    for measure in oversight.MEASURES:
        assert described[measure.title] == measure.definition
    assert any("bank holidays" in str(row[0]) for row in definitions)

    def sheet(title):
        rows = [[c.value for c in row] for row in book[title[:31]].iter_rows()]
        header = rows[0]
        return {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}

    attendance = sheet("Attendance by organisation")
    for org, (present, with_update, without, absent) in ATTENDANCE_BY_ORGANISATION.items():
        assert [attendance[org][k] for k in ("Present", "Apologies with written update", "Apologies without update",
                                             "Absent")] == [present, with_update, without, absent], org
    assert attendance["Total"]["Apologies without update"] == 3
    first = sheet("First core group on time")["Children's services"]
    assert (first["Initial conferences"], first["On time"], first["Late"], first["Not held, overdue"],
            first["Not held, not yet due"]) == (4, 1, 1, 1, 1)
    records = sheet("Record and family version on time")["Children's services"]
    assert (records["Record within 1 working day"], records["Record later"], records["Family version within 5 days"],
            records["Family version later"], records["Family version not given, overdue"]) == (2, 1, 1, 1, 1)
    assert sheet("Meetings left open")["Children's services"]["Meetings left open"] == 1
    assert sheet("Lapse escalations sent")["Children's services"]["Escalations sent"] == 1
    chairing = sheet("Chairing shared")
    assert chairing["Children's services"]["Meetings chaired"] == 2 and chairing["Health"]["Meetings chaired"] == 1
    views = sheet("The child's views")["Children's services"]
    assert (views["Views obtained"], views["Not obtained, reason given"], views["Neither"]) == (2, 1, 0)
    actions = sheet("Actions overdue and carried forward")
    assert actions["Police"]["Overdue"] == 1 and actions["Health"]["Overdue"] == 0
    review = sheet("Last core group before the review conference")["Children's services"]
    assert (review["At least 10 working days before"], review["Closer than 10 working days"]) == (1, 1)
    assert sheet("Later core groups within the agreed interval")["Children's services"]["On time"] == 1
    assert sheet("The parents' views")["Children's services"]["Not recorded"] == 1


def test_bank_holiday_counts_as_no_working_day(session):
    """The first meeting on Monday 7 September 2026 is on time only because Monday 31 August is a bank holiday."""
    from datetime import UTC, date, datetime

    from models.tables import Meeting

    world = build(session)
    meeting = session.exec(select(Meeting).where(Meeting.case_id == world.cases["b"])).one()
    meeting.scheduled_start = datetime(2026, 9, 7, 10, tzinfo=UTC)
    session.add(meeting)
    session.commit()
    scope = ("SELECT id FROM cases", {})
    table = oversight.measure(session, "first_meeting", scope=scope, start=START, end=END, today=TODAY)
    august = next(r for r in table.rows if r["group"] == "2026-08")
    assert (august["on_time"], august["late"]) == (2, 0)
    assert oversight.measure(session, "first_meeting", scope=scope, start=date(2026, 8, 1), end=date(2026, 8, 31),
                             today=TODAY).rows[0]["cases"] == 2


def test_an_empty_calendar_is_filled_once_when_first_needed(session):
    """Upgrade fills the working days (so each test's database starts with them); should the table be empty, the
    first need fills it: every day from 2000 to 2045, numbered by working day."""
    from datetime import date, timedelta

    from sqlmodel import delete

    from models.tables import WorkingDay

    session.exec(delete(WorkingDay))
    session.commit()
    oversight.ensure_calendar(session)
    assert oversight.fill_calendar(session) is False  # filled once
    days = {d.day: d for d in session.exec(select(WorkingDay))}
    assert len(days) == (oversight.CALENDAR_END - oversight.EPOCH).days + 1
    friday, holiday, tuesday = (days[date(2026, 8, 28)], days[date(2026, 8, 31)], days[date(2026, 9, 1)])
    assert friday.working and not holiday.working and tuesday.working  # Monday 31 August 2026: a bank holiday
    assert tuesday.n == friday.n + 1  # the weekend and the bank holiday are not counted
    assert not days[date(2026, 8, 29)].working and days[date(2026, 8, 29)].n == friday.n
    assert days[oversight.EPOCH + timedelta(days=2)].n == 0  # Monday 3 January 2000 was the new year's holiday


def test_grouped_by_team(engine, session, monkeypatch, tmp_path):
    build(session)
    staff.grant(session, team_id=TEAM, user_id="U0MGR2", role=staff.TEAM_MANAGER, team="North", by=ADMIN)
    session.commit()
    code, path = _report(monkeypatch, engine, tmp_path, "--format", "csv", "--by", "team")
    assert code == 0
    figures = _csv_figures(path)
    assert figures[("Meetings left open", "North", "", "Meetings left open")] == 1
    assert figures[("First core group on time", "North", "", "Not held, overdue")] == 1
    assert figures[("First core group on time", "No team named", "", "Initial conferences")] == 3


def test_report_refuses_bad_dates(engine, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    assert cli.main(["report", "--from", "1 April", "--to", "2026-05-01", "--format", "csv"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
    assert cli.main(["report", "--from", "2026-05-01", "--to", "2026-04-01", "--format", "csv"]) == 2
    assert "--to must be on or after --from" in capsys.readouterr().err


# --- who may see what ----------------------------------------------------------------------------------------


def test_staff_grant_list_and_revoke_on_the_command_line(engine, session, monkeypatch, capsys):
    build(session)
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    assert cli.main(["staff", "grant", f"{TEAM}/U0MGR", "--role", "team-manager", "--team", "South"]) == 0
    assert cli.main(["staff", "grant", f"{TEAM}/U0IRO", "--role", "conference-chair", "--case", "cp-test-0003"]) == 0
    assert cli.main(["staff", "grant", f"{TEAM}/U0IRO", "--role", "conference-chair", "--case", "CP-TEST-0003"]) == 0
    assert cli.main(["staff", "grant", f"{TEAM}/U0AN", "--role", "analyst"]) == 0
    capsys.readouterr()
    assert cli.main(["staff", "list"]) == 0
    listed = capsys.readouterr().out
    assert f"{TEAM}/U0MGR  team-manager team South" in listed
    assert f"{TEAM}/U0IRO  conference-chair case CP-TEST-0003" in listed and listed.count("U0IRO") == 1
    assert f"{TEAM}/U0AN  analyst" in listed

    assert cli.main(["staff", "grant", "U0MGR", "--role", "analyst"]) == 2
    assert "TEAM/USER" in capsys.readouterr().err
    assert cli.main(["staff", "grant", f"{TEAM}/U0X", "--role", "conference-chair"]) == 2
    assert "--case" in capsys.readouterr().err
    assert cli.main(["staff", "grant", f"{TEAM}/U0X", "--role", "analyst", "--team", "South"]) == 2
    assert cli.main(["staff", "grant", f"{TEAM}/U0X", "--role", "conference-chair", "--case", "CP-NOPE-1"]) == 1

    assert cli.main(["staff", "revoke", f"{TEAM}/U0AN"]) == 0
    session.expire_all()
    assert session.exec(select(StaffRole).where(StaffRole.slack_user_id == "U0AN")).all() == []
    actions = [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.record_type == "staff_role"))]
    assert actions.count("staff.granted") == 3 and actions.count("staff.revoked") == 1


def test_a_team_manager_sees_only_their_peoples_cases(session):
    world = build(session)
    staff.grant(session, team_id=TEAM, user_id="U0MGR", role=staff.TEAM_MANAGER, by=ADMIN)
    staff.grant(session, team_id=TEAM, user_id="U0MGR2", role=staff.TEAM_MANAGER, team="North", by=ADMIN)
    staff.grant(session, team_id=TEAM, user_id="U0MGR3", role=staff.TEAM_MANAGER, team="North", by=ADMIN)
    session.commit()
    mine = staff.standing(session, team_id=TEAM, user_id="U0MGR")
    assert staff.visible_case_ids(session, mine) == {world.cases["a"], world.cases["b"]}
    north = staff.standing(session, team_id=TEAM, user_id="U0MGR3")
    assert staff.visible_case_ids(session, north) == {world.cases["c"]}
    # The same user id in another workspace is another person.
    assert not staff.standing(session, team_id="T0NHSTRUST", user_id="U0MGR").any
    attention, total = oversight.needing_attention(session, cases_sql=staff.visible_cases_sql(mine), today=TODAY)
    assert [a.reference for a in attention] == ["CP-TEST-0002"] and total == 1
    assert attention[0].reasons[0].startswith("lapsed")
    assert "family version late for 1 meeting" in attention[0].reasons
    attention, _ = oversight.needing_attention(session, cases_sql=staff.visible_cases_sql(north), today=TODAY)
    assert attention[0].reasons == ["first core group overdue", "1 record late", "1 action overdue"]


def _open_home(app, user_id, team_id=TEAM):
    return send_event(app, {"type": "app_home_opened", "user": user_id, "channel": "D0X", "tab": "home"},
                      team_id=team_id)


def _home(slack, user_id) -> dict:
    published = [c for c in slack.calls_to("views.publish") if c.args["user_id"] == user_id]
    assert published and published[-1].response["ok"], published[-1].response if published else "not published"
    return published[-1].args["view"]


@pytest.fixture
def staffed(app, slack, session):
    world = build(session)
    for user in ("U0MGR", "U0IRO", "U0AN", "U0NOBODY", "U0MGR2"):
        slack.add_user(user, team_id=TEAM, name=f"Staff {user}")
    staff.grant(session, team_id=TEAM, user_id="U0MGR", role=staff.TEAM_MANAGER, by=ADMIN)
    staff.grant(session, team_id=TEAM, user_id="U0AN", role=staff.ANALYST, by=ADMIN)
    from models.tables import Case

    staff.grant(session, team_id=TEAM, user_id="U0IRO", role=staff.CONFERENCE_CHAIR,
                case=session.get(Case, world.cases["c"]), by=ADMIN)
    session.commit()
    return world


def test_the_app_home_shows_a_team_manager_their_cases_needing_attention_and_the_chart(app, slack, staffed):
    _open_home(app, "U0MGR")
    view = _home(slack, "U0MGR")
    text = json.dumps(view)
    assert "Oversight" in text and "team manager" in text
    assert "CP-TEST-0002" in text and "<#C0002>" in text and "lapsed" in text
    for other in ("CP-TEST-0001", "CP-TEST-0003", "CP-TEST-0004"):  # not needing attention, or not theirs
        assert other not in text
    # Over their two cases: the first meetings (one on time, one late) and the second meeting (on time).
    assert "2 of 3 core groups due were held on time (67%)" in text
    assert "Police 3" in text  # apologies without a written update
    images = [b for b in view["blocks"] if b["type"] == "image"]
    assert len(images) == 1
    file_id = images[0]["slack_file"]["id"]
    upload = slack.uploaded_files[file_id]
    assert upload.content.startswith(b"\x89PNG") and upload.filename.endswith(".png")
    assert "Police: 0 present, 0 apologies with an update, 3 without" in images[0]["alt_text"]
    uploads = len(slack.calls_to("files.completeUploadExternal"))
    _open_home(app, "U0MGR")  # the same figures: the chart already in Slack is shown again
    assert len(slack.calls_to("files.completeUploadExternal")) == uploads
    again = [b for b in _home(slack, "U0MGR")["blocks"] if b["type"] == "image"]
    assert again[0]["slack_file"]["id"] == file_id


def test_the_app_home_of_a_conference_chair_shows_their_case(app, slack, staffed):
    _open_home(app, "U0IRO")
    text = json.dumps(_home(slack, "U0IRO"))
    assert "CP-TEST-0003" in text and "first core group overdue" in text and "1 action overdue" in text
    assert "CP-TEST-0002" not in text


def test_an_analyst_sees_figures_and_no_case(app, slack, staffed):
    _open_home(app, "U0AN")
    view = _home(slack, "U0AN")
    oversight_blocks = view["blocks"][[b.get("text", {}).get("text") for b in view["blocks"]].index("Oversight"):]
    text = json.dumps(oversight_blocks)
    assert "analyst" in text and "core groups due were held on time" in text
    for secret in ("CP-TEST", "Child A", "<#C", "unwell", "Mother"):
        assert secret not in text
    assert any(b["type"] == "image" for b in oversight_blocks)


def test_someone_without_a_role_sees_no_oversight(app, slack, staffed, session):
    _open_home(app, "U0NOBODY")
    _open_home(app, "U0MGR2")  # named as a manager on a case, but given no role
    for user in ("U0NOBODY", "U0MGR2"):
        text = json.dumps(_home(slack, user))
        assert "Oversight" not in text and "CP-TEST" not in text
    assert slack.calls_to("files.completeUploadExternal") == []


def test_every_view_is_audited(app, slack, staffed, session):
    _open_home(app, "U0AN")
    _open_home(app, "U0MGR")
    _open_home(app, "U0NOBODY")
    views = session.exec(select(AuditEvent).where(AuditEvent.action == "oversight.home_viewed")).all()
    assert sorted(v.actor_user_id for v in views) == ["U0AN", "U0MGR"]
    assert json.loads(next(v for v in views if v.actor_user_id == "U0MGR").detail)["cases"] == 1


def test_the_stand_in_refuses_an_image_of_a_file_that_is_not_there(slack):
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    client = WebClient(token=slack.BOT_TOKEN, base_url=slack.url)
    slack.add_user("U0AN", team_id=TEAM, name="Analyst")
    view = {"type": "home", "blocks": [{"type": "image", "slack_file": {"id": "F0NOTHERE"}, "alt_text": "chart"}]}
    with pytest.raises(SlackApiError) as refused:
        client.views_publish(user_id="U0AN", view=view)
    assert refused.value.response["error"] == "invalid_arguments"
    file_id = client.files_upload_v2(content=b"\x89PNG fake", filename="chart.png", title="Chart")["file"]["id"]
    view["blocks"][0]["slack_file"] = {"id": file_id}
    assert client.views_publish(user_id="U0AN", view=view)["ok"]


def test_the_figures_are_counted_again_after_ten_minutes_not_at_every_look(app, slack, staffed, session):
    from datetime import timedelta

    import time_machine

    from models.tables import Attendance, Member
    from tests.conftest import TEST_DAY

    _open_home(app, "U0AN")
    assert "Police 3" in json.dumps(_home(slack, "U0AN"))
    police = session.exec(select(Member.id).where(Member.case_id == staffed.cases["a"],
                                                  Member.role == "Police officer")).one()
    for attended in session.exec(select(Attendance).where(Attendance.member_id == police)):
        attended.status = "present"
        session.add(attended)
    session.commit()
    _open_home(app, "U0AN")
    assert "Police 3" in json.dumps(_home(slack, "U0AN"))  # counted a moment ago: read back
    with time_machine.travel(TEST_DAY + timedelta(minutes=11)):
        _open_home(app, "U0AN")
        assert "Police 1" in json.dumps(_home(slack, "U0AN"))
