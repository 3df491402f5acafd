"""The family's part end to end (issue 12): the family version is prepared and approved before anyone can
export it, leaves out the child's words and other agencies' words unless ticked, is A4 and easy to read;
"given to the family" shows in the channel's record; only the lead social worker and the chair may act."""

from __future__ import annotations

import io

import pytest
from sqlmodel import Session, select

from handlers.export import NO_FAMILY_VERSION
from handlers.ids import Action, Block, View
from models import family_versions as fv
from models.readability import TARGET_EASE, TARGET_WORDS_PER_SENTENCE, measure_text
from models.tables import AuditEvent, FamilyHandover, FamilyVersion, FamilyVersionStatus
from tests.conftest import DATABASE
from tests.family_world import approve, buttons, dm_texts, prepare, prepare_and_approve
from tests.helpers import ephemeral_texts, new_case, opened_view
from tests.recap_world import Plan, running_meeting
from tests.test_end import MEMBERS, end_and_post

CHILD_WORDS = "Child A says they feel happier at home."
HEARD = "Child A said school is better now."  # what the GP heard the child say, in their update


@pytest.fixture
def world(people, slack, app):
    info = new_case(people, slack, members=MEMBERS)
    return running_meeting(app.engine, info, people, Plan())


def _docx(data: bytes):
    from docx import Document

    return Document(io.BytesIO(data))


def _text(document) -> str:
    return "\n".join(p.text for p in document.paragraphs)


def _files(slack, user_id: str) -> dict[str, bytes]:
    found = {}
    for message in slack.messages(user_id):
        for item in message.get("files") or []:
            found[item["name"]] = slack.uploaded_files[item["id"]].content
    return found


FAMILY_FILE = "CP-TEST-0001-meeting-2-family-version.docx"


def test_nothing_for_the_family_can_be_exported_before_approval(people, slack, app, world):
    end_and_post(people, slack, world)
    assert buttons(slack.messages(people["sw"].user_id), Action.FAMILY_PREPARE), "the lead is asked privately"
    assert not buttons(slack.messages(world.channel_id), Action.FAMILY_PREPARE), "never in the channel"

    slack.reset()
    people["teacher"].command("export", channel=world.channel_id)
    files = _files(slack, people["teacher"].user_id)
    assert list(files) == ["CP-TEST-0001-meeting-2-minutes-version-1.docx"]
    assert any(NO_FAMILY_VERSION.format(number=2)[:60] in t for t in ephemeral_texts(slack))

    reply = prepare(people, slack)  # a draft is still not for the family
    assert reply.body == ""
    slack.reset()
    people["teacher"].command("export", channel=world.channel_id)
    assert FAMILY_FILE not in _files(slack, people["teacher"].user_id)

    approve(people, slack)
    slack.reset()
    people["teacher"].command("export", channel=world.channel_id)
    assert FAMILY_FILE in _files(slack, people["teacher"].user_id)
    with Session(app.engine) as session:
        [row] = session.exec(select(FamilyVersion)).all()
        assert row.status == FamilyVersionStatus.APPROVED and row.version == 1 and not row.includes_child_words
        actions = [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.record_type == "family_version"))]
    assert actions == ["family_version.drafted", "family_version.approved"]


def test_the_childs_words_and_other_agencies_words_stay_out_unless_ticked(people, slack, app, world):
    end_and_post(people, slack, world)
    prepare_and_approve(people, slack)
    slack.reset()
    people["sw"].command("export", channel=world.channel_id)
    document = _docx(_files(slack, people["sw"].user_id)[FAMILY_FILE])
    text = _text(document)
    assert CHILD_WORDS not in text and HEARD not in text and "Child A" in text
    assert "Rent arrears" not in text, "what the GP wrote about the family stays with the professionals"
    assert "also gave updates" in text
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297), "A4"

    # A second version, with both boxes ticked: a new version, the first kept as it was.
    reply = prepare(people, slack, tick=("child", "others"))
    assert reply.body == ""
    assert "check it is safe for the child" in dm_texts(slack, people["sw"].user_id)
    approve(people, slack)
    slack.reset()
    people["sw"].command("export", channel=world.channel_id)
    text = _text(_docx(_files(slack, people["sw"].user_id)[FAMILY_FILE]))
    assert CHILD_WORDS in text and HEARD in text and "Rent arrears" in text
    with Session(app.engine) as session:
        rows = session.exec(select(FamilyVersion).order_by(FamilyVersion.version)).all()
    assert [(r.version, r.status, r.includes_child_words) for r in rows] == [
        (1, "approved", False), (2, "approved", True)]
    assert CHILD_WORDS not in rows[0].content


