"""Simultaneous requests make a one-way change once: one change, one post, one audit row.

SQLite takes its write lock at BEGIN, which hides a read-then-write race; PostgreSQL (read committed) does
not, so these run on both (`COREGROUP_TEST_DATABASE=postgresql`). Each test fires N signed requests through
the real app at the same moment (threads released together by a barrier) and then counts what happened.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import time_machine
from sqlmodel import Session, func, select

from handlers.ids import Action, Block, View
from models.tables import AuditEvent, Meeting, MeetingChange, MeetingStatus, Member, MemberStatus, ScalingRound
from tests.harness import Response, SlackUser
from tests.helpers import new_case, opened_view, posted, schedule_meeting
from tests.meeting_factories import button, insert_meeting

TIMES = 6


def together(sends: list[Callable[[], Response]], app) -> list[Response]:
    """Send every request at the same moment (each on its own thread), then wait until the app is idle."""
    barrier = threading.Barrier(len(sends))
    replies: list[Response | None] = [None] * len(sends)
    failures: list[BaseException] = []

    def run(index: int, send: Callable[[], Response]) -> None:
        try:
            barrier.wait(timeout=30)
            replies[index] = send()
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=run, args=(i, send)) for i, send in enumerate(sends)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    app.wait_idle(60)
    assert failures == []
    assert app.executor.errors == []
    return [r for r in replies if r is not None]


def audit_count(app, action: str) -> int:
    with Session(app.engine) as session:
        return session.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)).one()


def test_the_start_form_sent_by_two_people_at_once_starts_the_meeting_once(people, slack, app):
    case = new_case(people, slack, members=("hv", "teacher", "gp"))
    meeting = schedule_meeting(people, slack, case, date="2026-11-30", chair="hv")
    views = []
    for who in ("hv", "sw"):  # the chair, and the lead social worker who may stand in
        people[who].command("start", channel=case.channel_id)
        views.append((who, opened_view(slack, View.START)))
    with Session(app.engine) as session:
        everyone = {f"{Block.START_ATTENDANCE}_{m.id}": "present"
                    for m in session.exec(select(Member).where(Member.case_id == case.case_id))}
    # Each person's form is its own view (Slack gives every opened form its own id).
    sends = [lambda who=who, view=view, n=n: people[who].submit(dict(view, id=f"VSTART{n}"), everyone, wait=False)
             for n, (who, view) in enumerate(views * (TIMES // 2))]

    with time_machine.travel("2026-11-30 10:00:00+00:00", tick=True):
        replies = together(sends, app)

    assert [r.status for r in replies] == [200] * TIMES
    started_answers = [r for r in replies if r.body == ""]
    refused = [r for r in replies if r.body and "already started" in json.dumps(r.json())]
    assert len(started_answers) == 1 and len(refused) == TIMES - 1
    assert len(posted(slack, case.channel_id, "Core group meeting 1 has started")) == 1
    assert audit_count(app, "meeting.started") == 1
    with Session(app.engine) as session:
        assert session.get(Meeting, meeting.id).status == MeetingStatus.IN_PROGRESS


def _score(people, slack, case, who: str, message: dict) -> None:
    value, message = button(message, Action.GIVE_SCORE)
    people[who].click(Action.GIVE_SCORE, value, channel=case.channel_id, message=message)
    view = opened_view(slack, View.SCALE_SCORE)
    reply = people[who].submit(view, {Block.SCORE: "5", Block.SCORE_REASON: f"{who}: " + "reason " * 140,
                                      Block.SCORE_UP: "what would help " * 60})
    assert reply.status == 200 and reply.body == "", reply.body


def test_show_the_scores_clicked_many_times_at_once_reveals_once_with_one_set_of_posts(people, slack, app):
    scorers = ("hv", "teacher", "gp", "police")
    case = new_case(people, slack, members=scorers)
    insert_meeting(app.engine, case.case_id, chair_user=people["hv"].user_id)
    people["hv"].command("scale", channel=case.channel_id)
    people["hv"].submit(opened_view(slack, View.SCALE_ASK), {
        Block.SCALE_QUESTION: "How safe is Child A at home?", Block.SCALE_ZERO: "Not safe at home",
        Block.SCALE_TEN: "Everyone is confident Child A is safe at home"})
    question = posted(slack, case.channel_id, "Give my score")[-1]
    for who in (*scorers, "sw"):
        current = next(m for m in slack.messages(case.channel_id) if m["ts"] == question["ts"])
        _score(people, slack, case, who, current)
    current = next(m for m in slack.messages(case.channel_id) if m["ts"] == question["ts"])
    value, message = button(current, Action.REVEAL)
    # The chair and the lead social worker both press it, several times, at the same moment.
    clickers: list[SlackUser] = [people["hv"], people["sw"]] * TIMES
    sends = [lambda user=user: user.click(Action.REVEAL, value, channel=case.channel_id, message=message, wait=False)
             for user in clickers]

    replies = together(sends, app)

    assert [r.status for r in replies] == [200] * len(clickers)
    more = [m for m in slack.messages(case.channel_id)
            if m.get("thread_ts") == question["ts"] and m["ts"] != question["ts"]]
    assert len(more) >= 1  # five long reasons do not fit in one message: the rest went in the thread...
    texts = [json.dumps(m.get("blocks")) for m in more]
    assert len(texts) == len(set(texts))  # ...once
    assert audit_count(app, "scaling.revealed") == 1
    with Session(app.engine) as session:
        assert session.exec(select(ScalingRound)).one().revealed_at is not None


def test_a_meeting_cancelled_by_several_people_at_once_is_cancelled_once(people, slack, app):
    case = new_case(people, slack, members=("hv",))
    meeting = schedule_meeting(people, slack, case, date="2026-11-30", chair="hv")
    views = []
    for _ in range(TIMES):
        people["sw"].click(Action.MEETING_CANCEL, {"c": case.case_id, "m": meeting.id}, channel=case.channel_id)
        views.append(opened_view(slack, View.MEETING_CANCEL))
    sends = [lambda view=view, n=n: people["sw"].submit(dict(view, id=f"VCANCEL{n}"), {
        Block.REASON: "The family asked to meet another week."}, wait=False) for n, view in enumerate(views)]

    together(sends, app)

    assert audit_count(app, "meeting.cancelled") == 1
    with Session(app.engine) as session:
        assert session.get(Meeting, meeting.id).status == MeetingStatus.CANCELLED
        changes = session.exec(select(MeetingChange).where(MeetingChange.meeting_id == meeting.id)).all()
        assert [c.kind for c in changes] == ["cancelled"]


def test_someone_removed_by_several_people_at_once_is_removed_once(people, slack, app):
    case = new_case(people, slack, members=("hv", "teacher"))
    with Session(app.engine) as session:
        teacher = session.exec(select(Member).where(Member.slack_user_id == people["teacher"].user_id)).one()
    people["sw"].command("members", channel=case.channel_id)
    listed = opened_view(slack, "members_list")
    views = []
    for _ in range(TIMES):
        people["sw"].click(Action.MEMBERS_EDIT, view=listed,
                           selected=json.dumps({"c": case.case_id, "m": teacher.id, "o": "remove"}))
        views.append(opened_view(slack, View.MEMBER_REMOVE))
    sends = [lambda view=view, n=n: people["sw"].submit(dict(view, id=f"VREMOVE{n}"), wait=False)
             for n, view in enumerate(views)]

    together(sends, app)

    assert audit_count(app, "member.removed") == 1
    assert len(posted(slack, case.channel_id, "from the core group")) == 1
    with Session(app.engine) as session:
        assert session.get(Member, teacher.id).status == MemberStatus.REMOVED


def test_new_dates_sent_from_several_forms_at_once_are_each_whole_and_carry_the_action_forward_once(
        people, slack, app):
    """A new date is not one-way (it can be changed again), but each change is made on what its form was
    checked against: one that finds the date changed under it a moment ago is refused, not half-applied."""
    from datetime import UTC, date, datetime, timedelta

    from models import actions
    from models.audit import Actor
    from models.tables import Action as ActionRow

    case = new_case(people, slack, members=("hv",))
    with Session(app.engine) as session:
        hv = session.exec(select(Member).where(Member.slack_user_id == people["hv"].user_id)).one().id
    with Session(app.engine, expire_on_commit=False) as session:
        action = actions.create(session, case_id=case.case_id, what="Visit at home", owner_member_id=hv,
                                due_date=date(2026, 11, 20), measure="Seen", safety_goal_id=None, meeting_id=None,
                                actor=Actor.app(), member_id=None, now=datetime.now(UTC))
        session.commit()
    views = []
    for _ in range(TIMES):
        people["hv"].click(Action.ACTION_NEW_DATE, {"c": case.case_id, "a": action.id}, channel=case.channel_id)
        views.append(opened_view(slack, View.ACTION_NEW_DATE))
    new_due = date(2026, 11, 23) + timedelta(days=10)
    sends = [lambda view=view, n=n: people["hv"].submit(dict(view, id=f"VNEWDATE{n}"), {
        Block.DATE: (new_due + timedelta(days=n)).isoformat(), Block.REASON: "The clinic was closed."}, wait=False)
        for n, view in enumerate(views)]
    # And someone marks it done at the same moment: no new date lands on an action already done.
    sends.insert(TIMES // 2, lambda: people["hv"].click(Action.ACTION_DONE, {"c": case.case_id, "a": action.id},
                                                        channel=case.channel_id, wait=False))

    replies = together(sends, app)
    replies.pop(TIMES // 2)  # the click's; the rest are the forms' answers

    saved = [r for r in replies if r.body == ""]
    assert all(any(why in json.dumps(r.json()) for why in ("a moment ago", "already marked as done"))
               for r in replies if r.body)
    assert audit_count(app, "action.due_changed") == len(saved)
    assert len(posted(slack, case.channel_id, "The clinic was closed.")) == len(saved)
    with Session(app.engine) as session:
        # Overdue once, so carried forward once, however many new dates were saved (none, if Done came first).
        assert session.get(ActionRow, action.id).carried_forward == (1 if saved else 0)
        trail = session.exec(select(AuditEvent.action).where(AuditEvent.action.in_(
            ["action.due_changed", "action.done"])).order_by(AuditEvent.id)).all()
    assert trail[-1] == "action.done" and trail.count("action.done") == 1


def test_the_same_person_added_by_two_people_at_once_is_added_once(people, slack, app):
    case = new_case(people, slack, members=("hv",))
    forms = []
    for who in ("sw", "sw", "sw", "sw"):
        people[who].command("members", channel=case.channel_id)
        listed = opened_view(slack, "members_list")
        people[who].click(Action.MEMBERS_ADD, {"c": case.case_id}, view=listed)
        forms.append(opened_view(slack, View.MEMBER_ADD))
    sends = [lambda view=view, n=n: people["sw"].submit(dict(view, id=f"VADD{n}"), {
        Block.USER: people["gp"].user_id, Block.ROLE: "GP", Block.AGENCY: "Hill Surgery"}, wait=False)
        for n, view in enumerate(forms)]

    replies = together(sends, app)

    assert len([r for r in replies if r.body == ""]) == 1
    assert all("already in the core group" in json.dumps(r.json()) for r in replies if r.body)
    assert len(posted(slack, case.channel_id, "to the core group")) == 1
    with Session(app.engine) as session:
        assert len(session.exec(select(Member).where(Member.slack_user_id == people["gp"].user_id)).all()) == 1


def test_an_invitation_accepted_several_times_at_once_is_noted_once_with_one_note(people, slack, app):
    """Slack may deliver one acceptance more than once (each with its own event id), and an administrator must
    still approve it: who accepted is noted once and the channel told once."""
    from tests.harness import send_event
    from tests.test_multi_agency import HV_ID, accepted_event, invite_by_email, member_by_email

    case = new_case(people, slack)
    invite_by_email(people["sw"], slack, case)
    invite_id = slack.calls_to("conversations.inviteShared")[-1].response["invite_id"]
    event = accepted_event(invite_id, case.channel_id, approval_required=True)
    sends = [lambda n=n: send_event(app, event, team_id=slack.TEAM, event_id=f"Ev0ACCEPT{n}", wait=False)
             for n in range(TIMES)]

    replies = together(sends, app)

    assert [r.status for r in replies] == [200] * TIMES
    assert audit_count(app, "member.invite_accepted") == 1
    assert len(posted(slack, case.channel_id, "must approve it")) == 1
    member = member_by_email(app.engine)
    assert (member.slack_user_id, member.status) == (HV_ID, MemberStatus.INVITED)


def _edit_forms(people, slack, case, member_id: int, count: int) -> list[dict]:
    people["sw"].command("members", channel=case.channel_id)
    listed = opened_view(slack, "members_list")
    views = []
    for _ in range(count):
        people["sw"].click(Action.MEMBERS_EDIT, view=listed,
                           selected=json.dumps({"c": case.case_id, "m": member_id, "o": "edit"}))
        views.append(opened_view(slack, View.MEMBER_EDIT))
    return views


def test_the_same_change_of_details_sent_from_several_forms_at_once_is_made_once(people, slack, app):
    case = new_case(people, slack, members=("hv", "teacher"))
    with Session(app.engine) as session:
        teacher = session.exec(select(Member).where(Member.slack_user_id == people["teacher"].user_id)).one()
    views = _edit_forms(people, slack, case, teacher.id, TIMES)
    sends = [lambda view=view, n=n: people["sw"].submit(dict(view, id=f"VEDIT{n}"), {
        Block.ROLE: "Designated safeguarding lead", Block.AGENCY: "Hill Academy"}, wait=False)
        for n, view in enumerate(views)]

    replies = together(sends, app)

    assert [(r.status, r.body) for r in replies] == [(200, "")] * TIMES
    assert audit_count(app, "member.changed") == 1
    with Session(app.engine) as session:
        changed = session.get(Member, teacher.id)
        assert (changed.role, changed.agency) == ("Designated safeguarding lead", "Hill Academy")


def test_details_changed_while_someone_removes_that_person_never_change_a_removed_member(people, slack, app):
    case = new_case(people, slack, members=("hv", "teacher"))
    with Session(app.engine) as session:
        teacher = session.exec(select(Member).where(Member.slack_user_id == people["teacher"].user_id)).one()
    edits = _edit_forms(people, slack, case, teacher.id, TIMES - 1)
    people["sw"].click(Action.MEMBERS_EDIT, view=opened_view(slack, "members_list"),
                       selected=json.dumps({"c": case.case_id, "m": teacher.id, "o": "remove"}))
    removal = opened_view(slack, View.MEMBER_REMOVE)
    sends = [lambda: people["sw"].submit(dict(removal, id="VREMOVEX"), wait=False)]
    sends += [lambda view=view, n=n: people["sw"].submit(dict(view, id=f"VEDITX{n}"), {
        Block.ROLE: "Teacher", Block.AGENCY: f"Hill Academy {n}"}, wait=False) for n, view in enumerate(edits)]

    replies = together(sends, app)

    assert all(r.status == 200 for r in replies)
    with Session(app.engine) as session:
        assert session.get(Member, teacher.id).status == MemberStatus.REMOVED
        trail = session.exec(select(AuditEvent.action).where(
            AuditEvent.record_type == "member", AuditEvent.record_id == teacher.id,
            AuditEvent.action.in_(["member.changed", "member.removed"])).order_by(AuditEvent.id)).all()
    assert trail[-1] == "member.removed", trail  # no change recorded on someone already removed
    refused = [r for r in replies if r.body and "no longer in the core group" in json.dumps(r.json())]
    assert len(refused) == len(edits) - trail.count("member.changed")  # every edit after the removal is told so
