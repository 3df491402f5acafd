"""`/coregroup export` end to end: the minutes and the family version, opened with python-docx and read;
sent only to the asker's direct message; refused DMs said so; closed cases still exported; and the same
documents in `coregroup export-case`."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from bot import cli
from handlers.access import NOT_A_MEMBER
from handlers.export import NO_DM, NOTHING_YET
from handlers.ids import Action
from models import documents
from models import recap as records
from models.family import SECTIONS, build, family_outline, prefill
from models.minutes import DISTRIBUTION, RECAP_ORDER, VERSIONS
from models.plain import check, is_initials
from models.tables import AuditEvent, Case, CaseStatus, Meeting, Recap, RecapStatus
from tests.family_world import prepare_and_approve
from tests.helpers import ephemeral_texts, new_case
from tests.recap_world import Plan, running_meeting
from tests.test_end import KEY_POINTS, MEMBERS, end_and_post

TEAM = "T0COUNCIL"
DECISION = "The HV will visit weekly and refer Child A to CAMHS."
# The family version is prepared and approved by the lead social worker before it can be exported (issue 12); by
# default it leaves out the child's own words, so there is no "What the child said" unless that box is ticked.
FAMILY_SECTIONS = ("The main points", "What we are worried about", "What is going well", "What needs to happen",
                   "Who will do what by when", "What you told us", "What happens next", "When we meet next")


def _docx(data: bytes):
    from docx import Document

    return Document(io.BytesIO(data))


def headings(document) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name.startswith("Heading") or p.style.name == "Title"]


def text_of(document) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def table_rows(document, first_header: str) -> list[list[str]]:
    for table in document.tables:
        rows = [[cell.text for cell in row.cells] for row in table.rows]
        if rows and rows[0][0] == first_header:
            return rows
    raise AssertionError(f"no table starting {first_header}")


@pytest.fixture
def world(people, slack, app):
    info = new_case(people, slack, members=MEMBERS)
    return running_meeting(app.engine, info, people, Plan(decisions=(DECISION,), what="Refer to CAMHS"))


def _exported(slack, user_id: str) -> dict[str, bytes]:
    """The files uploaded into the person's direct message: file name -> bytes."""
    found = {}
    for message in slack.messages(user_id):
        for item in message.get("files") or []:
            found[item["name"]] = slack.uploaded_files[item["id"]].content
    return found


def test_export_sends_both_documents_to_the_askers_direct_message(people, slack, app, world):
    recap = end_and_post(people, slack, world)
    people["hv"].click(Action.RECAP_READ, {"c": world.case_id, "r": recap.id}, channel=world.channel_id)
    prepare_and_approve(people, slack)
    slack.reset()

    people["sw"].command("export", channel=world.channel_id)

    assert [c.args["users"] for c in slack.calls_to("conversations.open")] == [people["sw"].user_id]
    [completed] = slack.calls_to("files.completeUploadExternal")
    assert completed.args["channel_id"].startswith("D") and completed.args["channel_id"] != world.channel_id
    assert not [m for m in slack.messages(world.channel_id) if m.get("files") and m["ts"] > recap.message_ts
                and m.get("thread_ts") != recap.message_ts], "nothing may be uploaded to the case channel"
    files = {name: data for name, data in _exported(slack, people["sw"].user_id).items()
             if "outline" not in name}  # the lead social worker also has the next meeting's outline for the family
    assert sorted(files) == ["CP-TEST-0001-meeting-2-family-version.docx",
                             "CP-TEST-0001-meeting-2-minutes-version-1.docx"]
    assert any("sent you the minutes of meeting 2 (version 1)" in t for t in ephemeral_texts(slack))

    minutes = _docx(files["CP-TEST-0001-meeting-2-minutes-version-1.docx"])
    found = headings(minutes)
    assert found[0] == "Record of core group meeting 2"
    expected = [*RECAP_ORDER[:3], "Written updates from those who attended", *RECAP_ORDER[3:], DISTRIBUTION,
                VERSIONS]
    assert [h for h in found if h in expected] == [h for h in expected if h in found]
    assert set(RECAP_ORDER) | {DISTRIBUTION, VERSIONS} <= set(found), "every part of the recap is in the minutes"
    body = text_of(minutes)
    assert KEY_POINTS in body and DECISION in body, "the minutes keep the record as written"
    assert "Rent arrears." in body and "Child A said school is better now." in body
    assert "How safe is Child A at home?" in body and "middle score 5.5" in body
    attendance = {row[0]: row[3] for row in table_rows(minutes, "Name")}
    assert attendance["Doctor A"] == "Apologies" and attendance["Health Visitor A"] == "Present"
    distribution = next([[c.text for c in r.cells] for r in t.rows] for t in minutes.tables
                        if t.rows[0].cells[-1].text == "Said they read it")
    read = {row[0]: row[3] for row in distribution[1:]}
    assert read["Health Visitor A"] != "Not yet" and read["Teacher A"] == "Not yet"
    assert {row[0]: row[2] for row in distribution[1:]}["Mother of Child A"] == "Outside Slack, by the chair"
    assert "Version 1, posted" in body and "(this document)" in body

    family = _docx(files["CP-TEST-0001-meeting-2-family-version.docx"])
    family_headings = headings(family)
    assert [h for h in family_headings if h in FAMILY_SECTIONS] == list(FAMILY_SECTIONS)
    plain = text_of(family)
    assert [s.term for s in check(plain) if is_initials(s.key)] == [], "no initials in the family version"
    assert "The group decided: The health visitor will visit weekly and refer Child A to child and adolescent" \
           " mental health services." in plain
    assert "Refer to child and adolescent mental health services 1" in plain  # the overdue action, spelled out
    assert "The group thinks the risks to the child are getting smaller." in plain  # one child
    assert "carry on for now" in plain and "Monday 8 February 2027" in plain  # recommendation, review date
    assert "Child A says they feel happier at home." not in plain, "the child's own words only when ticked"
    assert "Mother of Child A says the help with mornings is working." in plain  # the parents' views, as theirs
    assert "The next meeting is on" in plain

    with Session(app.engine) as session:
        # The first export was the approved family version sent to the social worker who approved it.
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "recap.exported")
                             .order_by(AuditEvent.id)).all()[-1]
    assert (event.record_id, event.case_id, event.actor_user_id) == (recap.id, world.case_id, people["sw"].user_id)


