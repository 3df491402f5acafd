"""The members list and people from other organisations, end to end: who may change or remove members,
what the list shows about invited people, the organisation a picked Slack person is recorded under, and
Slack's refusals told in plain words."""

from __future__ import annotations

import json

from sqlmodel import Session, select

from handlers.ids import Action, Block, View
from handlers.members import ADD_FAILED, CHANGE_COUNCIL_ONLY
from models.tables import AuditEvent, Member, MemberStatus
from tests.harness import SlackUser, send_event
from tests.helpers import ephemeral_texts, new_case, opened_view, posted
from tests.slack_standin import SlackStandIn
from tests.test_multi_agency import (
    HV_EMAIL,
    HV_ID,
    accepted_event,
    invite_and_join,
    invite_by_email,
    member_by_email,
    open_members,
    welcome_button,
)

COUNCIL, TRUST = SlackStandIn.TEAM, SlackStandIn.OTHER_TEAM
SHARED_ID = "U0NHSSHARED"  # someone from the trust whom the council's people can pick (a shared channel)


def _rows(engine) -> tuple[list[dict], list[dict]]:
    """Every member and every audit event, as stored."""
    with Session(engine) as session:
        members = [m.model_dump() for m in session.exec(select(Member).order_by(Member.id))]
        events = [e.model_dump() for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]
    return members, events


def _member(engine, user_id: str) -> Member:
    with Session(engine) as session:
        return session.exec(select(Member).where(Member.slack_user_id == user_id)).one()


def _menu_choice(case_id: int, member_id: int, option: str) -> str:
    return json.dumps({"c": case_id, "m": member_id, "o": option}, separators=(",", ":"))


def _actions_in(view: dict) -> set[str]:
    found = set()
    for block in view["blocks"]:
        if block.get("accessory"):
            found.add(block["accessory"].get("action_id"))
        for element in block.get("elements", []):
            found.add(element.get("action_id"))
    return found - {None}


# --- 1. only the council's people change or remove members ------------------------------------------


def test_an_external_member_sees_the_list_without_the_menus_to_change_or_remove_people(app, people, slack):
    case = new_case(people, slack)
    hv = invite_and_join(app, people, slack, case)
    welcome, value = welcome_button(slack, case.channel_id, Action.HERE_MEMBERS)
    hv.click(Action.HERE_MEMBERS, value, channel=case.channel_id, message=welcome)
    listed = opened_view(slack, "members_list")
    text = json.dumps(listed["blocks"])
    assert "<@U0SW>" in text and "<@U0TEACH>" in text  # they can see who is in the group
    assert _actions_in(listed) == set()  # but nothing to add, change or remove anyone with
    assert "Remove from the group" not in text and "Change details" not in text
    assert "My role and agency" in text  # and they are told how to change their own details

    # The council's social worker still has the menu on everyone.
    people["sw"].click(Action.HERE_MEMBERS, value, channel=case.channel_id, message=welcome)
    listed = opened_view(slack, "members_list")
    assert Action.MEMBERS_EDIT in _actions_in(listed)
    assert "Remove from the group" in json.dumps(listed["blocks"])


