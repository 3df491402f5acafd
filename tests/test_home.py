"""The App Home: the person's own actions across cases, next meetings, updates asked of them, cases."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from models import actions, meetings
from models.audit import Actor
from models.tables import Case, Member
from tests.harness import send_event
from tests.helpers import new_case


def _member(session, case_id, user_id):
    from sqlmodel import select
    return session.exec(select(Member).where(Member.case_id == case_id, Member.slack_user_id == user_id)).one()


def _open_home(app, user):
    return send_event(app, {"type": "app_home_opened", "user": user.user_id, "channel": "D0X", "tab": "home"},
                      team_id=user.team_id)


def test_home_shows_my_actions_across_cases_and_my_next_meeting(app, people, slack, session):
    first = new_case(people, slack, reference="CP-TEST-0101")
    second = new_case(people, slack, reference="CP-TEST-0102", members=("hv",))
    hv = people["hv"]
    now = datetime.now(UTC)
    hv_first, hv_second = _member(session, first.case_id, hv.user_id), _member(session, second.case_id, hv.user_id)
    sw_first = _member(session, first.case_id, people["sw"].user_id)
    actor = Actor(team_id=hv.team_id, user_id=hv.user_id)
    actions.create(session, case_id=first.case_id, what="Visit the family at home weekly", owner_member_id=hv_first.id,
                   due_date=date.today() - timedelta(days=3), measure="Visits recorded", safety_goal_id=None,
                   meeting_id=None, actor=actor, member_id=hv_first.id, now=now)
    actions.create(session, case_id=second.case_id, what="Check Child A's weight", owner_member_id=hv_second.id,
                   due_date=date.today() + timedelta(days=10), measure="Weight chart", safety_goal_id=None,
                   meeting_id=None, actor=actor, member_id=hv_second.id, now=now)
    actions.create(session, case_id=first.case_id, what="Someone else's action", owner_member_id=sw_first.id,
                   due_date=date.today() + timedelta(days=10), measure="", safety_goal_id=None, meeting_id=None,
                   actor=actor, member_id=sw_first.id, now=now)
    case = session.get(Case, first.case_id)
    meeting = meetings.schedule(session, case=case, start=now + timedelta(days=5), duration_minutes=90,
                                location="Family centre", chair_member_id=sw_first.id, actor=actor, now=now)
    meetings.set_attendance(session, meeting=meeting, member=hv_first, status="apologies", actor=actor, now=now)
    session.commit()
    slack.reset()

    _open_home(app, hv)
    published = slack.calls_to("views.publish")
    assert len(published) == 1 and published[0].response["ok"]
    assert published[0].args["user_id"] == hv.user_id
    text = json.dumps(published[0].args["view"])
    assert "Visit the family at home weekly" in text and "Check Child A" in text
    assert "Someone else" not in text
    assert "1 overdue" in text
    assert "CP-TEST-0101" in text and "CP-TEST-0102" in text
    assert "Updates asked of you" in text and "Family centre" in text


def test_home_for_someone_in_no_core_group(app, people, slack):
    _open_home(app, people["outsider"])
    view = slack.calls_to("views.publish")[0].args["view"]
    assert "not in any core group" in json.dumps(view)


def test_home_pages_many_actions_within_limits(app, people, slack, session):
    info = new_case(people, slack, reference="CP-TEST-0103")
    hv = people["hv"]
    member = _member(session, info.case_id, hv.user_id)
    now = datetime.now(UTC)
    for n in range(30):
        actions.create(session, case_id=info.case_id, what=f"Action number {n} " + "x" * 400,
                       owner_member_id=member.id, due_date=date.today() + timedelta(days=n), measure="m" * 300,
                       safety_goal_id=None, meeting_id=None, actor=Actor(hv.team_id, hv.user_id),
                       member_id=member.id, now=now)
    session.commit()
    slack.reset()
    _open_home(app, hv)
    first = slack.calls_to("views.publish")[0]
    assert first.response["ok"], first.response
    assert "Page 1 of 4" in json.dumps(first.args["view"])
    hv.click("home_page", {"p": 3}, view={"id": "VHOME", "type": "home"})
    last = slack.calls_to("views.publish")[-1]
    assert last.response["ok"] and "Page 4 of 4" in json.dumps(last.args["view"])
    assert "Action number 29" in json.dumps(last.args["view"])
