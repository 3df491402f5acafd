"""Members from other organisations: Slack Connect invitations by work email, guests, and everything an
external member does through buttons (no slash commands), end to end."""

from __future__ import annotations

import json
import logging

from sqlmodel import Session, select

from handlers.access import NOT_A_MEMBER
from handlers.ids import Action, Block, View
from handlers.people import member_label
from models.tables import AuditEvent, Member, MemberStatus, PlanItem
from tests.harness import SlackUser, send_event
from tests.helpers import ephemeral_texts, new_case, opened_view, posted
from tests.slack_standin import SlackStandIn

COUNCIL, TRUST = SlackStandIn.TEAM, SlackStandIn.OTHER_TEAM
HV_EMAIL = "health.visitor.b@nhstrust.example"
HV_ID = "U0NHSHV"


# --- steps --------------------------------------------------------------------------------------


def open_members(user, slack, channel_id):
    user.command("members", channel=channel_id)
    return opened_view(slack, "members_list")


def invite_by_email(user, slack, case, email=HV_EMAIL, role="Health visitor", agency="NHS Trust A"):
    members_view = open_members(user, slack, case.channel_id)
    value = next(e["value"] for b in members_view["blocks"] if b["type"] == "actions" for e in b["elements"]
                 if e["action_id"] == Action.MEMBERS_INVITE)
    user.click(Action.MEMBERS_INVITE, value, view=members_view)
    view = opened_view(slack, View.MEMBER_INVITE)
    return user.submit(view, {Block.EMAIL: email, Block.ROLE: role, Block.AGENCY: agency})


def member_by_email(engine, email=HV_EMAIL) -> Member:
    with Session(engine) as session:
        return session.exec(select(Member).where(Member.email == email)).one()


def accepted_event(invite_id, channel_id, user_id=HV_ID, *, approval_required=False) -> dict:
    """shared_channel_invite_accepted as Slack documents it."""
    return {
        "type": "shared_channel_invite_accepted", "approval_required": approval_required,
        "invite": {"id": invite_id, "date_created": 1626876000, "date_invalid": 1628085600,
                   "inviting_team": {"id": COUNCIL, "name": "Council"},
                   "inviting_user": {"id": "U0BOT", "team_id": COUNCIL, "name": "coregroup"},
                   "recipient_email": HV_EMAIL},
        "channel": {"id": channel_id, "is_private": True, "is_im": False, "name": "cg-cp-test-0001"},
        "teams_in_channel": [{"id": COUNCIL, "name": "Council"}, {"id": TRUST, "name": "NHS Trust"}],
        "accepting_user": {"id": user_id, "team_id": TRUST, "name": "hvb",
                           "profile": {"real_name": "Health Visitor B", "display_name": "HV B", "team": TRUST}},
        "event_ts": "1626876010.000100",
    }


def joined_event(channel_id, user_id=HV_ID, *, user_team: str | None = TRUST) -> dict:
    event = {"type": "member_joined_channel", "user": user_id, "channel": channel_id, "channel_type": "G",
             "team": COUNCIL, "event_ts": "1626876011.000200"}
    if user_team:
        event["user_team"] = user_team
    return event


def invite_and_join(app, people, slack, case) -> SlackUser:
    """The health visitor is invited by email, accepts, and joins: returns them as a Slack user."""
    reply = invite_by_email(people["sw"], slack, case)
    assert reply.body == "", reply.body
    invite_id = slack.calls_to("conversations.inviteShared")[-1].response["invite_id"]
    slack.accept_shared_invite(invite_id, HV_ID)
    send_event(app, accepted_event(invite_id, case.channel_id), team_id=COUNCIL)
    send_event(app, joined_event(case.channel_id), team_id=COUNCIL)
    return SlackUser(app, slack, HV_ID, TRUST)