def test_what_the_social_worker_writes_is_what_the_family_reads(people, slack, app, world):
    end_and_post(people, slack, world)
    prepare_and_approve(people, slack, edits={"main": "We talked about school. Things are going well."})
    slack.reset()
    people["sw"].command("export", channel=world.channel_id)
    text = _text(_docx(_files(slack, people["sw"].user_id)[FAMILY_FILE]))
    assert "We talked about school. Things are going well." in text


def test_only_the_lead_social_worker_and_the_chair_may_prepare_or_approve(people, slack, app, world):
    end_and_post(people, slack, world)
    value = buttons(slack.messages(people["sw"].user_id), Action.FAMILY_PREPARE)[-1]
    slack.reset()
    people["teacher"].click(Action.FAMILY_PREPARE, value, channel=world.channel_id)
    assert any(fv.NOT_ALLOWED[:50] in t for t in ephemeral_texts(slack))
    assert not slack.calls_to("views.open")

    prepare(people, slack)
    approve_value = buttons(slack.messages(people["sw"].user_id), Action.FAMILY_APPROVE)[-1]
    slack.reset()
    approve(people, slack, by="police", value=approve_value)
    assert any(fv.NOT_ALLOWED[:50] in t for t in ephemeral_texts(slack))
    with Session(app.engine) as session:
        assert session.exec(select(FamilyVersion)).one().status == FamilyVersionStatus.DRAFT

    # The chair (the health visitor here) may approve, from the button, as someone from another organisation would.
    approve(people, slack, by="hv", value=approve_value)
    with Session(app.engine) as session:
        row = session.exec(select(FamilyVersion)).one()
    assert row.status == FamilyVersionStatus.APPROVED


def test_approving_twice_makes_one_approved_version(people, slack, app, world):
    end_and_post(people, slack, world)
    prepare(people, slack)
    value = buttons(slack.messages(people["sw"].user_id), Action.FAMILY_APPROVE)[-1]
    approve(people, slack, value=value)
    slack.reset()
    approve(people, slack, value=value)
    with Session(app.engine) as session:
        assert len(session.exec(select(FamilyVersion)).all()) == 1
        assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "family_version.approved")).all()) == 1


def test_given_to_the_family_shows_in_the_channels_record(people, slack, app, world):
    recap = end_and_post(people, slack, world)
    prepare_and_approve(people, slack)
    value = buttons(slack.messages(people["sw"].user_id), Action.FAMILY_GIVEN)
    assert not value, "the approval message is replaced through its response URL"
    given_value = None
    for call in slack.calls_to("response_url"):
        found = buttons([call.args], Action.FAMILY_GIVEN)
        given_value = found[-1] if found else given_value
    assert given_value is not None
    people["sw"].click(Action.FAMILY_GIVEN, given_value, channel=people["sw"].user_id)
    view = opened_view(slack, View.FAMILY_GIVEN)
    reply = people["sw"].submit(view, {Block.GIVEN_ON: "2026-11-23", Block.GIVEN_HOW: "home_visit"})
    assert reply.status == 200 and "errors" not in reply.body
    thread = [m for m in slack.messages(world.channel_id) if m.get("thread_ts") == recap.message_ts]
    assert any("was given to Mother of Child A on Monday 23 November 2026, read together at a home visit" in m["text"]
               for m in thread)
    with Session(app.engine) as session:
        row = session.exec(select(FamilyHandover)).one()
        assert (row.how, row.given_to, row.interpreter) == ("home_visit", "Mother of Child A", False)
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "family_version.given")).one()

    # A date in the future is refused, keeping what was typed.
    people["sw"].click(Action.FAMILY_GIVEN, given_value, channel=people["sw"].user_id)
    view = opened_view(slack, View.FAMILY_GIVEN)
    reply = people["sw"].submit(view, {Block.GIVEN_ON: "2027-03-01", Block.GIVEN_HOW: "post"})
    assert "cannot be in the future" in reply.body


def test_the_family_version_meets_the_reading_target(people, slack, app, world):
    end_and_post(people, slack, world)
    prepare_and_approve(people, slack)
    slack.reset()
    people["sw"].command("export", channel=world.channel_id)
    text = _text(_docx(_files(slack, people["sw"].user_id)[FAMILY_FILE]))
    reading = measure_text(text)
    assert reading.ease >= TARGET_EASE and reading.words_per_sentence < TARGET_WORDS_PER_SENTENCE, reading