def test_refused_direct_messages_are_explained_and_nothing_is_uploaded(people, slack, app, world):
    end_and_post(people, slack, world)
    slack.refuse_dm(TEAM, people["teacher"].user_id)
    slack.reset()
    people["teacher"].command("export", channel=world.channel_id)
    assert slack.calls_to("files.getUploadURLExternal") == [] and slack.calls_to("files.completeUploadExternal") == []
    assert any(NO_DM[:40] in t for t in ephemeral_texts(slack))
    with Session(app.engine) as session:
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "recap.exported")).all() == []


def test_nothing_to_export_before_a_record_is_posted_and_outsiders_are_refused(people, slack, app, world):
    people["sw"].command("export", channel=world.channel_id)
    assert any(NOTHING_YET[:40] in t for t in ephemeral_texts(slack))
    end_and_post(people, slack, world)
    slack.reset()
    people["outsider"].command("export", channel=world.channel_id)
    people["outsider"].click(Action.EXPORT_PICK, selected=json.dumps({"c": world.case_id, "m": world.meeting_id}),
                             channel=world.channel_id)
    assert len([t for t in ephemeral_texts(slack) if NOT_A_MEMBER in t]) == 2
    assert slack.calls_to("conversations.open") == [] and slack.calls_to("files.completeUploadExternal") == []


def _post_previous_record(app, world) -> None:
    """The earlier meeting's record, as the recap feature would have stored and posted it."""
    with Session(app.engine) as session:
        content = records.build_content(session, meeting_id=world.previous_id, today=datetime.now(UTC).date(),
                                        outcome={**{"key_points": "First meeting points.", "child_views": "",
                                                    "child_missing": "Child A was at school.",
                                                    "parents_views": "", "risk_direction": "no_change",
                                                    "recommendation": "continue", "next": None}})
        content = records.versioned(content, version=1, correction_reason=None)
        session.add(Recap(meeting_id=world.previous_id, version=1, content=records.dumps(content),
                          status=RecapStatus.POSTED, posted_at=datetime.now(UTC)))
        session.commit()