def test_an_external_member_cannot_remove_or_change_anyone_by_button_form_or_forged_submission(app, people, slack,
                                                                                              engine):
    case = new_case(people, slack)
    hv = invite_and_join(app, people, slack, case)
    sw, teacher = _member(engine, "U0SW"), _member(engine, "U0TEACH")
    me = member_by_email(engine)
    welcome, value = welcome_button(slack, case.channel_id, Action.HERE_MEMBERS)
    hv.click(Action.HERE_MEMBERS, value, channel=case.channel_id, message=welcome)
    listed = opened_view(slack, "members_list")

    # The forms, as the council's social worker would have them open, for the external member to send.
    people["sw"].command("members", channel=case.channel_id)
    council_list = opened_view(slack, "members_list")
    people["sw"].click(Action.MEMBERS_EDIT, view=council_list, selected=_menu_choice(case.case_id, sw.id, "remove"))
    remove_sw = opened_view(slack, View.MEMBER_REMOVE)
    people["sw"].click(Action.MEMBERS_EDIT, view=council_list, selected=_menu_choice(case.case_id, teacher.id, "edit"))
    edit_teacher = opened_view(slack, View.MEMBER_EDIT)
    people["sw"].click(Action.MEMBERS_ADD_OFFLINE, {"c": case.case_id}, view=council_list)
    add_offline = opened_view(slack, View.MEMBER_ADD_OFFLINE)

    before = _rows(engine)
    channel_members = set(slack.channels[case.channel_id].members)
    slack.reset()

    # The menu's options, sent by hand (the value is not trusted): a notice, never the form.
    for member_id, option in ((sw.id, "remove"), (teacher.id, "remove"), (teacher.id, "edit"), (me.id, "remove")):
        assert hv.click(Action.MEMBERS_EDIT, view=listed,
                        selected=_menu_choice(case.case_id, member_id, option)).status == 200
    hv.click(Action.MEMBERS_ADD_OFFLINE, {"c": case.case_id}, view=listed)
    shown = [c.response["view"] for c in slack.calls_to("views.push") + slack.calls_to("views.open")]
    assert [v["callback_id"] for v in shown] == ["notice"] * 5
    assert all("council's own Slack workspace" in json.dumps(v["blocks"]) for v in shown)
    assert "My role and agency" in json.dumps(shown[0]["blocks"])

    # The forms themselves, submitted by the external member with the social worker's record in them.
    replies = [
        hv.submit(remove_sw),
        hv.submit(remove_sw, private_metadata=json.dumps({"c": case.case_id, "m": teacher.id})),
        hv.submit(remove_sw, private_metadata=json.dumps({"c": case.case_id, "m": me.id})),
        hv.submit(edit_teacher, {Block.ROLE: "Other professional", Block.AGENCY: "Changed by someone else",
                                 Block.MANAGER: HV_ID, Block.AWAY_UNTIL: "2027-01-04"}),
        hv.submit(add_offline, {Block.NAME: "Mother of Child A", Block.ROLE: "Parent"}),
    ]
    for reply in replies:
        answer = reply.json()
        assert reply.status == 200 and answer["response_action"] == "update", reply.body
        assert answer["view"]["callback_id"] == "notice"
        assert "council's own Slack workspace" in json.dumps(answer["view"]["blocks"])
    assert CHANGE_COUNCIL_ONLY.split(".")[0] in json.dumps(replies[0].json()["view"])

    # Nothing stored, nobody taken out of the channel, nothing said in it.
    assert _rows(engine) == before
    assert set(slack.channels[case.channel_id].members) == channel_members
    assert slack.calls_to("conversations.kick") == []
    assert slack.calls_to("chat.postMessage") == []
    assert app.executor.errors == []


def test_an_external_member_still_changes_their_own_details_and_the_council_still_changes_anyone(app, people, slack,
                                                                                                engine):
    case = new_case(people, slack)
    hv = invite_and_join(app, people, slack, case)
    me = member_by_email(engine)
    welcome, value = welcome_button(slack, case.channel_id, Action.HERE_MY_DETAILS)
    hv.click(Action.HERE_MY_DETAILS, value, channel=case.channel_id, message=welcome)
    reply = hv.submit(opened_view(slack, View.MEMBER_EDIT), {Block.AWAY_UNTIL: "2026-12-07"})
    assert reply.body == ""
    assert member_by_email(engine).away_until.isoformat() == "2026-12-07"

    # The council's social worker changes and then removes the external member, as before.
    people["sw"].command("members", channel=case.channel_id)
    listed = opened_view(slack, "members_list")
    people["sw"].click(Action.MEMBERS_EDIT, view=listed, selected=_menu_choice(case.case_id, me.id, "edit"))
    assert people["sw"].submit(opened_view(slack, View.MEMBER_EDIT), {Block.AGENCY: "NHS Trust A"}).body == ""
    people["sw"].click(Action.MEMBERS_EDIT, view=listed, selected=_menu_choice(case.case_id, me.id, "remove"))
    assert people["sw"].submit(opened_view(slack, View.MEMBER_REMOVE)).body == ""
    assert member_by_email(engine).status == MemberStatus.REMOVED
    assert HV_ID not in slack.channels[case.channel_id].members


