"""Names, never ids (issue 13, item 6), end to end over signed requests with every profile look-up failing:
no form, message or document shows a raw Slack id as a name. Messages use mentions (Slack shows the name);
forms and documents say "someone on Slack (not yet looked up)". The name is looked up again on the person's
next action or by the scheduled run, change details can correct it, and `coregroup audit` prints names."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import time_machine
from sqlmodel import Session, select

from bot import cli
from handlers.ids import Action, Block, View
from models import documents, family, minutes, names
from models.tables import AuditEvent, Member, Recap
from tests.helpers import new_case, opened_view, schedule_meeting
from tests.reads import rows
from tests.recap_world import preview_value
from tests.reminder_world import dispatcher

IDS = ("U0SW", "U0HV", "U0TEACH")
RAW_ID = re.compile(r"(?<!<@)\b(" + "|".join(IDS) + r")\b")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def texts(value) -> list[str]:
    """Every piece of text a person reads in a message, form or block list."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "text" and isinstance(inner, str):
                found.append(inner)
            elif key not in ("value", "private_metadata", "initial_user", "initial_users", "block_id", "action_id"):
                found += texts(inner)
    elif isinstance(value, list):
        for inner in value:
            found += texts(inner)
    return found


def shown_to_people(slack) -> list[str]:
    found = []
    for call in slack.calls:
        if call.method in ("chat.postMessage", "chat.postEphemeral", "chat.update", "response_url", "views.open",
                           "views.update", "views.push", "views.publish"):
            found += texts({k: v for k, v in call.args.items() if k in ("text", "blocks", "view")})
    return found


def raw_ids(strings) -> list[str]:
    return [s for s in strings if RAW_ID.search(s)]


def no_look_ups(slack) -> None:
    slack.fail_next("users.info", error="user_not_found", status=200, times=100_000)


def member(app, user_id: str) -> Member:
    with Session(app.engine) as session:
        return session.exec(select(Member).where(Member.slack_user_id == user_id)).one()


def test_with_every_profile_look_up_failing_no_form_message_or_document_shows_an_id(people, slack, app):
    no_look_ups(slack)
    case = new_case(people, slack)
    assert not names.known(member(app, "U0HV"))
    # A form: the next meeting's chair; the start form's attendance; a new action's owner.
    meeting = schedule_meeting(people, slack, case, date="2026-11-30", chair="hv")
    chairs = json.dumps(opened_view(slack, View.SCHEDULE))
    assert names.NOT_LOOKED_UP in chairs
    people["hv"].command("members", channel=case.channel_id)
    with time_machine.travel(at("2026-11-30T10:00"), tick=True):
        people["hv"].command("start", channel=case.channel_id)
        start_form = opened_view(slack, View.START)
        assert names.NOT_LOOKED_UP in json.dumps(start_form)
        members = rows(app, select(Member).where(Member.case_id == case.case_id))
        people["hv"].submit(start_form, {f"{Block.START_ATTENDANCE}_{m.id}": "present" for m in members})
        people["hv"].command("decision The group agreed a weekly home visit.", channel=case.channel_id)
        people["hv"].command("action", channel=case.channel_id)
    # The record: the end form, the preview, the posted record.
    with time_machine.travel(at("2026-11-30T11:20"), tick=True):
        people["hv"].command("end", channel=case.channel_id)
        reply = people["hv"].submit(opened_view(slack, View.END), {
            Block.RECAP_KEY_POINTS: "Good progress.", Block.RECAP_RISK: "reducing",
            Block.RECAP_CHILD_VIEWS: "Child A says home is calmer.",
            Block.RECAP_PARENTS_VIEWS: "Mother of Child A agrees.", Block.RECAP_RECOMMENDATION: "continue"})
        assert reply.body == "", reply.body
        people["hv"].click(Action.RECAP_POST, preview_value(slack), channel=case.channel_id)
    # Scheduled messages too (the meeting reminders for the next meeting, the weekly summary).
    with time_machine.travel(at("2026-12-07T09:05"), tick=False):
        dispatcher(app.engine, slack).run_once()

    seen = shown_to_people(slack)
    assert seen and raw_ids(seen) == []
    assert any("<@U0HV>" in s for s in seen)  # messages name people by a mention, which Slack renders
    with Session(app.engine) as session:
        recap = session.exec(select(Recap).where(Recap.meeting_id == meeting.id)).one()
        record = documents.gather(session, recap)
    # The family version as the lead social worker is first shown it (prefilled from the record), ticked in full.
    draft = family.build(record, family.prefill(record), child=True, others=True)
    outline = minutes.minutes_outline(record) + family.family_outline(draft)
    words = [payload if isinstance(payload, str) else json.dumps(payload) for _, payload in outline]
    assert raw_ids(words) == []
    assert any(names.NOT_LOOKED_UP in w for w in words)
    assert raw_ids(json.dumps(record.content).split('"')) == []


