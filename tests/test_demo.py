"""`coregroup demo`: the whole cycle with no Slack workspace, run as the command line runs it, and its files read."""

from __future__ import annotations

import fcntl
import io
import json
import os
import shutil
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from bot import render
from models.db import normalise_url
from models.plain import check, is_initials
from models.tables import Case
from tests.conftest import DATABASE, POSTGRES_URL
from tests.helpers import new_case

EXPECTED = [
    "▶ Social Worker A: types /coregroup new in Slack",
    "Case reference: CP-DEMO-0001",
    "(Slack: the private channel #cg-cp-demo-0001 is created)",
    "@Social Worker A added Mother of Child A – Parent, Mother · _not on Slack_ to the core group.",
    "CORE GROUP MEETING 1",
    "[Attending] [Send apologies] [Send my update]",
    "CoreGroup posts in a direct message to Social Worker A:",  # the reminders
    "SCALING: EVERYONE'S SCORES",
    "RECORD OF CORE GROUP MEETING 1",
    "Meeting 2 for CP-DEMO-0001 is booked: Tuesday 8 December 2026. Here is an outline for the family",
    "Your action for CP-DEMO-0001 is overdue",  # the nudge, sent by the dispatcher with the clock moved on
    "[Done] [Add progress] [New date]",
    "✅ *Visit the family at home twice, once after school*",
    "• *DSL* (designated safeguarding lead): try “the school's safeguarding lead”",  # the plain-language check
    "*Update from @Teacher A*",
    "“Record the family's views”",  # the mother is not on Slack: the social worker records her views and score
    "_sent in writing_",
    "*7* · Mother of Child A (Parent) · _given by the family, recorded by Social Worker A_",
    "It has gone *up* by 2.",
    "About 9 minutes left",  # the chair's timekeeping prompt
    "RECORD OF CORE GROUP MEETING 2",
    "_(given by the family, recorded by Social Worker A, social worker)_",
    "*Trend (middle score):* 3.5 (10 November 2026) → 6 (8 December 2026)",  # with the mother's score of 7
    "📎 Scores over time: How safe is Child A at home? (scaling-chart-1.png",
    "Please prepare the family version",
    "Read by 1 of 4: Police Officer A",
    "The child's own words (left out unless you tick below)",
    "[Approve for the family]",
    "You approved version 1 of the family version of meeting 2.",
    "📄 *Given to the family.* The family version of meeting 2 was given to Mother of Child A on Tuesday 8",
    "CoreGroup shares 2 files in a direct message to Social Worker A:",
]