# --- 2. invited people's email addresses are not shown -------------------------------------------------


def test_the_members_list_and_its_forms_do_not_show_an_invited_persons_email(app, people, slack, engine):
    case = new_case(people, slack)
    assert invite_by_email(people["sw"], slack, case).body == ""
    invited = member_by_email(engine)
    listed = open_members(people["sw"], slack, case.channel_id)
    text = json.dumps(listed["blocks"])
    assert "invited, not yet joined" in text and "Health visitor, NHS Trust A" in text
    assert HV_EMAIL not in text and "nhstrust.example" not in text
    people["sw"].click(Action.MEMBERS_EDIT, view=listed, selected=_menu_choice(case.case_id, invited.id, "edit"))
    people["sw"].click(Action.MEMBERS_EDIT, view=listed, selected=_menu_choice(case.case_id, invited.id, "remove"))
    for callback in (View.MEMBER_EDIT, View.MEMBER_REMOVE):
        shown = json.dumps(opened_view(slack, callback)["blocks"])
        assert "invited, not yet joined" in shown and "nhstrust.example" not in shown
    assert invited.email == HV_EMAIL  # kept on the record only


# --- 4. a Slack person is recorded under their own organisation ----------------------------------------


def _info_calls_for(slack, user_id: str) -> int:
    return len([c for c in slack.calls_to("users.info") if c.args.get("user") == user_id])


def _join(app, channel_id: str, user_id: str, team: str) -> None:
    send_event(app, {"type": "member_joined_channel", "user": user_id, "channel": channel_id,
                     "channel_type": "G", "team": COUNCIL, "user_team": team, "event_ts": "1700000009.000100"},
               team_id=COUNCIL)


def _open_add_form(people, slack, case) -> dict:
    """The lead social worker's Add someone form, opened from the members list."""
    people["sw"].command("members", channel=case.channel_id)
    listed = opened_view(slack, "members_list")
    people["sw"].click(Action.MEMBERS_ADD, {"c": case.case_id}, view=listed)
    return opened_view(slack, View.MEMBER_ADD)


def test_someone_picked_from_a_shared_channel_is_added_under_their_own_organisation(app, people, slack, engine):
    slack.add_user(SHARED_ID, team_id=TRUST, name="School Nurse B", visible=True)
    case = new_case(people, slack)
    form = _open_add_form(people, slack, case)
    slack.reset()
    reply = people["sw"].submit(form, {
        Block.USER: SHARED_ID, Block.ROLE: "School nurse", Block.AGENCY: "NHS Trust A"})
    assert reply.body == "", reply.body

    nurse = _member(engine, SHARED_ID)
    assert (nurse.slack_team_id, nurse.slack_user_id, nurse.status) == (TRUST, SHARED_ID, MemberStatus.ACTIVE)
    assert nurse.name == "School Nurse B"
    assert _info_calls_for(slack, SHARED_ID) == 1  # the one look-up gives both their name and their organisation
    assert SHARED_ID in slack.channels[case.channel_id].members
    assert len(posted(slack, case.channel_id, f"added <@{SHARED_ID}>")) == 1

    # Their joining the channel finds them in the core group: nobody is asked to remove them.
    _join(app, case.channel_id, SHARED_ID, TRUST)
    assert posted(slack, case.channel_id, "is not in the core group yet") == []
    assert posted(slack, case.channel_id, "from another organisation joined") == []

    # And they take part as themselves: the pinned buttons answer them.
    welcome, value = welcome_button(slack, case.channel_id, Action.HERE_MY_DETAILS)
    SlackUser(app, slack, SHARED_ID, TRUST).click(Action.HERE_MY_DETAILS, value, channel=case.channel_id,
                                                  message=welcome)
    assert opened_view(slack, View.MEMBER_EDIT)