def test_the_scheduled_run_and_the_next_action_look_names_up_again(people, slack, app, engine, monkeypatch,
                                                                      capsys):
    no_look_ups(slack)
    case = new_case(people, slack)
    assert not names.known(member(app, "U0HV")) and not names.known(member(app, "U0TEACH"))
    dispatcher(app.engine, slack).run_once()
    assert not names.known(member(app, "U0HV"))  # Slack still will not say: nothing changes, nothing breaks

    slack.reset()  # Slack answers again
    people["hv"].command("plan", channel=case.channel_id)  # the health visitor's next action
    assert member(app, "U0HV").name == "Health Visitor A"
    assert not names.known(member(app, "U0TEACH"))  # not theirs: left for the scheduled run
    dispatcher(app.engine, slack).run_once()
    assert member(app, "U0TEACH").name == "Teacher A" and member(app, "U0SW").name == "Social Worker A"
    events = rows(app, select(AuditEvent).where(AuditEvent.action == "member.name_from_slack"))
    assert sorted(e.record_id for e in events) == sorted(member(app, u).id for u in IDS)  # once each

    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    assert cli.main(["audit", case.reference]) == 0
    out = capsys.readouterr().out
    assert "(Health Visitor A)" in out and "(Teacher A)" in out and "(CoreGroup itself)" in out


def test_change_details_can_correct_a_name(people, slack, app):
    no_look_ups(slack)
    case = new_case(people, slack)
    hv = member(app, "U0HV")
    people["sw"].command("members", channel=case.channel_id)
    listing = opened_view(slack, "members_list")
    overflow = next(b["accessory"] for b in listing["blocks"] if b.get("block_id") == f"member_{hv.id}")
    edit = next(o["value"] for o in overflow["options"] if '"o":"edit"' in o["value"])
    people["sw"].click(Action.MEMBERS_EDIT, selected=edit, view=listing)
    form = opened_view(slack, View.MEMBER_EDIT)
    assert "Slack has not told us their name yet" in json.dumps(form)
    reply = people["sw"].submit(form, {Block.NAME: "Health Visitor B", Block.ROLE: "Health visitor"})
    assert reply.body == "", reply.body
    assert member(app, "U0HV").name == "Health Visitor B"
    slack.reset()
    people["hv"].command("plan", channel=case.channel_id)
    assert member(app, "U0HV").name == "Health Visitor B"  # a name given by hand is not replaced by a look-up


def test_names_are_asked_for_again_when_the_chair_opens_the_end_form(people, slack, app):
    no_look_ups(slack)
    case = new_case(people, slack)
    schedule_meeting(people, slack, case, date="2026-11-30", chair="sw")
    members = rows(app, select(Member).where(Member.case_id == case.case_id))
    with time_machine.travel(at("2026-11-30T10:00"), tick=True):
        people["sw"].command("start", channel=case.channel_id)
        people["sw"].submit(opened_view(slack, View.START),
                            {f"{Block.START_ATTENDANCE}_{m.id}": "present" for m in members})
    assert not names.known(member(app, "U0TEACH"))
    slack.reset()  # Slack answers again
    with time_machine.travel(at("2026-11-30T11:20"), tick=True):
        people["sw"].command("end", channel=case.channel_id)  # the teacher has done nothing meanwhile
        people["sw"].submit(opened_view(slack, View.END), {
            Block.RECAP_KEY_POINTS: "Good progress.", Block.RECAP_RISK: "reducing",
            Block.RECAP_CHILD_VIEWS: "Child A says home is calmer.",
            Block.RECAP_PARENTS_VIEWS: "Mother of Child A agrees.", Block.RECAP_RECOMMENDATION: "continue"})
    preview = json.dumps([c.args.get("blocks") for c in slack.calls_to("chat.postEphemeral")])
    assert "Teacher A" in preview and names.NOT_LOOKED_UP not in preview


def test_the_scheduled_run_does_not_ask_slack_again_and_again_about_someone_it_will_not_describe(people, slack, app):
    no_look_ups(slack)
    new_case(people, slack)
    scheduler = dispatcher(app.engine, slack)  # one per running app, kept between its runs
    scheduler.run_once()
    asked = len(slack.calls_to("users.info"))
    assert asked >= len(IDS)
    scheduler.run_once()
    scheduler.run_once()
    assert len(slack.calls_to("users.info")) == asked  # held back for an hour, not asked every run