def _record_family_views(people, slack, world, *, by: str = "sw", score: str | None = "6"):
    from models import scaling
    from models.tables import Member

    with Session(people[by].app.engine) as session:
        question = scaling.standing_questions(session, world.case_id)[0]
        parent = session.exec(select(Member).where(Member.case_id == world.case_id,
                                                   Member.name == "Mother of Child A")).one()
    people[by].click(Action.FAMILY_VIEWS, {"c": world.case_id}, channel=world.channel_id)
    view = opened_view(slack, View.FAMILY_VIEWS)
    values = {Block.FAMILY_MEMBER: str(parent.id), Block.FAMILY_WORRIES: "I worry about paying the rent.",
              Block.FAMILY_HELP: "Help with the school run would help."}
    if score is not None:
        values[f"{Block.FAMILY_SCORE}_{question.id}"] = score
        values[f"{Block.FAMILY_SCORE_REASON}_{question.id}"] = "Mornings are calmer now."
    return people[by].submit(view, values), question, parent


def test_the_familys_views_and_score_recorded_by_the_social_worker_appear_everywhere(people, slack, app, world):
    from models import chart, scaling
    from models.tables import Score, Update
    from tests.recap_world import plain_text, recap_messages_in

    # A score without a reason keeps what was typed and says what is missing.
    with Session(app.engine) as session:
        question = scaling.standing_questions(session, world.case_id)[0]
    people["sw"].click(Action.FAMILY_VIEWS, {"c": world.case_id}, channel=world.channel_id)
    view = opened_view(slack, View.FAMILY_VIEWS)
    reply = people["sw"].submit(view, {f"{Block.FAMILY_SCORE}_{question.id}": "6"})
    assert "Please write why they gave that score" in reply.body

    reply, question, parent = _record_family_views(people, slack, world)  # during the meeting
    assert "Saved" in reply.body and "given by the family" in reply.body
    with Session(app.engine) as session:
        score = session.exec(select(Score).where(Score.member_id == parent.id)).one()
        update = session.exec(select(Update).where(Update.member_id == parent.id)).one()
        assert score.score == 6 and score.recorded_by_member_id == world.members["sw"]
        assert update.recorded_by_member_id == world.members["sw"]
        events = {e.action for e in session.exec(select(AuditEvent).where(AuditEvent.case_id == world.case_id))}
    assert {"update.sent", "scaling.score_recorded"} <= events

    recap = end_and_post(people, slack, world)
    text = plain_text(recap_messages_in(slack, world.channel_id, recap.id))
    assert "Mother of Child A* (Parent) _(given by the family, recorded by" in text
    assert "I worry about paying the rent." in text
    assert "*6* – Mother of Child A (Parent): Mornings are calmer now." in text

    with Session(app.engine) as session:
        summary = scaling.round_summary(session, scaling.rounds_for_meeting(session, world.meeting_id)[0].id)
        drawn = chart.trajectory(session, question.id)
    assert 6 in [line.score for line in summary.scores if line.member_id == parent.id]
    family_line = next(p for p in drawn.people if "given by the family" in p.label)
    assert family_line.scores[-1] == 6

    prepare_and_approve(people, slack)
    slack.reset()
    people["sw"].command("export", channel=world.channel_id)
    family_text = _text(_docx(_files(slack, people["sw"].user_id)[FAMILY_FILE]))
    assert "What you told us" in family_text and "I worry about paying the rent." in family_text
    assert "Mother of Child A gave a score of 6" in family_text


def test_only_the_lead_or_the_chair_may_record_the_familys_views(people, slack, app, world):
    slack.reset()
    people["teacher"].click(Action.FAMILY_VIEWS, {"c": world.case_id}, channel=world.channel_id)
    assert any(fv.NOT_ALLOWED[:50] in t for t in ephemeral_texts(slack)) and not slack.calls_to("views.open")
    reply, _question, _parent = _record_family_views(people, slack, world, by="hv", score=None)  # the chair
    assert "Saved" in reply.body