def test_a_council_person_picked_is_still_added_under_the_council(app, people, slack, engine):
    case = new_case(people, slack)
    form = _open_add_form(people, slack, case)
    slack.reset()
    assert people["sw"].submit(form, {Block.USER: "U0GP", Block.ROLE: "GP"}).body == ""
    doctor = _member(engine, "U0GP")
    assert (doctor.slack_team_id, doctor.name) == (COUNCIL, "Doctor A")
    assert _info_calls_for(slack, "U0GP") == 1


def test_a_professional_from_a_shared_channel_in_a_new_case_is_recorded_under_their_organisation(app, people,
                                                                                               slack, engine):
    slack.add_user(SHARED_ID, team_id=TRUST, name="School Nurse B", visible=True)
    sw = people["sw"]
    sw.command("new")
    view = opened_view(slack, View.NEW_CASE)
    slack.reset()
    reply = sw.submit(view, {Block.REFERENCE: "CP-TEST-0001", Block.CHILDREN: "Child A (7)", Block.LEAD: "U0SW",
                             Block.PROFESSIONALS: ["U0HV", SHARED_ID]})
    assert reply.body == "", reply.body

    nurse, hv = _member(engine, SHARED_ID), _member(engine, "U0HV")
    assert (nurse.slack_team_id, nurse.name) == (TRUST, "School Nurse B")
    assert (hv.slack_team_id, hv.name) == (COUNCIL, "Health Visitor A")
    assert _info_calls_for(slack, SHARED_ID) == 1 and _info_calls_for(slack, "U0HV") == 1
    channel_id = slack.calls_to("conversations.create")[-1].response["channel"]["id"]
    assert SHARED_ID in slack.channels[channel_id].members

    # 5. The names and the organisation read from Slack are audited, with ids only.
    with Session(engine) as session:
        read = session.exec(select(AuditEvent).where(AuditEvent.action == "member.details_from_slack")).all()
    by_member = {e.record_id: json.loads(e.detail) for e in read}
    assert by_member[nurse.id] == {"changed": "name,team"}
    assert by_member[hv.id] == {"changed": "name"}
    assert all((e.actor_team_id, e.actor_user_id, e.case_id) == (COUNCIL, "U0SW", nurse.case_id) for e in read)
    assert not any("School Nurse" in (e.detail or "") or "Health Visitor" in (e.detail or "") for e in read)

    # Their joining the channel finds them in the core group.
    _join(app, channel_id, SHARED_ID, TRUST)
    assert posted(slack, channel_id, "is not in the core group yet") == []


# --- 6. Slack's refusals in plain words, never its codes -----------------------------------------------


def test_an_unexpected_refusal_to_add_someone_is_a_plain_sentence(app, people, slack, engine):
    case = new_case(people, slack)
    form = _open_add_form(people, slack, case)
    slack.fail_next("conversations.invite", error="some_new_slack_code", status=200)
    body = people["sw"].submit(form, {Block.USER: "U0GP", Block.ROLE: "GP"}).json()
    assert body["response_action"] == "errors"
    assert body["errors"][Block.USER] == ADD_FAILED and "some_new_slack_code" not in body["errors"][Block.USER]
    assert _member(engine, "U0GP").status == MemberStatus.REMOVED

    slack.fail_next("conversations.invite", error="missing_scope", status=200)
    body = people["sw"].submit(form, {Block.USER: "U0GP", Block.ROLE: "GP"}).json()
    assert "has not been given permission" in body["errors"][Block.USER]
    assert "missing_scope" not in json.dumps(body)