def welcome_button(slack, channel_id, action_id) -> tuple[dict, str]:
    """The pinned welcome message and the value of one of its buttons."""
    welcome = next(m for m in slack.messages(channel_id) if m["ts"] in slack.channels[channel_id].pins)
    for block in welcome["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return welcome, element["value"]
    raise AssertionError(f"no {action_id} button on the pinned welcome")


# --- inviting by email and joining --------------------------------------------------------------


def test_invite_by_email_sends_a_limited_slack_connect_invite_and_records_them(app, people, slack, engine,
                                                                              caplog):
    caplog.set_level(logging.INFO)
    case = new_case(people, slack)
    reply = invite_by_email(people["sw"], slack, case)
    assert reply.status == 200 and reply.body == ""

    call = slack.calls_to("conversations.inviteShared")[-1]
    assert call.args["channel"] == case.channel_id
    assert call.args["emails"] == HV_EMAIL
    assert call.args["external_limited"] is True
    assert slack.invites[call.response["invite_id"]]["external_limited"] is True

    member = member_by_email(engine)
    assert member.status == MemberStatus.INVITED and member.invite_id == call.response["invite_id"]
    assert (member.role, member.agency) == ("Health visitor", "NHS Trust A")
    assert member.slack_user_id is None

    told = posted(slack, case.channel_id, "invited someone from another organisation")
    assert len(told) == 1 and HV_EMAIL not in json.dumps(told)
    with Session(engine) as session:
        trail = session.exec(select(AuditEvent).where(AuditEvent.action == "member.invited")).all()
    assert len(trail) == 1 and trail[0].record_id == member.id
    assert HV_EMAIL not in (trail[0].detail or "")
    assert HV_EMAIL not in caplog.text

    # The members list shows them as invited, not yet joined.
    members_view = open_members(people["sw"], slack, case.channel_id)
    assert "invited, not yet joined" in json.dumps(members_view["blocks"])


def test_accepting_links_the_member_to_their_team_and_user_and_tells_the_channel_once(app, people, slack, engine,
                                                                                   caplog):
    caplog.set_level(logging.INFO)
    case = new_case(people, slack)
    invite_by_email(people["sw"], slack, case)
    invite_id = slack.calls_to("conversations.inviteShared")[-1].response["invite_id"]
    slack.accept_shared_invite(invite_id, HV_ID)
    event = accepted_event(invite_id, case.channel_id)
    send_event(app, event, team_id=COUNCIL, event_id="EvACCEPT1")
    send_event(app, event, team_id=COUNCIL, event_id="EvACCEPT1", retry_num=1)  # Slack's retry
    send_event(app, joined_event(case.channel_id), team_id=COUNCIL)

    member = member_by_email(engine)
    assert member.status == MemberStatus.ACTIVE
    assert (member.slack_team_id, member.slack_user_id) == (TRUST, HV_ID)
    assert member.name == "Health Visitor B"
    assert len(posted(slack, case.channel_id, "joined the core group")) == 1
    assert posted(slack, case.channel_id, "is not in the core group") == []
    assert HV_EMAIL not in caplog.text


def test_the_join_event_alone_links_an_invited_member(app, people, slack, engine):
    case = new_case(people, slack)
    invite_by_email(people["sw"], slack, case)
    invite_id = slack.calls_to("conversations.inviteShared")[-1].response["invite_id"]
    slack.accept_shared_invite(invite_id, HV_ID)  # the accepted event is lost; only the join arrives
    send_event(app, joined_event(case.channel_id), team_id=COUNCIL)

    member = member_by_email(engine)
    assert member.status == MemberStatus.ACTIVE
    assert (member.slack_team_id, member.slack_user_id) == (TRUST, HV_ID)
    assert len(posted(slack, case.channel_id, "joined the core group")) == 1


def test_join_without_user_team_finds_their_organisation_from_their_profile(app, people, slack, engine):
    case = new_case(people, slack)
    invite_by_email(people["sw"], slack, case)
    invite_id = slack.calls_to("conversations.inviteShared")[-1].response["invite_id"]
    slack.accept_shared_invite(invite_id, HV_ID)
    send_event(app, joined_event(case.channel_id, user_team=None), team_id=COUNCIL)

    member = member_by_email(engine)
    assert (member.status, member.slack_team_id) == (MemberStatus.ACTIVE, TRUST)


def test_accepted_awaiting_approval_waits_then_joins_when_approved(app, people, slack, engine):
    case = new_case(people, slack)
    invite_by_email(people["sw"], slack, case)
    invite_id = slack.calls_to("conversations.inviteShared")[-1].response["invite_id"]
    send_event(app, accepted_event(invite_id, case.channel_id, approval_required=True), team_id=COUNCIL)

    assert member_by_email(engine).status == MemberStatus.INVITED
    assert len(posted(slack, case.channel_id, "must approve it")) == 1

    approved = {"type": "shared_channel_invite_approved", "invite": {"id": invite_id},
                "channel": {"id": case.channel_id, "is_private": True, "is_im": False, "name": "x"},
                "approving_team_id": COUNCIL, "teams_in_channel": [],
                "approving_user": {"id": people["manager"].user_id, "team_id": COUNCIL}, "event_ts": "1.2"}
    send_event(app, approved, team_id=COUNCIL)
    member = member_by_email(engine)
    assert member.status == MemberStatus.ACTIVE
    assert (member.slack_team_id, member.slack_user_id) == (TRUST, HV_ID)
    assert len(posted(slack, case.channel_id, "joined the core group")) == 1


def test_declined_invitation_marks_the_member_removed_and_tells_the_channel(app, people, slack, engine):
    case = new_case(people, slack)
    invite_by_email(people["sw"], slack, case)
    invite_id = slack.calls_to("conversations.inviteShared")[-1].response["invite_id"]
    declined = {"type": "shared_channel_invite_declined", "invite": {"id": invite_id, "recipient_email": HV_EMAIL},
                "channel": {"id": case.channel_id, "is_private": True, "is_im": False, "name": "x"},
                "declining_team_id": TRUST, "teams_in_channel": [],
                "declining_user": {"id": HV_ID, "team_id": TRUST, "profile": {"real_name": "Health Visitor B"}},
                "event_ts": "1.3"}
    send_event(app, declined, team_id=COUNCIL)
    send_event(app, declined, team_id=COUNCIL)  # a second delivery changes nothing

    assert member_by_email(engine).status == MemberStatus.REMOVED
    told = posted(slack, case.channel_id, "was declined")
    assert len(told) == 1 and "Health visitor, NHS Trust A" in told[0]["text"]


# --- checking what was typed, and Slack's refusals ---------------------------------------------


def test_a_bad_email_is_a_modal_error_and_nothing_is_sent(app, people, slack, engine):
    case = new_case(people, slack)
    reply = invite_by_email(people["sw"], slack, case, email="health visitor at the trust")
    body = reply.json()
    assert body["response_action"] == "errors"
    assert "does not look like an email address" in body["errors"][Block.EMAIL]
    assert slack.calls_to("users.lookupByEmail") == []
    assert slack.calls_to("conversations.inviteShared") == []
    with Session(engine) as session:
        assert session.exec(select(Member).where(Member.status == MemberStatus.INVITED)).all() == []


def test_slack_refusing_the_invitation_is_a_clear_modal_error(app, people, slack, engine):
    case = new_case(people, slack)
    slack.fail_next("conversations.inviteShared", error="not_paid", status=200)
    body = invite_by_email(people["sw"], slack, case).json()
    assert body["response_action"] == "errors"
    assert "paid Slack plan" in body["errors"][Block.EMAIL]
    with Session(engine) as session:
        assert session.exec(select(Member).where(Member.status == MemberStatus.INVITED)).all() == []


def test_the_same_email_cannot_be_invited_twice(app, people, slack):
    case = new_case(people, slack)
    invite_by_email(people["sw"], slack, case)
    body = invite_by_email(people["sw"], slack, case, email=HV_EMAIL.upper().replace("NHSTRUST", "nhstrust")).json()
    assert body["response_action"] == "errors" and "already invited" in body["errors"][Block.EMAIL]
    assert len(slack.calls_to("conversations.inviteShared")) == 1


# --- guests of the council's workspace ----------------------------------------------------------


def test_a_council_guest_found_by_email_is_added_to_the_channel_not_invited(app, people, slack, engine):
    slack.add_user("U0GUEST", name="Midwife A", email="midwife.a@council.example", is_restricted=True)
    case = new_case(people, slack)
    reply = invite_by_email(people["sw"], slack, case, email="Midwife.A@Council.Example", role="Midwife",
                            agency="Maternity team")
    assert reply.body == ""
    assert slack.calls_to("conversations.inviteShared") == []
    assert "U0GUEST" in slack.channels[case.channel_id].members
    with Session(engine) as session:
        guest = session.exec(select(Member).where(Member.slack_user_id == "U0GUEST")).one()
    assert (guest.status, guest.slack_team_id, guest.role) == (MemberStatus.ACTIVE, COUNCIL, "Midwife")
    assert len(posted(slack, case.channel_id, "added <@U0GUEST>")) == 1

    # The guest works like any member: the pinned buttons answer them.
    welcome, value = welcome_button(slack, case.channel_id, Action.HERE_MEMBERS)
    SlackUser(app, slack, "U0GUEST", COUNCIL).click(Action.HERE_MEMBERS, value, channel=case.channel_id,
                                                    message=welcome)
    assert opened_view(slack, "members_list")


def test_a_single_channel_guest_slack_refuses_gets_a_clear_error(app, people, slack, engine):
    slack.add_user("U0SCG", name="Nurse A", email="nurse.a@council.example", is_restricted=True,
                   is_ultra_restricted=True)
    case = new_case(people, slack)
    slack.fail_next("conversations.invite", error="ura_max_channels", status=200)
    body = invite_by_email(people["sw"], slack, case, email="nurse.a@council.example", role="School nurse").json()
    assert body["response_action"] == "errors"
    assert "single-channel guest is already in another channel" in body["errors"][Block.EMAIL]
    with Session(engine) as session:
        nurse = session.exec(select(Member).where(Member.slack_user_id == "U0SCG")).one()
    assert nurse.status == MemberStatus.REMOVED


def test_new_case_with_work_emails_adds_the_workspace_person_and_invites_the_other(app, people, slack, engine):
    sw = people["sw"]
    sw.command("new")
    view = opened_view(slack, View.NEW_CASE)
    reply = sw.submit(view, {Block.REFERENCE: "CP-TEST-0009", Block.CHILDREN: "Child A (7)", Block.LEAD: sw.user_id,
                             Block.EMAILS: f"gp@council.example\n{HV_EMAIL}\n"})
    assert reply.body == "", reply.body
    channel_id = slack.calls_to("conversations.create")[-1].response["channel"]["id"]
    assert people["gp"].user_id in slack.channels[channel_id].members
    invite = slack.calls_to("conversations.inviteShared")[-1]
    assert invite.args["emails"] == HV_EMAIL and invite.args["external_limited"] is True
    assert member_by_email(engine).status == MemberStatus.INVITED
    summary = ephemeral_texts(slack)[-1]
    assert "added 1 person found in this workspace" in summary and "invitation to 1 person" in summary


def test_new_case_with_a_bad_work_email_keeps_the_form(app, people, slack):
    sw = people["sw"]
    sw.command("new")
    view = opened_view(slack, View.NEW_CASE)
    body = sw.submit(view, {Block.REFERENCE: "CP-TEST-0010", Block.CHILDREN: "Child A (7)", Block.LEAD: sw.user_id,
                            Block.EMAILS: "health visitor"}).json()
    assert body["response_action"] == "errors" and Block.EMAILS in body["errors"]
    assert slack.calls_to("conversations.create") == []


def test_new_case_names_the_single_channel_guest_slack_would_not_add(app, people, slack, engine):
    slack.fail_next("conversations.invite", error="ura_max_channels", status=200, times=2)
    case = new_case(people, slack, members=("hv", "teacher"))
    channel = slack.channels[case.channel_id]
    assert people["teacher"].user_id in channel.members and people["hv"].user_id not in channel.members
    summary = ephemeral_texts(slack)[-1]
    assert "<@U0HV>" in summary and "single-channel guest" in summary
    with Session(engine) as session:
        hv = session.exec(select(Member).where(Member.slack_user_id == "U0HV")).one()
    assert hv.status == MemberStatus.REMOVED


# --- an external member takes part through buttons ----------------------------------------------


def test_external_member_uses_the_pinned_buttons_with_team_and_user_checks(app, people, slack, engine):
    case = new_case(people, slack)
    hv = invite_and_join(app, people, slack, case)

    welcome, value = welcome_button(slack, case.channel_id, Action.HERE_MEMBERS)
    hv.click(Action.HERE_MEMBERS, value, channel=case.channel_id, message=welcome)
    members_view = opened_view(slack, "members_list")
    assert f"<@{HV_ID}>" in json.dumps(members_view["blocks"])

    welcome, value = welcome_button(slack, case.channel_id, Action.HERE_PLAN)
    hv.click(Action.HERE_PLAN, value, channel=case.channel_id, message=welcome)
    plan_view = opened_view(slack, View.PLAN_EDIT)
    reply = hv.submit(plan_view, {Block.GOAL: "Child A is seen by the health visitor every two weeks."})
    assert reply.body == ""
    with Session(engine) as session:
        assert [i.text for i in session.exec(select(PlanItem))] == [
            "Child A is seen by the health visitor every two weeks."]
        edit = session.exec(select(AuditEvent).where(AuditEvent.record_type == "plan_item")).first()
    assert (edit.actor_team_id, edit.actor_user_id) == (TRUST, HV_ID)

    welcome, value = welcome_button(slack, case.channel_id, Action.HERE_MY_DETAILS)
    hv.click(Action.HERE_MY_DETAILS, value, channel=case.channel_id, message=welcome)
    details = opened_view(slack, View.MEMBER_EDIT)
    assert hv.submit(details, {Block.AGENCY: "NHS Trust A, health visiting team"}).body == ""
    assert member_by_email(engine).agency == "NHS Trust A, health visiting team"


def test_people_from_the_other_organisation_who_are_not_members_are_refused(app, people, slack):
    case = new_case(people, slack)
    invite_and_join(app, people, slack, case)
    welcome, value = welcome_button(slack, case.channel_id, Action.HERE_MEMBERS)
    slack.reset()
    # A colleague of the health visitor, and someone whose user id matches a council member's.
    for stranger in (SlackUser(app, slack, "U0NHSOTHER", TRUST), SlackUser(app, slack, people["hv"].user_id, TRUST)):
        stranger.click(Action.HERE_MEMBERS, value, channel=case.channel_id, message=welcome)
        stranger.click(Action.HERE_PLAN, value, channel=case.channel_id, message=welcome)
    assert slack.calls_to("views.open") == []
    refusals = ephemeral_texts(slack)
    assert len(refusals) == 4 and all(NOT_A_MEMBER[:40] in text for text in refusals)


def test_an_external_member_cannot_bring_others_in(app, people, slack):
    case = new_case(people, slack)
    hv = invite_and_join(app, people, slack, case)
    welcome, value = welcome_button(slack, case.channel_id, Action.HERE_MEMBERS)
    hv.click(Action.HERE_MEMBERS, value, channel=case.channel_id, message=welcome)
    members_view = opened_view(slack, "members_list")
    assert "Invite by work email" not in json.dumps(members_view["blocks"])
    slack.reset()
    # Even with a button from somewhere else, nobody is added or invited.
    hv.click(Action.MEMBERS_INVITE, {"c": case.case_id}, view=members_view)
    hv.click(Action.MEMBERS_ADD, {"c": case.case_id}, view=members_view)
    shown = [c.response["view"] for c in slack.calls_to("views.push")]
    assert [v["callback_id"] for v in shown] == ["notice", "notice"]
    assert all("council's own Slack workspace" in json.dumps(v["blocks"]) for v in shown)
    assert slack.calls_to("conversations.inviteShared") == []


def test_profile_look_ups_that_fail_fall_back_to_the_recorded_name_and_role(app, people, slack, engine):
    from slack_sdk import WebClient

    slack.add_user("U0HIDDEN", team_id=TRUST, name="Someone Hidden")  # not visible to users.info
    client = WebClient(token=SlackStandIn.BOT_TOKEN, base_url=slack.url)
    member = Member(case_id=1, name="Health Visitor C", role="Health visitor", slack_team_id=TRUST,
                    slack_user_id="U0HIDDEN")
    assert member_label(client, member) == "Health Visitor C (Health visitor)"
    council = Member(case_id=1, name="U0TEACH", role="Teacher", slack_team_id=COUNCIL, slack_user_id="U0TEACH")
    assert member_label(client, council) == "Teacher A (Teacher)"


# --- removing and cancelling --------------------------------------------------------------------


def remove_via_members_list(user, slack, case, member_id):
    members_view = open_members(user, slack, case.channel_id)
    user.click(Action.MEMBERS_EDIT, view=members_view,
               selected=json.dumps({"c": case.case_id, "m": member_id, "o": "remove"}, separators=(",", ":")))
    return user.submit(opened_view(slack, View.MEMBER_REMOVE))


def test_removing_an_external_member_takes_them_out_of_the_channel(app, people, slack, engine):
    case = new_case(people, slack)
    invite_and_join(app, people, slack, case)
    member = member_by_email(engine)
    assert remove_via_members_list(people["sw"], slack, case, member.id).body == ""

    kicks = slack.calls_to("conversations.kick")
    assert [c.args["user"] for c in kicks] == [HV_ID]
    assert HV_ID not in slack.channels[case.channel_id].members
    assert member_by_email(engine).status == MemberStatus.REMOVED
    assert len(posted(slack, case.channel_id, "removed Health Visitor B (Health visitor)")) == 1


def test_when_slack_will_not_remove_an_external_member_the_remover_is_told_what_to_do(app, people, slack, engine):
    case = new_case(people, slack)
    invite_and_join(app, people, slack, case)
    member = member_by_email(engine)
    slack.fail_next("conversations.kick", error="not_supported", status=200)
    remove_via_members_list(people["sw"], slack, case, member.id)
    assert member_by_email(engine).status == MemberStatus.REMOVED
    note = ephemeral_texts(slack)[-1]
    assert "Remove from channel" in note and "External people" in note


def test_cancelling_an_invitation_marks_them_removed_and_a_late_acceptance_is_undone(app, people, slack, engine):
    case = new_case(people, slack)
    invite_by_email(people["sw"], slack, case)
    invite_id = slack.calls_to("conversations.inviteShared")[-1].response["invite_id"]
    member = member_by_email(engine)
    members_view = open_members(people["sw"], slack, case.channel_id)
    assert "Cancel the invitation" in json.dumps(members_view["blocks"])

    assert remove_via_members_list(people["sw"], slack, case, member.id).body == ""
    assert member_by_email(engine).status == MemberStatus.REMOVED
    assert len(posted(slack, case.channel_id, "cancelled the invitation")) == 1
    assert "14 days" in ephemeral_texts(slack)[-1]
    with Session(engine) as session:
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "member.invite_cancelled")).one()

    # They accept the old email anyway: they are taken out again and the group is told.
    slack.accept_shared_invite(invite_id, HV_ID)
    send_event(app, accepted_event(invite_id, case.channel_id), team_id=COUNCIL)
    assert HV_ID not in slack.channels[case.channel_id].members
    assert len(posted(slack, case.channel_id, "had cancelled, so I took them out")) == 1
    assert member_by_email(engine).status == MemberStatus.REMOVED