def test_the_outline_for_the_family_is_sent_when_a_meeting_is_booked_and_again_when_it_moves(people, slack, app):
    from datetime import date

    from models.tables import Action as ActionRow
    from models.tables import Member
    from tests.helpers import schedule_meeting

    case = new_case(people, slack)
    with Session(app.engine) as session:
        parent = session.exec(select(Member).where(Member.case_id == case.case_id,
                                                   Member.role == "Parent")).first()
        if parent is None:
            parent = Member(case_id=case.case_id, name="Mother of Child A", role="Parent")
            session.add(parent)
            session.flush()
        visitor = session.exec(select(Member).where(Member.case_id == case.case_id,
                                                    Member.slack_user_id == people["hv"].user_id)).one()
        visitor.role, visitor.agency = "Health visitor", "the Health Trust"
        session.add(visitor)
        session.add(ActionRow(case_id=case.case_id, what="Take Child A to the dentist", owner_member_id=parent.id,
                              due_date=date(2026, 12, 4)))
        session.commit()
    meeting = schedule_meeting(people, slack, case, date="2026-11-25")
    name = f"CP-TEST-0001-meeting-{meeting.number}-outline-for-the-family.docx"
    files = _files(slack, people["sw"].user_id)
    assert name in files, "the lead social worker gets the outline privately"
    assert not [m for m in slack.messages(case.channel_id) if m.get("files")], "never in the channel"
    document = _docx(files[name])
    text = _text(document)
    assert (round(document.sections[0].page_width.mm), round(document.sections[0].page_height.mm)) == (210, 297)
    for heading in ("When and where", "What a core group is for", "Who is coming", "What we will talk about",
                    "Your jobs in the plan", "Things to think about", "If you cannot come", "Your social worker"):
        assert heading in text, heading
    assert "Wednesday 25 November 2026 at 10:00" in text
    assert "Mother of Child A: Take Child A to the dentist. Due by Friday 4 December 2026." in text
    assert "What has gone well since the last meeting?" in text and "Phone:" in text
    assert "A health visitor from the Health Trust." in text and "Health Visitor A" not in text
    assert people["hv"].user_id not in text and "<@" not in text
    reading = measure_text(text)
    assert reading.ease >= TARGET_EASE and reading.words_per_sentence < TARGET_WORDS_PER_SENTENCE, reading

    slack.reset(world=False)
    before = len([m for m in slack.messages(people["sw"].user_id) if m.get("files")])
    people["hv"].click(Action.MEETING_MOVE, {"c": case.case_id, "m": meeting.id}, channel=case.channel_id)
    view = opened_view(slack, View.MEETING_MOVE)
    reply = people["hv"].submit(view, {Block.DATE: "2026-11-27", Block.TIME: "14:00",
                                       Block.REASON: "The school nurse is on a course"})
    assert reply.body == ""
    outlines = [m for m in slack.messages(people["sw"].user_id) if m.get("files")]
    assert len(outlines) == before + 1 and "has moved" in outlines[-1].get("text", "")
    moved = _text(_docx(slack.uploaded_files[outlines[-1]["files"][0]["id"]].content))
    assert "Friday 27 November 2026 at 14:00" in moved
    with Session(app.engine) as session:
        sent = session.exec(select(AuditEvent).where(AuditEvent.action == "family_outline.sent")).all()
    assert len(sent) == 2


def test_family_versions_not_given_after_five_working_days_show_in_the_home_and_the_weekly_summary(
        people, slack, app, world):
    from datetime import UTC, datetime, timedelta

    from handlers.blocks import reminders as texts
    from models import dispatch
    from models.tables import Case
    from tests.harness import send_event

    end_and_post(people, slack, world)
    row = prepare_and_approve(people, slack)

    def home_text() -> str:
        send_event(app, {"type": "app_home_opened", "user": people["sw"].user_id, "channel": "D0X", "tab": "home"},
                   team_id=people["sw"].team_id)
        import json
        return json.dumps(slack.calls_to("views.publish")[-1].args["view"])

    def weekly() -> str:
        with Session(app.engine) as session:
            case = session.get(Case, world.case_id)
            decision = dispatch._drift(session, case, None, datetime.now(UTC))
            if not isinstance(decision, dispatch.Send):
                return ""
            text, blocks = texts.drift(case, decision.facts)
            return text + str(blocks)

    assert "Family versions not yet given" not in home_text()  # approved today
    assert "not yet given" not in weekly()
    with Session(app.engine) as session:  # approved eight days (six working days) ago
        stored = session.get(FamilyVersion, row.id)
        stored.approved_at = datetime.now(UTC) - timedelta(days=8)
        session.add(stored)
        session.commit()
    assert "the family version of meeting 2 was approved 6 working days ago" in home_text()
    assert "not yet given to the family" in weekly()
    with Session(app.engine) as session:
        session.add(FamilyHandover(family_version_id=row.id, case_id=world.case_id, meeting_id=world.meeting_id,
                                   given_on=datetime.now(UTC).date(), how="post", given_to="Mother of Child A"))
        session.commit()
    assert "Family versions not yet given" not in home_text() and "not yet given" not in weekly()