def test_a_new_case_channel_slack_will_not_create_is_a_plain_sentence(app, people, slack):
    slack.fail_next("conversations.create", error="some_new_slack_code", status=200)
    people["sw"].command("new")
    body = people["sw"].submit(opened_view(slack, View.NEW_CASE), {
        Block.REFERENCE: "CP-TEST-0005", Block.CHILDREN: "Child A (7)", Block.LEAD: "U0SW"}).json()
    assert body["response_action"] == "errors"
    assert body["errors"][Block.REFERENCE].startswith("Slack would not create the channel. Please try again")
    assert "some_new_slack_code" not in json.dumps(body)


def test_people_slack_will_not_add_to_a_new_case_are_named_with_a_plain_reason(app, people, slack, engine):
    slack.fail_next("conversations.invite", error="some_new_slack_code", status=200, times=2)
    case = new_case(people, slack, members=("hv", "teacher"))
    summary = ephemeral_texts(slack)[-1]
    assert "<@U0HV> (Slack would not add them to the channel)" in summary
    assert "some_new_slack_code" not in summary and "Slack said" not in summary
    assert _member(engine, "U0HV").status == MemberStatus.REMOVED
    assert people["teacher"].user_id in slack.channels[case.channel_id].members


def test_email_look_up_and_invitation_refusals_are_plain_sentences(app, people, slack):
    case = new_case(people, slack)
    slack.fail_next("users.lookupByEmail", error="some_new_slack_code", status=200)
    body = invite_by_email(people["sw"], slack, case).json()
    assert body["errors"][Block.EMAIL] == "Slack could not check this email address just now. Please try again."
    slack.fail_next("conversations.inviteShared", error="some_other_slack_code", status=200)
    body = invite_by_email(people["sw"], slack, case).json()
    assert body["errors"][Block.EMAIL].startswith("Slack would not send the invitation. Please try again")
    slack.fail_next("conversations.inviteShared", error="not_allowed_for_grid_workspace", status=200)
    body = invite_by_email(people["sw"], slack, case).json()
    assert body["errors"][Block.EMAIL] == ("Slack Connect is not turned on for this workspace. Ask your Slack"
                                           " administrator to turn it on, or to add them as a guest instead.")
    assert slack.calls_to("conversations.inviteShared")[-1].response.get("ok") is False


def test_when_slack_will_not_take_someone_out_the_reason_is_in_words(app, people, slack, engine):
    case = new_case(people, slack)
    invite_and_join(app, people, slack, case)
    member = member_by_email(engine)
    people["sw"].command("members", channel=case.channel_id)
    listed = opened_view(slack, "members_list")
    people["sw"].click(Action.MEMBERS_EDIT, view=listed, selected=_menu_choice(case.case_id, member.id, "remove"))
    slack.fail_next("conversations.kick", error="restricted_action", status=200)
    people["sw"].submit(opened_view(slack, View.MEMBER_REMOVE))
    note = ephemeral_texts(slack)[-1]
    assert "only lets administrators remove people from channels" in note and "restricted_action" not in note


def test_a_cancelled_invitation_accepted_and_not_taken_out_is_explained_in_words(app, people, slack, engine):
    case = new_case(people, slack)
    invite_by_email(people["sw"], slack, case)
    invite_id = slack.calls_to("conversations.inviteShared")[-1].response["invite_id"]
    member = member_by_email(engine)
    people["sw"].command("members", channel=case.channel_id)
    listed = opened_view(slack, "members_list")
    people["sw"].click(Action.MEMBERS_EDIT, view=listed, selected=_menu_choice(case.case_id, member.id, "remove"))
    assert people["sw"].submit(opened_view(slack, View.MEMBER_REMOVE)).body == ""
    slack.accept_shared_invite(invite_id, HV_ID)
    slack.fail_next("conversations.kick", error="some_new_slack_code", status=200)
    send_event(app, accepted_event(invite_id, case.channel_id), team_id=COUNCIL)
    told = posted(slack, case.channel_id, "did not let me take them out")
    assert len(told) == 1 and "(Slack did not say why)" in told[0]["text"]
    assert "some_new_slack_code" not in json.dumps(told)


# --- 5. a manager is recorded under their own organisation ---------------------------------------------


