"""`coregroup export-case REF`: every record of one case, and only that case, in one zip file; audited."""

from __future__ import annotations

import getpass
import json
import os
import stat
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, SQLModel, select

from bot import cli
from models import case_export
from models.tables import (
    Action,
    ActionEvent,
    Attendance,
    AuditEvent,
    Decision,
    FamilyHandover,
    FamilyVersion,
    Meeting,
    MeetingChange,
    Member,
    PlanItem,
    Recap,
    RecapAcknowledgement,
    RecapRecipient,
    ScalingQuestion,
    ScalingRound,
    ScheduledMessage,
    Score,
    Update,
    UpdateActionProgress,
)
from tests.helpers import new_case


def _fill(session: Session, case_id: int, tag: str) -> None:
    """One record (at least) in every table of case data, each carrying `tag` where it has text."""
    members = session.exec(select(Member).where(Member.case_id == case_id).order_by(Member.id)).all()
    lead, other = members[0], members[1]
    start = datetime(2026, 12, 1, 10, tzinfo=UTC)
    goal = PlanItem(case_id=case_id, kind="goal", text=f"{tag} goal")
    meeting = Meeting(case_id=case_id, number=1, scheduled_start=start, status="ended", location=f"{tag} room",
                      source_key=f"meeting:{case_id}:1")
    session.add_all([goal, meeting])
    session.flush()
    action = Action(case_id=case_id, what=f"{tag} action", owner_member_id=other.id, due_date=date(2026, 12, 20),
                    measure=f"{tag} measure", safety_goal_id=goal.id, meeting_id=meeting.id)
    question = ScalingQuestion(case_id=case_id, question=f"{tag} question", zero_means="0", ten_means="10",
                               plan_item_id=goal.id)
    update = Update(meeting_id=meeting.id, member_id=other.id, worries=f"{tag} worries")
    recap = Recap(meeting_id=meeting.id, content=json.dumps({"key_points": f"{tag} points"}), status="posted")
    session.add_all([action, question, update, recap])
    session.flush()
    score_round = ScalingRound(question_id=question.id, meeting_id=meeting.id)
    session.add(score_round)
    session.flush()
    session.add_all([
        ActionEvent(action_id=action.id, kind="progress", note=f"{tag} progress", by_member_id=other.id),
        MeetingChange(meeting_id=meeting.id, kind="moved", reason=f"{tag} moved", old_start=start,
                      new_start=start + timedelta(days=1)),
        Attendance(meeting_id=meeting.id, member_id=lead.id, status="present"),
        Attendance(meeting_id=meeting.id, member_id=other.id, status="apologies"),
        UpdateActionProgress(update_id=update.id, action_id=action.id, status="on_track", note=f"{tag} on track"),
        Score(round_id=score_round.id, member_id=lead.id, score=4, reason=f"{tag} reason"),
        Score(round_id=score_round.id, member_id=other.id, score=6, reason=f"{tag} reason 2"),
        Decision(case_id=case_id, meeting_id=meeting.id, text=f"{tag} decision"),
        RecapRecipient(recap_id=recap.id, member_id=lead.id, via="channel"),
        RecapAcknowledgement(recap_id=recap.id, member_id=lead.id),
        ScheduledMessage(key=f"{tag}:reminder", kind="meeting_reminder", case_id=case_id, meeting_id=meeting.id,
                         due_at=start - timedelta(days=2), status="sent"),
    ])
    version = FamilyVersion(case_id=case_id, meeting_id=meeting.id, recap_id=recap.id, content=f"{tag} family")
    session.add(version)
    session.flush()
    session.add(FamilyHandover(family_version_id=version.id, case_id=case_id, meeting_id=meeting.id,
                               given_on=start.date(), how="in person", given_to=f"{tag} mother"))
    session.commit()


def _export(monkeypatch, engine, tmp_path, reference: str, name: str = "export.zip") -> tuple[int, object]:
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    folder = tmp_path / "exports"
    folder.mkdir(exist_ok=True)
    path = folder / name
    return cli.main(["export-case", reference, "--output", str(path)]), path


def _read(path) -> tuple[dict, dict[str, list[dict]], list[str]]:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        root = names[0].split("/")[0]
        manifest = json.loads(archive.read(f"{root}/manifest.json"))
        records = {n.rsplit("/", 1)[1][:-5]: json.loads(archive.read(n)) for n in names if "/records/" in n}
        readme = archive.read(f"{root}/README.txt").decode()
    return manifest, records, [names, readme]