def test_every_what_can_i_do_here_button_answers_an_external_member_and_refuses_a_stranger(app, people, slack):
    case = new_case(people, slack)
    hv = invite_and_join(app, people, slack, case)
    welcome = next(m for m in slack.messages(case.channel_id) if m["ts"] in slack.channels[case.channel_id].pins)
    buttons = [e for b in welcome["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert {b["action_id"] for b in buttons} >= {Action.HERE_UPDATE, Action.HERE_ACTIONS, Action.HERE_MY_DETAILS,
                                                 Action.HERE_PLAN, Action.HERE_MEMBERS}
    stranger = SlackUser(app, slack, "U0NHSOTHER", TRUST)
    for button in buttons:
        slack.reset()
        reply = hv.click(button["action_id"], button["value"], channel=case.channel_id, message=welcome)
        assert reply.status == 200, f"{button['action_id']} has no handler"
        answered = slack.calls_to("views.open") + slack.calls_to("response_url") + slack.calls_to(
            "chat.postEphemeral")
        assert answered, f"{button['action_id']} did nothing for the external member"
        assert not any(NOT_A_MEMBER[:40] in text for text in ephemeral_texts(slack)), button["action_id"]
        slack.reset()
        stranger.click(button["action_id"], button["value"], channel=case.channel_id, message=welcome)
        assert slack.calls_to("views.open") == [], button["action_id"]
        assert any(NOT_A_MEMBER[:40] in text for text in ephemeral_texts(slack)), button["action_id"]


# --- the external member's meeting work, through buttons only (engineers A and B's flows) --------


def test_external_member_sends_apologies_and_an_update_from_the_meeting_post(app, people, slack, engine):
    from datetime import UTC, datetime

    import time_machine

    from models.tables import Update
    from tests.helpers import schedule_meeting
    from tests.meeting_factories import button

    with time_machine.travel(datetime(2026, 11, 23, 9, 0, tzinfo=UTC), tick=True):
        case = new_case(people, slack)
        hv = invite_and_join(app, people, slack, case)
        meeting = schedule_meeting(people, slack, case)
        post = next(m for m in slack.messages(case.channel_id) if m["ts"] == meeting.message_ts)
        value, post = button(post, Action.SEND_APOLOGIES)
        hv.click(Action.SEND_APOLOGIES, value, channel=case.channel_id, message=post)
        view = opened_view(slack, View.UPDATE)
        attending = next(b for b in view["blocks"] if b.get("block_id") == Block.UPDATE_ATTENDING)
        assert attending["element"]["initial_option"]["value"] == "apologies"
        reply = hv.submit(view, {Block.UPDATE_CHILD_VIEWS: "Child A said she likes her new nursery.",
                                 Block.UPDATE_WORKING_WELL: "Mother has kept every appointment since the conference."})
        assert reply.status == 200 and reply.body == "", reply.body

    with Session(engine) as session:
        update = session.exec(select(Update)).one()
        member = session.get(Member, update.member_id)
    assert (member.slack_team_id, member.slack_user_id) == (TRUST, HV_ID)
    assert update.attending is False and "new nursery" in update.child_views
    assert posted(slack, case.channel_id, "kept every appointment")


def test_external_member_gives_a_score_from_the_scaling_question(app, people, slack, engine):
    from models.tables import Score
    from tests.meeting_factories import button, insert_meeting

    case = new_case(people, slack)
    hv = invite_and_join(app, people, slack, case)
    insert_meeting(engine, case.case_id, chair_user=people["sw"].user_id)
    people["sw"].command("scale", channel=case.channel_id)
    people["sw"].submit(opened_view(slack, View.SCALE_ASK), {
        Block.SCALE_QUESTION: "How safe is Child A at home?", Block.SCALE_ZERO: "Child A is not safe at home",
        Block.SCALE_TEN: "Everyone is confident Child A is safe at home"})
    question = [m for m in posted(slack, case.channel_id, "Give my score")][-1]
    value, question = button(question, Action.GIVE_SCORE)
    hv.click(Action.GIVE_SCORE, value, channel=case.channel_id, message=question)
    reply = hv.submit(opened_view(slack, View.SCALE_SCORE), {
        Block.SCORE: "4", Block.SCORE_REASON: "Two home visits missed this month",
        Block.SCORE_UP: "Every visit kept for six weeks"})
    assert reply.status == 200 and reply.body == "", reply.body
    with Session(engine) as session:
        score = session.exec(select(Score)).one()
        member = session.get(Member, score.member_id)
    assert score.score == 4 and (member.slack_team_id, member.slack_user_id) == (TRUST, HV_ID)

    # Someone else from the trust cannot score in their place.
    slack.reset()
    SlackUser(app, slack, "U0NHSOTHER", TRUST).click(Action.GIVE_SCORE, value, channel=case.channel_id,
                                                     message=question)
    assert slack.calls_to("views.open") == []
    assert any(NOT_A_MEMBER[:40] in text for text in ephemeral_texts(slack))


# --- reaching an external member: a nudge by direct message, or in the case channel's thread -------


def _overdue_action_for(app, case, engine) -> tuple[Member, int]:
    """An overdue action owned by the external health visitor (made through the actions feature)."""
    from datetime import timedelta

    from models import actions
    from models.audit import Actor

    with Session(engine, expire_on_commit=False) as session:
        owner = session.exec(select(Member).where(Member.slack_user_id == HV_ID)).one()
        action = actions.create(session, case_id=case.case_id, what="Arrange a home visit with Child A",
                                owner_member_id=owner.id, due_date=app.deps.today() - timedelta(days=3),
                                measure="Child A seen at home", safety_goal_id=None, meeting_id=None,
                                actor=Actor(COUNCIL, "U0SW"), member_id=None, now=app.deps.now())
        session.commit()
        return owner, action.id


def _nudge(app, case, owner, action_id, key) -> str:
    """Send the overdue nudge through engineer D's delivery, with engineer B's action buttons."""
    from handlers.blocks import actions as action_blocks
    from handlers.blocks import kit
    from handlers.delivery import deliver
    from models import cases
    from models.tables import Action as ActionRow

    with Session(app.engine, expire_on_commit=False) as session:
        action, the_case = session.get(ActionRow, action_id), cases.get_case(session, case.case_id)
        line = action_blocks.action_line(action, owner, app.deps.today())
    blocks = [kit.section("This action is overdue:"), kit.section(line),
              action_blocks.action_buttons(case.case_id, action_id)]
    return deliver(app.deps, app.app.client, member=owner, text="An action of yours is overdue", blocks=blocks,
                   case=the_case, key=key)


def _click_done(hv, message, channel, action_id):
    from tests.meeting_factories import button

    value, message = button(message, Action.ACTION_DONE)
    assert json.loads(value)["a"] == action_id
    return hv.click(Action.ACTION_DONE, value, channel=channel, message=message)


def test_external_member_is_nudged_by_direct_message_and_marks_the_action_done(app, people, slack, engine):
    from models.tables import Action as ActionRow
    from models.tables import ActionStatus

    case = new_case(people, slack)
    hv = invite_and_join(app, people, slack, case)
    owner, action_id = _overdue_action_for(app, case, engine)
    assert _nudge(app, case, owner, action_id, key=f"test:overdue:{action_id}:1") == "dm"
    dm = [m for m in slack.messages(HV_ID) if "Arrange a home visit" in json.dumps(m.get("blocks"))]
    assert len(dm) == 1
    assert _click_done(hv, dm[0], slack.calls_to("conversations.open")[-1].response["channel"]["id"],
                       action_id).status == 200
    with Session(engine) as session:
        assert session.get(ActionRow, action_id).status == ActionStatus.DONE


def test_when_the_direct_message_is_refused_the_nudge_goes_to_their_thread_in_the_case_channel(app, people, slack,
                                                                                             engine):
    from models.tables import Action as ActionRow
    from models.tables import ActionStatus

    case = new_case(people, slack)
    hv = invite_and_join(app, people, slack, case)
    owner, action_id = _overdue_action_for(app, case, engine)
    slack.refuse_dm(TRUST, HV_ID)  # the trust's Slack does not let other organisations' apps message its staff
    assert _nudge(app, case, owner, action_id, key=f"test:overdue:{action_id}:1") == "thread"

    in_channel = [m for m in slack.messages(case.channel_id) if "Arrange a home visit" in json.dumps(m.get("blocks"))]
    assert len(in_channel) == 1 and in_channel[0].get("thread_ts")  # a thread reply, not a channel post
    assert f"<@{HV_ID}>" in in_channel[0]["text"]
    assert slack.messages(HV_ID) == []
    assert _click_done(hv, in_channel[0], case.channel_id, action_id).status == 200
    with Session(engine) as session:
        assert session.get(ActionRow, action_id).status == ActionStatus.DONE