def test_choose_another_meeting_and_export_a_closed_case(people, slack, app, world):
    end_and_post(people, slack, world)
    _post_previous_record(app, world)
    with Session(app.engine) as session:
        case = session.get(Case, world.case_id)
        case.status = CaseStatus.CLOSED
        session.add(case)
        session.commit()
    slack.reset()

    people["teacher"].command("export", channel=world.channel_id)
    reply = slack.calls_to("response_url")[-1].args
    assert "meeting 2" in reply["text"]
    menu = next(b for b in reply["blocks"] if b.get("accessory"))["accessory"]
    options = [(o["text"]["text"], json.loads(o["value"])) for o in menu["options"]]
    assert [(text.split(",")[0], value["m"]) for text, value in options] == [("Meeting 1", world.previous_id)]

    people["teacher"].click(Action.EXPORT_PICK, selected=menu["options"][0]["value"], channel=world.channel_id)
    files = _exported(slack, people["teacher"].user_id)
    assert "CP-TEST-0001-meeting-1-minutes-version-1.docx" in files
    first = _docx(files["CP-TEST-0001-meeting-1-minutes-version-1.docx"])
    assert "First meeting points." in text_of(first) and headings(first)[0] == "Record of core group meeting 1"

    people["teacher"].command("export 7", channel=world.channel_id)
    assert any("no posted record of meeting 7" in t for t in ephemeral_texts(slack))


def test_export_case_holds_both_documents_of_each_meeting(people, slack, app, engine, world, tmp_path, monkeypatch):
    end_and_post(people, slack, world)
    prepare_and_approve(people, slack)
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    path = tmp_path / "case.zip"
    assert cli.main(["export-case", "CP-TEST-0001", "--output", str(path)]) == 0
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("CP-TEST-0001-export/manifest.json"))
        assert manifest["documents"] == ["CP-TEST-0001-meeting-2-minutes-version-1.docx",
                                         "CP-TEST-0001-meeting-2-family-version.docx"]
        family = _docx(archive.read("CP-TEST-0001-export/documents/CP-TEST-0001-meeting-2-family-version.docx"))
    assert [h for h in headings(family) if h in SECTIONS][:3] == ["The main points", "What we are worried about",
                                                                  "What is going well"]


def test_a_correction_is_its_own_version_with_its_reason(people, slack, app, world):
    recap = end_and_post(people, slack, world)
    with Session(app.engine) as session:
        content = records.versioned(records.content_of(session.get(Recap, recap.id)), version=2,
                                    correction_reason="The teacher's name was wrong.")
        session.add(Recap(meeting_id=world.meeting_id, version=2, content=records.dumps(content),
                          status=RecapStatus.POSTED, posted_at=datetime.now(UTC),
                          correction_reason="The teacher's name was wrong."))
        session.commit()
        record = documents.gather(session, session.exec(select(Recap).where(Recap.version == 2)).one())
        meeting = session.get(Meeting, world.meeting_id)
    minutes = _docx(documents.minutes_docx(record))
    body = text_of(minutes)
    assert "Version 2, posted" in body and "Corrects version 1: The teacher's name was wrong." in body
    assert "This is version 2" in body and documents.minutes_name(record).endswith("version-2.docx")
    assert meeting.number == 2


def test_text_word_cannot_hold_is_dropped_not_fatal():
    data = documents.to_docx([("h1", "Heading"), ("p", "Bell\x07 and NUL\x00 characters"),
                              ("labelled", ("Label", "x\x0b")), ("table", [["A"], ["b\x1f"]])], title="T\x01")
    document = _docx(data)
    assert "Bell and NUL characters" in text_of(document)


def test_a_failed_upload_is_said_and_not_audited(people, slack, app, world):
    end_and_post(people, slack, world)
    slack.reset()
    slack.fail_next("files.completeUploadExternal", error="internal_error", status=200)
    people["sw"].command("export", channel=world.channel_id)
    assert any("Slack did not take the documents just now" in t for t in ephemeral_texts(slack))
    with Session(app.engine) as session:
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "recap.exported")).all() == []
    people["sw"].command("export", channel=world.channel_id)  # trying again works
    assert any("sent you the minutes of meeting 2" in t for t in ephemeral_texts(slack))


JARGON_DECISION = ("Mum presented as anxious and the group is worried about disguised compliance. If things keep"
                   " improving the case will step down to CIN.")


@pytest.fixture
def jargon_world(people, slack, app):
    info = new_case(people, slack, members=MEMBERS)
    return running_meeting(app.engine, info, people, Plan(decisions=(JARGON_DECISION,),
                                                          what="Share the PLO letter with Mum"))


