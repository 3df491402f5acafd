"""The App Home's lists are complete: meetings, updates asked and core groups are paged like actions, each
page within Slack's 100 blocks; and the tab can be redrawn for someone after a change."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, select

from bot.slack import make_client
from handlers.blocks import kit
from handlers.home import refresh_home_later
from handlers.ids import Action, Block, View
from models.tables import Action as ActionRow
from models.tables import Attendance, AttendanceStatus, Case, Meeting, Member
from tests.harness import send_event
from tests.helpers import new_case, opened_view, schedule_meeting
from tests.slack_standin import view_errors

CASES = 45


def _open_home(app, user):
    return send_event(app, {"type": "app_home_opened", "user": user.user_id, "channel": "D0X", "tab": "home"},
                      team_id=user.team_id)


def _many_cases(app, person, count: int = CASES) -> list[str]:
    """`count` open cases the person is in, each with a meeting next week they sent apologies for, and two
    actions of theirs in each. Returns the references."""
    now = datetime.now(UTC)
    references = []
    with Session(app.engine) as session:
        for n in range(count):
            reference = f"CP-TEST-{n + 1:04d}"
            case = Case(reference=reference, team_id=person.team_id, channel_id=f"C0HOME{n:04d}",
                        initial_conference_date=date(2026, 11, 16), created_by_team_id=person.team_id,
                        created_by_user_id=person.user_id)
            session.add(case)
            session.flush()
            member = Member(case_id=case.id, name="Health Visitor A", role="Health visitor",
                            slack_team_id=person.team_id, slack_user_id=person.user_id)
            session.add(member)
            session.flush()
            meeting = Meeting(case_id=case.id, scheduled_start=now + timedelta(days=3, hours=n),
                              location=f"Family centre {n + 1}")
            session.add(meeting)
            session.flush()
            session.add(Attendance(meeting_id=meeting.id, member_id=member.id, status=AttendanceStatus.APOLOGIES))
            session.add_all([ActionRow(case_id=case.id, what=f"Action {n}.{k} for {reference}",
                                       owner_member_id=member.id, due_date=date(2026, 12, 1) + timedelta(days=n),
                                       measure="Done") for k in range(2)])
            references.append(reference)
        session.commit()
    return references


def _published(slack) -> dict:
    call = slack.calls_to("views.publish")[-1]
    assert call.response["ok"], call.response
    view = call.args["view"]
    assert view_errors(view) == [] and len(view["blocks"]) <= kit.VIEW_BLOCK_LIMIT
    return view


def _next_value(view: dict, block_id: str) -> dict:
    block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
    button = next(e for e in block["elements"] if e["text"]["text"] == "Next")
    return json.loads(button["value"])


def _section(view: dict, title: str) -> str:
    """The text of the home tab's part under the header `title`, up to the next header."""
    texts, inside = [], False
    for block in view["blocks"]:
        if block["type"] == "header":
            inside = block["text"]["text"] == title
        elif inside:
            texts.append(json.dumps(block, ensure_ascii=False))
    return "\n".join(texts)


def _walk(person, slack, view: dict, title: str, pages_id: str, pages: int, found) -> tuple[list, dict]:
    """What `found` finds in the part under `title` on each of its pages, pressing Next between them; and the
    home tab as it was left."""
    seen: list = []
    for page in range(pages):
        seen += found(_section(view, title))
        if page < pages - 1:
            person.click(Action.HOME_PAGE, _next_value(view, pages_id), view={"id": "VHOME", "type": "home"})
            view = _published(slack)
    return seen, view


def test_every_meeting_update_asked_and_core_group_can_be_reached_page_by_page(app, people, slack):
    hv = people["hv"]
    references = _many_cases(app, hv)
    slack.reset()
    _open_home(app, hv)
    view = _published(slack)
    text = json.dumps(view)
    assert f"Page 1 of 5 ({CASES} meetings)" in text and f"Page 1 of 5 ({CASES} updates asked of you)" in text
    assert f"Page 1 of 2 ({CASES} core groups)" in text and f"Page 1 of 12 ({2 * CASES} open actions)" in text

    # Walk the meetings with Next: every meeting is shown once, in order, and the actions stay on their page.
    hv.click(Action.HOME_PAGE, _next_value(view, "home_pages"), view={"id": "VHOME", "type": "home"})
    view = _published(slack)
    assert "Page 2 of 12" in json.dumps(view)
    seen = []
    for page in range(5):
        meetings = _section(view, "Your next meetings")
        seen += [r for r in references if f"*{r}* ·" in meetings]
        assert f"Page {page + 1} of 5 ({CASES} meetings)" in meetings
        assert "Page 2 of 12" in json.dumps(view), "paging the meetings moved the actions"
        if page < 4:
            hv.click(Action.HOME_PAGE, _next_value(view, "home_pages_meetings"), view={"id": "VHOME", "type": "home"})
            view = _published(slack)
    assert seen == references

    asked, view = _walk(hv, slack, view, "Updates asked of you", "home_pages_updates", 5,
                        lambda part: [r for r in references if f"*{r}*:" in part])
    assert asked == references
    groups, view = _walk(hv, slack, view, "Your core groups", "home_pages_cases", 2,
                         lambda part: [r for r in references if f"*{r}* <#" in part])
    assert groups == references
    assert f"Page 5 of 5 ({CASES} meetings)" in json.dumps(view)  # still where it was left
    block = next(b for b in view["blocks"] if b.get("block_id") == "home_pages_meetings")
    back = next(e for e in block["elements"] if e["text"]["text"] == "Previous")
    hv.click(back["action_id"], json.loads(back["value"]), view={"id": "VHOME", "type": "home"})
    assert f"Page 4 of 5 ({CASES} meetings)" in json.dumps(_published(slack))