def test_a_chair_from_another_organisation_records_the_familys_views_with_buttons_before_the_meeting(
        people, slack, app):
    from models.tables import Meeting, Member, Update
    from tests.helpers import schedule_meeting
    from tests.test_multi_agency import invite_and_join, welcome_button

    case = new_case(people, slack, members=("teacher",))
    visitor = invite_and_join(app, people, slack, case)  # a health visitor from the health trust's workspace
    meeting = schedule_meeting(people, slack, case, date="2026-11-25")
    with Session(app.engine) as session:
        chair_id = session.exec(select(Member.id).where(Member.slack_user_id == visitor.user_id)).one()
        stored = session.get(Meeting, meeting.id)
        stored.chair_member_id = chair_id
        session.add(stored)
        session.add(Member(case_id=case.case_id, name="Father of Child A", role="Parent"))
        session.commit()

    welcome, value = welcome_button(slack, case.channel_id, Action.FAMILY_PANEL)
    visitor.click(Action.FAMILY_PANEL, value, channel=case.channel_id, message=welcome)
    panel = [c.args for c in slack.calls_to("response_url") + slack.calls_to("chat.postEphemeral")
             if buttons([c.args], Action.FAMILY_VIEWS)]
    assert panel, "the chair from another organisation gets the buttons"
    visitor.click(Action.FAMILY_VIEWS, buttons([panel[-1]], Action.FAMILY_VIEWS)[0], channel=case.channel_id)
    view = opened_view(slack, View.FAMILY_VIEWS)
    assert "before meeting 1" in str(view["blocks"][0])
    father = next(o["value"] for b in view["blocks"] if b.get("block_id") == Block.FAMILY_MEMBER
                  for o in b["element"]["options"] if o["text"]["text"] == "Father of Child A")
    reply = visitor.submit(view, {Block.FAMILY_MEMBER: father, Block.FAMILY_WELL: "Bedtimes are easier."})
    assert "Saved" in reply.body
    with Session(app.engine) as session:
        update = session.exec(select(Update).where(Update.member_id == int(father))).one()
    assert update.recorded_by_member_id == chair_id and update.working_well == "Bedtimes are easier."


@pytest.mark.skipif(DATABASE != "postgresql", reason="SQLite lets one writer in at a time: there is no race to lose")
def test_two_approvals_at_once_make_one_approved_version(people, slack, app, world):
    import threading
    from datetime import UTC, datetime

    from models.audit import Actor
    from models.tables import Member

    end_and_post(people, slack, world)
    prepare(people, slack)
    with Session(app.engine) as session:
        draft = session.exec(select(FamilyVersion)).one()
        seen, draft_id = draft.content, draft.id
    barrier, results, errors = threading.Barrier(2), [], []

    def click(key: str) -> None:
        try:
            with Session(app.engine) as session:
                member = session.get(Member, world.members[key])
                barrier.wait()
                row = fv.approve(session, version_id=draft_id, seen_content=seen, member=member,
                                 actor=Actor(team_id="T0COUNCIL", user_id=people[key].user_id),
                                 now=datetime.now(UTC))
                session.commit()
                results.append(row is not None)
        except Exception as error:  # a lost race may only show as a refused write
            errors.append(error)

    threads = [threading.Thread(target=click, args=(key,)) for key in ("sw", "hv")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results.count(True) == 1, (results, errors)
    with Session(app.engine) as session:
        assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "family_version.approved")).all()) == 1
        assert session.get(FamilyVersion, draft_id).status == FamilyVersionStatus.APPROVED


@pytest.mark.parametrize("recommendation", ["step_up", "end", "continue"])
def test_what_happens_next_is_explained_with_who_to_contact(recommendation):
    from models.documents import Record
    from models.family import prefill

    record = Record(content={"children": ["Child A (7)"], "recommendation": recommendation,
                             "meeting": {"number": 2, "start": "2026-12-08T10:00:00+00:00"}},
                    recap_id=1, version=1, posted=None, reference="CP-TEST-0001", review_date=None,
                    lead={"name": "Social Worker A", "role": "Social worker"})
    text = prefill(record)["review"]
    assert "Social Worker A" in text, "who to contact"
    if recommendation == "step_up":
        assert "court" in text and "letter" in text and "solicitor" in text and "not have to pay" in text
    if recommendation == "end":
        assert "review conference makes the final choice" in text and "family support" in text
    reading = measure_text(text)
    assert reading.meets_target, reading
