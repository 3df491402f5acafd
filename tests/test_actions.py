"""Actions end to end: add, list (paged), done, progress, new date with reason; from the channel, a direct
message and the App Home; the "Make this an action" shortcut; refusals and idempotency."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlmodel import Session, select

from handlers.blocks import actions as action_blocks
from handlers.blocks import kit
from handlers.ids import Action as ActionId
from handlers.ids import Block, Shortcut, View
from models import actions
from models.audit import Actor
from models.tables import Action, ActionEvent, ActionEventKind, ActionStatus, AuditEvent, Member
from tests.helpers import ephemeral_texts, new_case, opened_view, posted
from tests.meeting_factories import add_offline_member, button, insert_meeting, member_id

NOT_A_MEMBER = "Only members of this core group"


def _today():
    return datetime.now(ZoneInfo("Europe/London")).date()


def _add(people, slack, case, who="teacher", **values):
    people[who].command("action", channel=case.channel_id)
    view = opened_view(slack, View.ACTION_ADD)
    owner = values.pop("owner", None) or str(member_id(people[who].app.engine, case.case_id, people[who].user_id))
    fields = {Block.ACTION_WHAT: "Book a dentist appointment for Child A", Block.ACTION_OWNER: owner,
              Block.ACTION_DUE: (_today() + timedelta(days=14)).isoformat(),
              Block.ACTION_MEASURE: "The appointment letter is seen at the next visit"}
    fields.update(values)
    return people[who].submit(view, fields)


def _insert_actions(engine, case_id, owner_id, count, *, due=None):
    with Session(engine, expire_on_commit=False) as session:
        made = [actions.create(session, case_id=case_id, what=f"Action number {n:02d}", owner_member_id=owner_id,
                               due_date=due or _today() + timedelta(days=n + 1), measure="Seen to be done",
                               safety_goal_id=None, meeting_id=None, actor=Actor.app(), member_id=None,
                               now=datetime.now(UTC))
                for n in range(count)]
        session.commit()
        return [a.id for a in made]


def _events(engine, action_id, kind):
    with Session(engine) as session:
        return session.exec(select(ActionEvent).where(ActionEvent.action_id == action_id,
                                                      ActionEvent.kind == kind)).all()


def _action(engine, action_id) -> Action:
    with Session(engine) as session:
        return session.get(Action, action_id)


def _last_reply(slack):
    return [c for c in slack.calls if c.method == "response_url"][-1]


def test_add_an_action_for_someone_without_slack_outside_a_meeting(people, slack, app):
    case = new_case(people, slack)
    parent = add_offline_member(app.engine, case.case_id)
    reply = _add(people, slack, case, owner=str(parent))
    assert reply.status == 200 and reply.body == "", reply.body
    with Session(app.engine) as session:
        action = session.exec(select(Action)).one()
        assert (action.owner_member_id, action.meeting_id, action.status) == (parent, None, ActionStatus.OPEN)
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "action.created")).one()
    post = posted(slack, case.channel_id, "New action")[-1]
    text = json.dumps(post["blocks"])
    assert "Mother of Child A" in text and "How we will know it is done" in text and "thread_ts" not in post
    assert button(post, ActionId.ACTION_DONE)[0] == json.dumps({"c": case.case_id, "a": action.id},
                                                              separators=(",", ":"))


def test_during_a_meeting_actions_belong_to_it_and_go_in_its_thread(people, slack, app):
    case = new_case(people, slack)
    meeting_post = slack.add_message(case.channel_id, "U0BOT", "Core group meeting")
    meeting = insert_meeting(app.engine, case.case_id, channel_id=case.channel_id, message_ts=meeting_post["ts"])
    _add(people, slack, case)
    assert _action(app.engine, 1).meeting_id == meeting
    post = posted(slack, case.channel_id, "New action")[-1]
    assert post["thread_ts"] == meeting_post["ts"]


def test_modal_errors_keep_what_was_typed_and_save_nothing(people, slack, app):
    case = new_case(people, slack)
    reply = _add(people, slack, case, **{Block.ACTION_DUE: (_today() - timedelta(days=1)).isoformat(),
                                         Block.ACTION_MEASURE: ""})
    body = reply.json()
    assert body["response_action"] == "errors"
    assert "passed" in body["errors"][Block.ACTION_DUE] and Block.ACTION_MEASURE in body["errors"]
    with Session(app.engine) as session:
        assert session.exec(select(Action)).all() == []


def test_jargon_is_queried_then_saved_as_written(people, slack, app):
    case = new_case(people, slack)
    reply = _add(people, slack, case, **{Block.ACTION_WHAT: "Share the CIN plan with the family"})
    body = reply.json()
    assert body["response_action"] == "update" and "child in need" in json.dumps(body["view"])
    typed = next(b for b in body["view"]["blocks"] if b.get("block_id") == Block.ACTION_WHAT)
    assert typed["element"]["initial_value"] == "Share the CIN plan with the family"
    # Sent back with response_action "update", the form keeps its id: saving it again keeps it as written.
    reply = people["teacher"].submit(dict(body["view"], id=opened_view(slack, View.ACTION_ADD)["id"]))
    assert reply.body == ""
    with Session(app.engine) as session:
        assert session.exec(select(Action)).one().what == "Share the CIN plan with the family"


def test_jargon_in_progress_notes_and_new_date_reasons_is_queried_then_saved_as_written(people, slack, app):
    case = new_case(people, slack)
    hv = member_id(app.engine, case.case_id, people["hv"].user_id)
    (action_id,) = _insert_actions(app.engine, case.case_id, hv, 1)
    value = {"c": case.case_id, "a": action_id}
    hv_user = people["hv"]

    # Add progress: the note comes back with what the initials mean, as typed, and nothing is saved yet.
    hv_user.click(ActionId.ACTION_PROGRESS, value, channel=case.channel_id)
    note = "Mum DNA'd the appointment; the DSL is aware"
    body = hv_user.submit(opened_view(slack, View.ACTION_PROGRESS), {Block.PROGRESS_NOTE: note}).json()
    assert body["response_action"] == "update"
    shown = json.dumps(body["view"])
    assert "did not attend" in shown and "designated safeguarding lead" in shown and "save again" in shown
    typed = next(b for b in body["view"]["blocks"] if b.get("block_id") == Block.PROGRESS_NOTE)
    assert typed["element"]["initial_value"] == note
    assert _events(app.engine, action_id, ActionEventKind.PROGRESS) == []
    assert not posted(slack, case.channel_id, "the appointment")
    # Saving again keeps it as written.
    assert hv_user.submit(dict(body["view"], id=opened_view(slack, View.ACTION_PROGRESS)["id"])).body == ""
    assert [e.note for e in _events(app.engine, action_id, ActionEventKind.PROGRESS)] == [note]
    assert posted(slack, case.channel_id, "the appointment")

    # New date: the same for the reason, and the chosen date is kept too.
    hv_user.click(ActionId.ACTION_NEW_DATE, value, channel=case.channel_id)
    new_due = _today() + timedelta(days=21)
    reason = "Waiting for the CAMHS appointment"
    body = hv_user.submit(opened_view(slack, View.ACTION_NEW_DATE),
                          {Block.DATE: new_due.isoformat(), Block.REASON: reason}).json()
    assert body["response_action"] == "update" and "mental health" in json.dumps(body["view"])
    blocks = {b.get("block_id"): b for b in body["view"]["blocks"]}
    assert blocks[Block.REASON]["element"]["initial_value"] == reason
    assert blocks[Block.DATE]["element"]["initial_date"] == new_due.isoformat()
    assert _action(app.engine, action_id).due_date != new_due
    assert hv_user.submit(dict(body["view"], id=opened_view(slack, View.ACTION_NEW_DATE)["id"])).body == ""
    assert _action(app.engine, action_id).due_date == new_due
    assert [e.note for e in _events(app.engine, action_id, ActionEventKind.DUE_CHANGED)] == [reason]


def test_plain_progress_notes_are_saved_at_once(people, slack, app):
    case = new_case(people, slack)
    hv = member_id(app.engine, case.case_id, people["hv"].user_id)
    (action_id,) = _insert_actions(app.engine, case.case_id, hv, 1)
    people["hv"].click(ActionId.ACTION_PROGRESS, {"c": case.case_id, "a": action_id}, channel=case.channel_id)
    reply = people["hv"].submit(opened_view(slack, View.ACTION_PROGRESS), {Block.PROGRESS_NOTE: "Rang the surgery"})
    assert reply.body == ""
    assert [e.note for e in _events(app.engine, action_id, ActionEventKind.PROGRESS)] == ["Rang the surgery"]


def test_resubmitted_view_makes_one_action(people, slack, app):
    case = new_case(people, slack)
    people["teacher"].command("action", channel=case.channel_id)
    view = opened_view(slack, View.ACTION_ADD)
    owner = str(member_id(app.engine, case.case_id, people["teacher"].user_id))
    fields = {Block.ACTION_WHAT: "Ring the school nurse", Block.ACTION_OWNER: owner,
              Block.ACTION_DUE: (_today() + timedelta(days=3)).isoformat(), Block.ACTION_MEASURE: "Call logged"}
    people["teacher"].submit(view, fields)
    people["teacher"].submit(view, fields)
    with Session(app.engine) as session:
        assert len(session.exec(select(Action)).all()) == 1
    assert len(posted(slack, case.channel_id, "New action")) == 1


def test_list_done_progress_and_new_date_with_reason(people, slack, app):
    case = new_case(people, slack)
    hv = member_id(app.engine, case.case_id, people["hv"].user_id)
    late, soon = _insert_actions(app.engine, case.case_id, hv, 2)
    with Session(app.engine) as session:  # the first has already fallen due
        row = session.get(Action, late)
        row.due_date = _today() - timedelta(days=2)
        session.add(row)
        session.commit()
    hv_user = people["hv"]
    hv_user.command("actions", channel=case.channel_id)
    listing = _last_reply(slack).args
    text = json.dumps(listing["blocks"])
    assert "overdue by 1 working day" in text and "2 open actions, 1 overdue" in text  # due Saturday

    # New date: a date after today and a reason are both needed; then the action is carried forward.
    value = button(listing, ActionId.ACTION_NEW_DATE)[0]
    hv_user.click(ActionId.ACTION_NEW_DATE, value, channel=case.channel_id)
    view = opened_view(slack, View.ACTION_NEW_DATE)
    reply = hv_user.submit(view, {Block.DATE: _today().isoformat(), Block.REASON: ""})
    assert set(reply.json()["errors"]) == {Block.DATE, Block.REASON}
    new_due = _today() + timedelta(days=10)
    reply = hv_user.submit(view, {Block.DATE: new_due.isoformat(), Block.REASON: "The clinic was closed"})
    assert reply.body == ""
    moved = _action(app.engine, late)
    assert (moved.due_date, moved.carried_forward) == (new_due, 1)
    change = _events(app.engine, late, ActionEventKind.DUE_CHANGED)[0]
    assert change.note == "The clinic was closed" and change.old_due == _today() - timedelta(days=2)
    assert posted(slack, case.channel_id, "The clinic was closed")
    assert "carried forward once" in json.dumps(_last_reply(slack).args["blocks"])  # the list was redrawn

    # Add progress.
    value = button(listing, ActionId.ACTION_PROGRESS)[0]
    hv_user.click(ActionId.ACTION_PROGRESS, value, channel=case.channel_id)
    reply = hv_user.submit(opened_view(slack, View.ACTION_PROGRESS), {Block.PROGRESS_NOTE: "Called the surgery"})
    assert reply.body == ""
    assert [e.note for e in _events(app.engine, late, ActionEventKind.PROGRESS)] == ["Called the surgery"]

    # Done: recorded, posted in the channel, and gone from the redrawn list.
    value = json.dumps({"c": case.case_id, "a": soon, "p": 0, "o": "a"}, separators=(",", ":"))
    hv_user.click(ActionId.ACTION_DONE, value, channel=case.channel_id)
    assert _action(app.engine, soon).status == ActionStatus.DONE
    assert posted(slack, case.channel_id, "marked this action as done")
    redrawn = _last_reply(slack).args
    assert redrawn["replace_original"] in (True, "true") and "Action number 01" not in json.dumps(redrawn["blocks"])


def test_double_clicked_done_records_once(people, slack, app):
    case = new_case(people, slack)
    hv = member_id(app.engine, case.case_id, people["hv"].user_id)
    (action_id,) = _insert_actions(app.engine, case.case_id, hv, 1)
    value = {"c": case.case_id, "a": action_id}
    people["hv"].click(ActionId.ACTION_DONE, value, channel=case.channel_id, wait=False)
    people["hv"].click(ActionId.ACTION_DONE, value, channel=case.channel_id, wait=False)
    app.wait_idle()
    assert len(_events(app.engine, action_id, ActionEventKind.DONE)) == 1
    assert len(posted(slack, case.channel_id, "marked this action as done")) == 1
    assert any("already marked as done" in t for t in ephemeral_texts(slack))


def test_done_from_a_direct_message_and_from_the_app_home(people, slack, app):
    case = new_case(people, slack)
    hv = member_id(app.engine, case.case_id, people["hv"].user_id)
    first, second = _insert_actions(app.engine, case.case_id, hv, 2)
    # A reminder in a direct message carries the action's line and buttons; the message is redrawn.
    with Session(app.engine) as session:
        action, owner = session.get(Action, first), session.get(Member, hv)
        blocks = [kit.section(action_blocks.action_line(action, owner, _today()), block_id=f"action_{first}"),
                  action_blocks.action_buttons(case.case_id, first)]
    client = WebClient(token=slack.BOT_TOKEN, base_url=slack.url)
    reminder = client.chat_postMessage(channel=people["hv"].user_id, text="Overdue", blocks=blocks)
    message = dict(reminder["message"])
    people["hv"].click(ActionId.ACTION_DONE, {"c": case.case_id, "a": first}, channel=reminder["channel"],
                       message=message)
    assert _action(app.engine, first).status == ActionStatus.DONE
    updated = next(m for m in slack.messages(reminder["channel"]) if m["ts"] == message["ts"])
    assert "✅ Done" in json.dumps(updated["blocks"], ensure_ascii=False)
    # From the App Home (no channel): the home tab is redrawn without the action; a repeat is answered by DM.
    home = {"type": "home", "id": "VHOME1", "blocks": []}
    people["hv"].click(ActionId.ACTION_DONE, {"c": case.case_id, "a": second}, view=home)
    assert _action(app.engine, second).status == ActionStatus.DONE
    published = [c for c in slack.calls_to("views.publish") if c.args["user_id"] == people["hv"].user_id][-1]
    assert "Action number 01" not in json.dumps(published.args["view"])
    people["hv"].click(ActionId.ACTION_DONE, {"c": case.case_id, "a": second}, view=home)
    dms = [m.get("text", "") for m in slack.messages(people["hv"].user_id)]
    assert any("already marked as done" in text for text in dms)
    # New date from the App Home: the form opens, and the home tab is redrawn after it is saved.
    (third,) = _insert_actions(app.engine, case.case_id, hv, 1)
    people["hv"].click(ActionId.ACTION_NEW_DATE, {"c": case.case_id, "a": third}, view=home)
    before = len(slack.calls_to("views.publish"))
    people["hv"].submit(opened_view(slack, View.ACTION_NEW_DATE), {
        Block.DATE: (_today() + timedelta(days=30)).isoformat(), Block.REASON: "Waiting for a clinic slot"})
    assert _action(app.engine, third).due_date == _today() + timedelta(days=30)
    assert len(slack.calls_to("views.publish")) == before + 1


def test_forty_actions_are_paged_within_limits(people, slack, app):
    case = new_case(people, slack)
    hv = member_id(app.engine, case.case_id, people["hv"].user_id)
    _insert_actions(app.engine, case.case_id, hv, 40)
    people["teacher"].command("actions", channel=case.channel_id)
    first = _last_reply(slack)
    assert first.status == 200 and len(first.args["blocks"]) <= 50
    text = json.dumps(first.args["blocks"])
    assert "Action number 00" in text and "Action number 09" in text and "Action number 10" not in text
    assert "page 1 of 4" in text
    value, _ = button(first.args, ActionId.ACTIONS_PAGE)
    people["teacher"].click(ActionId.ACTIONS_PAGE, value, channel=case.channel_id)
    second = _last_reply(slack)
    text = json.dumps(second.args["blocks"])
    assert second.status == 200 and "Action number 10" in text and "Action number 19" in text
    assert "page 2 of 4" in text and "Previous" in text
    mine = people["teacher"]
    mine.click(ActionId.HERE_ACTIONS, {"c": case.case_id}, channel=case.channel_id)
    assert "You have no open actions" in json.dumps(_last_reply(slack).args["blocks"])


def test_make_this_an_action_shortcut(people, slack, app):
    case = new_case(people, slack)
    said = slack.add_message(case.channel_id, people["hv"].user_id,
                             f"I will chase the housing repair with <@{people['teacher'].user_id}> &amp; the landlord")
    people["sw"].shortcut(Shortcut.MAKE_ACTION, channel=case.channel_id, message=said)
    view = opened_view(slack, View.ACTION_ADD)
    what = next(b for b in view["blocks"] if b.get("block_id") == Block.ACTION_WHAT)["element"]["initial_value"]
    owner = next(b for b in view["blocks"] if b.get("block_id") == Block.ACTION_OWNER)["element"]["initial_option"]
    assert "<@" not in what and "& the landlord" in what
    assert owner["value"] == str(member_id(app.engine, case.case_id, people["hv"].user_id))


def test_non_member_is_refused_on_every_entry_point(people, slack, app):
    case = new_case(people, slack)
    hv = member_id(app.engine, case.case_id, people["hv"].user_id)
    (action_id,) = _insert_actions(app.engine, case.case_id, hv, 1)
    outsider = people["outsider"]
    value = {"c": case.case_id, "a": action_id}
    outsider.command("action", channel=case.channel_id)
    outsider.command("actions", channel=case.channel_id)
    for action_id_ in (ActionId.ACTION_DONE, ActionId.ACTION_PROGRESS, ActionId.ACTION_NEW_DATE):
        outsider.click(action_id_, value, channel=case.channel_id)
    outsider.click(ActionId.ACTIONS_PAGE, {"c": case.case_id, "p": 1, "o": "a"}, channel=case.channel_id)
    outsider.click(ActionId.HERE_ACTIONS, {"c": case.case_id}, channel=case.channel_id)
    said = slack.add_message(case.channel_id, people["hv"].user_id, "Someone should ring the school")
    outsider.shortcut(Shortcut.MAKE_ACTION, channel=case.channel_id, message=said)
    assert len([t for t in ephemeral_texts(slack) if NOT_A_MEMBER in t]) == 8
    # A form opened by a member, submitted by someone who is not one: refused, nothing saved.
    people["hv"].click(ActionId.ACTION_PROGRESS, value, channel=case.channel_id)
    reply = outsider.submit(opened_view(slack, View.ACTION_PROGRESS), {Block.PROGRESS_NOTE: "x"})
    assert reply.json()["response_action"] == "update"
    assert _action(app.engine, action_id).status == ActionStatus.OPEN
    assert _events(app.engine, action_id, ActionEventKind.PROGRESS) == []
    assert not [c for c in slack.calls_to("views.open") if c.args["view"]["callback_id"] == View.ACTION_ADD]


def test_shortcut_outside_a_case_channel_says_where_it_works(people, slack, app):
    new_case(people, slack)
    other = slack.add_channel("general", members=[people["sw"].user_id, "U0BOT"])
    said = slack.add_message(other.id, people["sw"].user_id, "Lunch at one")
    people["sw"].shortcut(Shortcut.MAKE_ACTION, channel=other.id, message=said)
    assert any("core group's channel" in t for t in ephemeral_texts(slack))