def _manager_of(engine, member_id: int) -> tuple[str | None, str | None]:
    with Session(engine) as session:
        member = session.get(Member, member_id)
        return member.manager_team_id, member.manager_user_id


def test_a_manager_picked_in_a_form_is_recorded_under_their_own_organisation(app, people, slack, engine):
    slack.add_user(SHARED_ID, team_id=TRUST, name="Nurse Manager B", visible=True)
    case = new_case(people, slack)
    hv = invite_and_join(app, people, slack, case)
    me, teacher = member_by_email(engine), _member(engine, "U0TEACH")
    manager_id = people["manager"].user_id

    def change(person, member_id: int, manager: str) -> None:
        person.command("members", channel=case.channel_id)
        person.click(Action.MEMBERS_EDIT, view=opened_view(slack, "members_list"),
                     selected=_menu_choice(case.case_id, member_id, "edit"))
        assert person.submit(opened_view(slack, View.MEMBER_EDIT), {Block.MANAGER: manager}).body == ""

    # The council's social worker picks, from the people the council can see, managers from either organisation:
    # the teacher's is someone from the trust, the health visitor's someone in the council.
    change(people["sw"], teacher.id, SHARED_ID)
    assert _manager_of(engine, teacher.id) == (TRUST, SHARED_ID)
    change(people["sw"], me.id, manager_id)
    assert _manager_of(engine, me.id) == (COUNCIL, manager_id)

    # The health visitor names their own manager, from their own organisation, whom Slack will not describe to
    # the council's app: they are taken to be in the health visitor's organisation, not the council's.
    welcome, value = welcome_button(slack, case.channel_id, Action.HERE_MY_DETAILS)
    hv.click(Action.HERE_MY_DETAILS, value, channel=case.channel_id, message=welcome)
    assert hv.submit(opened_view(slack, View.MEMBER_EDIT), {Block.MANAGER: "U0NHSMGR"}).body == ""
    assert _manager_of(engine, me.id) == (TRUST, "U0NHSMGR")

    # Adding someone with a manager from the trust records the manager's organisation too.
    form = _open_add_form(people, slack, case)
    assert people["sw"].submit(form, {Block.USER: "U0GP", Block.ROLE: "GP", Block.MANAGER: SHARED_ID}).body == ""
    assert _manager_of(engine, _member(engine, "U0GP").id) == (TRUST, SHARED_ID)


def test_a_forged_person_or_manager_in_the_add_form_is_answered_clearly_and_nothing_is_stored(app, people, slack,
                                                                                             engine):
    case = new_case(people, slack)
    form = _open_add_form(people, slack, case)
    before = _rows(engine)
    too_long = "U" + "0" * 40  # longer than any Slack id: PostgreSQL would refuse to store it
    reply = people["sw"].submit(form, {Block.USER: too_long, Block.ROLE: "GP"})
    assert reply.json() == {"response_action": "errors", "errors": {Block.USER: "Please choose someone."}}
    reply = people["sw"].submit(form, {Block.USER: "U0GP", Block.ROLE: "GP", Block.MANAGER: "<!channel>"})
    assert reply.body == ""  # Slack's picker sends ids only: anything else reads as no manager picked
    assert _manager_of(engine, _member(engine, "U0GP").id) == (None, None)
    assert len(_rows(engine)[0]) == len(before[0]) + 1
    assert app.executor.errors == []


def test_a_member_from_another_organisation_books_the_next_meeting_from_the_pinned_message(app, people, slack):
    """No meeting booked, and no slash commands across organisations: the pinned message's Book the next meeting
    opens the same schedule form as `/coregroup schedule`."""
    case = new_case(people, slack)
    hv = invite_and_join(app, people, slack, case)
    welcome, value = welcome_button(slack, case.channel_id, Action.MEETING_BOOK)
    hv.click(Action.MEETING_BOOK, value, channel=case.channel_id, message=welcome)
    assert opened_view(slack, View.SCHEDULE)["callback_id"] == View.SCHEDULE