def test_a_page_past_the_end_shows_the_last_and_a_forged_page_the_first(app, people, slack):
    hv = people["hv"]
    references = _many_cases(app, hv, 12)
    slack.reset()
    hv.click(Action.HOME_PAGE, {"p": 0, "m": 99, "u": "x", "k": -3}, view={"id": "VHOME", "type": "home"})
    view = _published(slack)
    assert "Page 2 of 2 (12 meetings)" in json.dumps(view) and references[-1] in _section(view, "Your next meetings")
    assert "Page 1 of 2 (12 updates asked of you)" in json.dumps(view)


def test_the_home_is_redrawn_for_someone_after_they_send_their_update(app, people, slack):
    case = new_case(people, slack)
    meeting = schedule_meeting(people, slack, case, date="2026-11-30")
    hv = people["hv"]
    hv.click(Action.SEND_APOLOGIES, {"c": case.case_id, "m": meeting.id}, channel=case.channel_id)
    _open_home(app, hv)
    assert "Please send a written update" in json.dumps(_published(slack))
    before = len(slack.calls_to("views.publish"))
    assert hv.submit(opened_view(slack, View.UPDATE), {Block.UPDATE_WORRIES: "Child A missed school."}).body == ""

    # Sending the update redraws their tab without their opening it again.
    slack.wait_for("views.publish", count=before + 1,
                   where=lambda c: c.args.get("user_id") == hv.user_id)
    view = _published(slack)
    assert "Updates asked of you" not in json.dumps(view)
    assert "Your update has been sent" in json.dumps(view)
    refresh_home_later(app.deps, make_client(app.settings), hv.team_id, None)  # nobody to draw for: nothing
    assert len(slack.calls_to("views.publish")) == before + 1


def _button(view: dict, label: str) -> dict | None:
    return next((e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]
                 if e["text"]["text"] == label), None)


def test_attending_from_the_home_tab_records_it_and_says_so(app, people, slack):
    case = new_case(people, slack)
    meeting = schedule_meeting(people, slack, case, date="2026-11-30")
    hv = people["hv"]
    _open_home(app, hv)
    view = _published(slack)
    assert "You have not said whether you can attend" in _section(view, "Your next meetings")
    attending = _button(view, "Attending")
    assert attending is not None and attending["action_id"] == Action.ATTENDING
    assert _button(view, "Send my update") is not None and _button(view, "Send apologies") is not None
    before = len(slack.calls_to("views.publish"))

    # The same button as on the reminders: the reply is recorded, the person is told privately, the tab redrawn.
    hv.click(attending["action_id"], json.loads(attending["value"]), view={"id": "VHOME", "type": "home"})
    with Session(app.engine) as session:
        replies = session.exec(select(Attendance).where(Attendance.meeting_id == meeting.id)).all()
        hv_id = session.exec(select(Member.id).where(Member.case_id == case.case_id,
                                                      Member.slack_user_id == hv.user_id)).one()
    assert [(r.member_id, r.status) for r in replies] == [(hv_id, AttendanceStatus.ATTENDING)]
    told = [c.args.get("text", "") for c in slack.calls_to("chat.postMessage") + slack.calls_to("chat.postEphemeral")
            if hv.user_id in (c.args.get("channel"), c.args.get("user"))]
    assert any("you are down as attending core group meeting" in t for t in told)
    slack.wait_for("views.publish", count=before + 1, where=lambda c: c.args.get("user_id") == hv.user_id)
    view = _published(slack)
    assert "You said you will attend." in _section(view, "Your next meetings")
    assert _button(view, "Attending") is None and _button(view, "Send apologies") is not None