@contextmanager
def empty_database():
    """A database URL for the demo: none (its own temporary SQLite file), or a new PostgreSQL database."""
    if DATABASE != "postgresql":
        yield None
        return
    admin_url = make_url(normalise_url(POSTGRES_URL))
    name = f"coregroup_demo_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run_demo(folder, *extra: str) -> subprocess.CompletedProcess:
    """`coregroup demo --out <folder>/out`: the installed script, or the same entry point by module."""
    script = shutil.which("coregroup", path=str(Path(sys.executable).parent))
    command = [script] if script else [sys.executable, "-m", "bot.cli"]
    command += ["demo", "--out", str(folder / "out"), *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, cwd=folder, check=False)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One run of `coregroup demo` for the tests here, as CI runs it (on PostgreSQL when the tests are). The workers
    of one run share it (it takes 20 seconds and more): the first to need it runs it, the other waits for it."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run is None:
        folder = tmp_path_factory.mktemp("demo")
        return demo_run(folder), folder / "out"
    folder = tmp_path_factory.getbasetemp().parent / f"demo-{run}"  # the run's own folder, above each worker's
    folder.mkdir(exist_ok=True)
    with (folder / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        kept = folder / "ran.json"
        if kept.exists():
            ran = subprocess.CompletedProcess(**json.loads(kept.read_text()))
        else:
            ran = demo_run(folder)
            kept.write_text(json.dumps({"args": ran.args, "returncode": ran.returncode, "stdout": ran.stdout,
                                        "stderr": ran.stderr}))
    return ran, folder / "out"


def demo_run(folder) -> subprocess.CompletedProcess:
    with empty_database() as url:
        return run_demo(folder, *(["--database-url", url] if url else []))


def test_the_demo_refuses_a_database_that_holds_cases(people, slack, app, engine, tmp_path):
    new_case(people, slack)
    ran = run_demo(tmp_path, "--database-url", engine.url.render_as_string(hide_password=False))
    assert ran.returncode == 1 and "needs an empty database" in ran.stderr
    assert not (tmp_path / "out").exists()
    with Session(engine) as session:
        assert len(session.exec(select(Case)).all()) == 1


def test_the_demo_runs_a_whole_cycle_and_prints_what_people_see(demo):
    ran, _ = demo
    assert ran.returncode == 0, ran.stderr[-3000:]
    out = ran.stdout
    at = 0
    for expected in EXPECTED:  # each in the story's order, after the one before
        assert expected in out[at:], f"missing from the demo's output, or out of order: {expected}"
        at = out.index(expected, at)
    assert "Traceback" not in ran.stderr and "Slack refused" not in out
    assert "could not be sent in time" not in out, "the demo's clock skipped scheduled work"
    assert "U0SW" not in out, "people are shown by name, not Slack id"


def test_the_demo_writes_the_minutes_the_family_version_and_the_charts(demo):
    from docx import Document
    from matplotlib import image

    ran, folder = demo
    assert ran.returncode == 0, ran.stderr[-3000:]
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["CP-DEMO-0001-meeting-1-outline-for-the-family.docx",
                     "CP-DEMO-0001-meeting-2-family-version.docx", "CP-DEMO-0001-meeting-2-minutes-version-1.docx",
                     "CP-DEMO-0001-meeting-2-outline-for-the-family.docx",
                     "CP-DEMO-0001-meeting-3-outline-for-the-family.docx",
                     "meeting-2-scaling-chart-1.png", "meeting-2-scaling-chart-2.png", "oversight-chart.png",
                     "oversight-report.csv", "oversight-report.xlsx"]
    minutes = Document(str(folder / "CP-DEMO-0001-meeting-2-minutes-version-1.docx"))
    text = "\n".join(p.text for p in minutes.paragraphs)
    assert "Record of core group meeting 2" in text and "the DSL will keep checking in" in text
    family = Document(str(folder / "CP-DEMO-0001-meeting-2-family-version.docx"))
    plain = "\n".join(p.text for p in family.paragraphs)
    # Approved by the social worker with the defaults: the child's own words and the school's update left out.
    assert "keep checking in" not in plain and "like club days best" not in plain
    assert "I worry about money and the gas bill." in plain and "gave a score of 7" in plain  # the mother's own
    assert [s.term for s in check(plain) if is_initials(s.key)] == []
    assert "Who will do what by when" in plain and "Refer the family for money advice" in plain
    for name in ("meeting-2-scaling-chart-1.png", "meeting-2-scaling-chart-2.png"):
        pixels = image.imread(io.BytesIO((folder / name).read_bytes()), format="png")
        assert pixels.shape[:2] == (700, 1200)


def test_the_demo_ends_with_the_oversight_section_and_the_report(demo):
    from matplotlib import image
    from openpyxl import load_workbook

    ran, folder = demo
    out = ran.stdout
    section = out[out.index("Conference Chair A sees:"):]
    assert "OVERSIGHT" in section and "Cases needing attention" in section and "[Image: Chart of core groups" in section
    assert "Chairing shared: Children's Services: meetings chaired 1; Health visiting team: meetings chaired 1" in out
    pixels = image.imread(io.BytesIO((folder / "oversight-chart.png").read_bytes()), format="png")
    assert pixels.shape[:2] == (760, 1400)
    book = load_workbook(folder / "oversight-report.xlsx")
    assert book.sheetnames[0] == "Definitions" and "Attendance by organisation" in book.sheetnames
    attendance = {row[0]: row[1:] for row in book["Attendance by organisation"].iter_rows(values_only=True)}
    assert attendance["Hill Primary School"] == (1, 1, 0, 0)
    report = (folder / "oversight-report.csv").read_text()
    assert "CP-DEMO" not in report and "Child A" not in report


def test_messages_are_shown_as_people_read_them():
    names = {"U0HV": "Health Visitor A", "C01": "cg-cp-test-0001"}.get
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Core group meeting 1"}},
        {"type": "section", "text": {"type": "mrkdwn",
                                     "text": "*Chair:* <@U0HV> in <#C01> &amp; <https://x.example|the link>"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "No replies yet."}]},
        {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Attending"},
                                          "action_id": "a"}]},
    ]
    assert render.blocks_text(blocks, lambda some_id: names(some_id) or some_id) == [
        "CORE GROUP MEETING 1", "====================", "*Chair:* @Health Visitor A in #cg-cp-test-0001 & the link",
        "  · No replies yet.", "  [Attending]"]
    form = {"type": "modal", "title": {"type": "plain_text", "text": "Form"}, "submit": {"type": "plain_text",
            "text": "Save"}, "blocks": [{"type": "input", "block_id": "b", "label": {"type": "plain_text",
                                                                                        "text": "Who"},
                                         "element": {"type": "users_select", "action_id": "x"}}]}
    assert "  Who: Health Visitor A" in render.view_text(render.filled(form, {"b": "U0HV"}), names)[1]


def test_every_family_document_the_demo_writes_is_a4_and_easy_to_read(demo):
    """The readability target (models/readability.py) on every document the family receives; README gives the
    figures."""
    from docx import Document

    from models.readability import measure_text

    ran, folder = demo
    assert ran.returncode == 0, ran.stderr[-3000:]
    family = sorted(p for p in folder.iterdir() if "family" in p.name and p.suffix == ".docx")
    assert len(family) == 4, family  # three outlines and the family version
    for path in family:
        document = Document(str(path))
        section = document.sections[0]
        assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297), path.name
        reading = measure_text("\n".join(p.text for p in document.paragraphs))
        print(f"{path.name}: reading ease {reading.ease}, {reading.words_per_sentence} words a sentence")
        assert reading.meets_target, (path.name, reading)