def test_every_record_of_the_case_and_nothing_else(people, slack, app, engine, tmp_path, monkeypatch, capsys):
    mine = new_case(people, slack, children="Child A (7)\nChild B (4)")
    theirs = new_case(people, slack, reference="CP-TEST-0002", creator="hv", members=("teacher",))
    with Session(engine) as session:
        _fill(session, mine.case_id, "MINE-7731")
        _fill(session, theirs.case_id, "THEIRS-5520")

    code, path = _export(monkeypatch, engine, tmp_path, "cp-test-0001")
    assert code == 0
    out = capsys.readouterr().out
    assert "Wrote every record of CP-TEST-0001" in out and str(path) in out
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600

    manifest, records, (names, readme) = _read(path)
    case_tables = {t.name for t in SQLModel.metadata.sorted_tables} - case_export.NOT_CASE_DATA
    assert set(records) == case_tables, "every table of case data has its own file"
    assert manifest["reference"] == "CP-TEST-0001" and manifest["case_id"] == mine.case_id
    assert manifest["tables"] == {table: len(rows) for table, rows in records.items()}
    assert "subject access request" in readme and "special category" in readme
    assert not any("/documents/" in name for name in names)

    # Exported apart, the two cases share no record and together hold every record in the database.
    code, other_path = _export(monkeypatch, engine, tmp_path, "CP-TEST-0002", name="other.zip")
    assert code == 0
    _, other_records, _ = _read(other_path)
    tables = {t.name: t for t in SQLModel.metadata.sorted_tables}
    with engine.connect() as conn:
        for table in case_tables:
            ours = [row["id"] for row in records[table]]
            theirs = [row["id"] for row in other_records[table]]
            assert ours, f"{table} should have records for this test to mean anything"
            assert ours == sorted(ours) and not set(ours) & set(theirs), table
            everyone = {row.id for row in conn.execute(tables[table].select())}
            if table == "audit_events":  # an event may belong to no case
                assert set(ours) | set(theirs) <= everyone
            else:
                assert set(ours) | set(theirs) == everyone, table
    everything = json.dumps(records)
    assert "THEIRS-5520" not in everything
    for text in ("MINE-7731 goal", "MINE-7731 progress", "MINE-7731 on track", "MINE-7731 reason 2",
                 "MINE-7731 decision", "MINE-7731 moved", "MINE-7731:reminder", "MINE-7731 worries"):
        assert text in everything, text
    assert [c["label"] for c in records["children"]] == ["Child A", "Child B"]
    assert records["recaps"][0]["content"] == {"key_points": "MINE-7731 points"}
    assert {m["slack_user_id"] for m in records["members"]} == {people[k].user_id for k in ("sw", "hv", "teacher")}
    assert records["cases"][0]["initial_conference_date"] == "2026-11-16"
    assert len(records["attendance"]) == 2 and len(records["scores"]) == 2


def test_the_export_is_audited(people, slack, app, engine, tmp_path, monkeypatch, capsys):
    info = new_case(people, slack)
    code, path = _export(monkeypatch, engine, tmp_path, info.reference)
    assert code == 0
    with Session(engine) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "case.exported")).one()
    assert (event.case_id, event.record_type, event.record_id) == (info.case_id, "case", info.case_id)
    assert (event.actor_team_id, event.actor_user_id) == ("command line", getpass.getuser()[:32])
    assert event.detail is None
    _, records, _ = _read(path)
    assert records["audit_events"][-1]["action"] == "case.exported", "the trail in the file shows the export"
    capsys.readouterr()
    assert cli.main(["audit", info.reference]) == 0
    assert "case.exported" in capsys.readouterr().out


def test_unknown_reference_is_a_clear_message_and_no_file(people, slack, app, engine, tmp_path, monkeypatch,
                                                          capsys):
    new_case(people, slack)
    code, path = _export(monkeypatch, engine, tmp_path, "CP-NOPE-9999")
    assert code == 1
    assert "No case with reference CP-NOPE-9999." in capsys.readouterr().err
    assert not path.exists()
    with Session(engine) as session:
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "case.exported")).all() == []


def test_an_existing_file_is_not_overwritten(people, slack, app, engine, tmp_path, monkeypatch, capsys):
    info = new_case(people, slack)
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "export.zip").write_bytes(b"keep me")
    code, path = _export(monkeypatch, engine, tmp_path, info.reference)
    assert code == 1
    assert "already exists" in capsys.readouterr().err
    assert path.read_bytes() == b"keep me"
    with Session(engine) as session:
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "case.exported")).all() == []


def test_a_failed_export_leaves_no_file_and_no_audit_event(people, slack, app, engine, tmp_path, monkeypatch):
    info = new_case(people, slack)

    def broken(session, case):
        raise RuntimeError("document builder failed")

    monkeypatch.setattr(case_export, "documents", broken)
    with pytest.raises(RuntimeError):
        _export(monkeypatch, engine, tmp_path, info.reference)
    assert list((tmp_path / "exports").iterdir()) == []
    with Session(engine) as session:
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "case.exported")).all() == []


def test_documents_from_registered_builders_go_in_the_zip(people, slack, app, engine, tmp_path, monkeypatch):
    info = new_case(people, slack)
    monkeypatch.setattr(case_export, "DOCUMENT_BUILDERS", [f"{__name__}:_sample_documents"])
    code, path = _export(monkeypatch, engine, tmp_path, info.reference)
    assert code == 0
    manifest, _, _ = _read(path)
    assert manifest["documents"] == ["minutes.txt"]
    with zipfile.ZipFile(path) as archive:
        assert archive.read("CP-TEST-0001-export/documents/minutes.txt") == b"CP-TEST-0001 minutes"


def _sample_documents(session, case):
    yield "minutes.txt", f"{case.reference} minutes".encode()