def _family_and_minutes(people, slack, world, *, tick: tuple[str, ...] = ()) -> tuple[str, str]:
    prepare_and_approve(people, slack, tick=tick)
    slack.reset()
    people["sw"].command("export", channel=world.channel_id)
    files = _exported(slack, people["sw"].user_id)
    family = next(data for name, data in files.items() if name.endswith("family-version.docx"))
    minutes = next(data for name, data in files.items() if "minutes" in name)
    return text_of(_docx(family)), text_of(_docx(minutes))


def test_the_family_version_puts_jargon_in_plain_words_and_says_what_is_late(people, slack, app, jargon_world):
    end_and_post(people, slack, jargon_world)
    plain, minutes = _family_and_minutes(people, slack, jargon_world)

    assert JARGON_DECISION in minutes, "the minutes keep the record as it was written"
    lowered = plain.lower()
    for jargon in ("disguised compliance", "presented as", "step down", "plo"):
        assert jargon not in lowered, jargon
    assert ("The group decided: Mum seemed anxious and the group is worried about appearing to co-operate without"
            " real change. If things keep improving the case will move down to the lighter support of child in"
            " need.") in plain
    assert check(plain) == [], [s.term for s in check(plain)]
    # A spelled-out name that is still not everyday words is explained at the end, in a short sentence.
    assert "Share the public law outline letter with Mum 1." in plain
    assert "Some words in this summary" in plain and "Public law outline: the pre-court process." in plain

    # The overdue action (due three days ago, a Friday) says plainly that it is late.
    assert ("Health Visitor A (health visitor): Share the public law outline letter with Mum 1. This is late. It"
            " was due by Friday 20 November 2026.") in plain
    assert "Due by Friday 20 November 2026" not in plain


def test_one_child_is_a_child_and_two_are_children(people, slack, app, world):
    recap = end_and_post(people, slack, world)
    plain, minutes = _family_and_minutes(people, slack, world, tick=("child",))
    assert "the children" not in plain.lower() and "What the child said" in plain
    assert "The group thinks the risks to the child are getting smaller." in plain
    assert "Continue the plan: the child stays on the child protection plan." in minutes
    assert "the children" not in minutes.lower()

    with Session(app.engine) as session:
        record = documents.gather(session, session.get(Recap, recap.id))
    record.content["children"] = ["Child A (7)", "Child B (4)"]
    outline = family_outline(build(record, prefill(record), child=True, others=False))
    headings_of = [text for kind, text in outline if kind == "h1"]
    assert "What the children said" in headings_of and "What the child said" not in headings_of
    assert ("bullet", "The group thinks the risks to the children are getting smaller.") in outline
    minutes_two = text_of(_docx(documents.minutes_docx(record)))
    assert "Continue the plan: the children stay on the child protection plan." in minutes_two


def test_the_minutes_count_readers_as_the_channel_message_does(people, slack, app, world):
    recap = end_and_post(people, slack, world)
    people["hv"].click(Action.RECAP_READ, {"c": world.case_id, "r": recap.id}, channel=world.channel_id)
    shown = next(m for m in slack.messages(world.channel_id) if m["ts"] == recap.message_ts)
    read_by = re.search(r"Read by (\d+) of (\d+)", json.dumps(shown["blocks"]))
    assert read_by and read_by.groups() == ("1", "5"), "the parent cannot press the button, so is not counted"

    _plain, minutes = _family_and_minutes(people, slack, world)
    assert "It was shared in Slack with 5 people. 1 of 5 has said they read this version." in minutes
    assert "Given outside Slack by the chair, because they do not use Slack: Mother of Child A (Parent)." in minutes
    assert "have said they read" not in minutes
    minutes_doc = _docx(documents.minutes_docx(_record(app, recap.id)))
    table = next([[c.text for c in r.cells] for r in t.rows] for t in minutes_doc.tables
                 if t.rows[0].cells[-1].text == "Said they read it")
    said = {row[0]: row[3] for row in table[1:]}
    assert said["Mother of Child A"] == "Not recorded: no Slack" and said["Teacher A"] == "Not yet"

    people["teacher"].click(Action.RECAP_READ, {"c": world.case_id, "r": recap.id}, channel=world.channel_id)
    text = text_of(_docx(documents.minutes_docx(_record(app, recap.id))))
    assert "2 of 5 have said they read this version." in text


def _record(app, recap_id: int):
    with Session(app.engine) as session:
        return documents.gather(session, session.get(Recap, recap_id))
