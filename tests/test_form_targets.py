"""A form's private metadata says which records are meant (ids, each re-checked), never where to draw.

The Add progress and New date forms redraw the list they were opened from. Where that list is (its view id,
or the response URL of the message it is on) comes from the request Slack sent when the button was pressed,
kept by the app for the person who pressed it; metadata rewritten to name another view or any URL draws
nothing into anyone else's form and posts nowhere.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlmodel import Session, select

from handlers.ids import Action as ActionId
from handlers.ids import Block, View
from models import actions
from models.audit import Actor
from models.tables import ActionEvent, ActionEventKind
from tests.helpers import new_case, opened_view
from tests.meeting_factories import button, member_id


@pytest.fixture
def catcher():
    """Somewhere a rewritten response URL could point: records any request made to it."""
    seen: list[str] = []

    class Record(BaseHTTPRequestHandler):
        def do_POST(self):
            seen.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Record)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/elsewhere", seen
    server.shutdown()
    server.server_close()


def _today():
    return datetime.now(UTC).date()


def _actions(engine, case_id: int, owner_id: int, count: int = 2) -> list[int]:
    with Session(engine, expire_on_commit=False) as session:
        made = [actions.create(session, case_id=case_id, what=f"Action number {n:02d}", owner_member_id=owner_id,
                               due_date=_today() + timedelta(days=n + 3), measure="Seen to be done",
                               safety_goal_id=None, meeting_id=None, actor=Actor.app(), member_id=None,
                               now=datetime.now(UTC))
                for n in range(count)]
        session.commit()
        return [a.id for a in made]


def _progress(engine, action_id: int) -> list[str]:
    with Session(engine) as session:
        return [e.note for e in session.exec(select(ActionEvent).where(
            ActionEvent.action_id == action_id, ActionEvent.kind == ActionEventKind.PROGRESS))]


def _list_modal(people, slack, case, who: str) -> dict:
    """The actions list in a modal, opened from the App Home."""
    home = {"type": "home", "id": f"VHOME{who.upper()}", "blocks": []}
    people[who].click(ActionId.ACTIONS_PAGE, {"c": case.case_id, "p": 0, "o": "a"}, view=home)
    return opened_view(slack, "actions_list")


def test_a_form_opened_from_a_list_redraws_that_list(people, slack, app):
    case = new_case(people, slack)
    hv = member_id(app.engine, case.case_id, people["hv"].user_id)
    first, _second = _actions(app.engine, case.case_id, hv)
    listed = _list_modal(people, slack, case, "hv")
    value, _ = button({"blocks": listed["blocks"]}, ActionId.ACTION_PROGRESS)
    people["hv"].click(ActionId.ACTION_PROGRESS, value, view=listed)
    form = opened_view(slack, View.ACTION_PROGRESS)
    assert set(json.loads(form["private_metadata"])) <= {"c", "a", "p", "o", "h"}  # ids and page only

    assert people["hv"].submit(form, {Block.PROGRESS_NOTE: "Called the surgery"}).body == ""

    assert _progress(app.engine, first) == ["Called the surgery"]
    redrawn = [c for c in slack.calls_to("views.update") if c.args.get("view_id") == listed["id"]]
    assert len(redrawn) == 1


@pytest.mark.parametrize("which", ["progress", "new_date"])
def test_rewritten_metadata_draws_into_nobody_elses_form_and_posts_nowhere(people, slack, app, catcher, which):
    url, seen = catcher
    case = new_case(people, slack, members=("hv", "teacher"))
    hv = member_id(app.engine, case.case_id, people["hv"].user_id)
    _first, _second = _actions(app.engine, case.case_id, hv)
    # The teacher has the list open in a modal of her own.
    victims_list = _list_modal(people, slack, case, "teacher")
    # The health visitor opens the form from the list in a message only she sees.
    people["hv"].command("actions", channel=case.channel_id)
    listing = [c for c in slack.calls if c.method == "response_url"][-1].args
    action_id, callback = ((ActionId.ACTION_PROGRESS, View.ACTION_PROGRESS) if which == "progress"
                           else (ActionId.ACTION_NEW_DATE, View.ACTION_NEW_DATE))
    value, _ = button(listing, action_id)
    people["hv"].click(action_id, value, channel=case.channel_id)
    form = opened_view(slack, callback)
    meta = json.loads(form["private_metadata"])
    forged = json.dumps(dict(meta, v=victims_list["id"], u=url, p=0, o="a"))
    values = ({Block.PROGRESS_NOTE: "Called the surgery"} if which == "progress"
              else {Block.DATE: (_today() + timedelta(days=20)).isoformat(), Block.REASON: "The clinic was closed"})
    mark = len(slack.calls)

    reply = people["hv"].submit(form, values, private_metadata=forged)

    assert reply.status == 200 and reply.body == ""  # the change itself is hers to make, and is saved
    calls = slack.calls[mark:]
    assert seen == []  # nothing went to the URL written into the form
    assert [c for c in calls if c.method == "views.update" and c.args.get("view_id") == victims_list["id"]] == []
    # Her own list (the message the button was on) is the one redrawn.
    assert [c.method for c in calls if c.method in ("response_url", "views.update")] == ["response_url"]


def test_someone_elses_form_submitted_redraws_nothing_of_theirs(people, slack, app):
    """A form's id is only a key to where it was opened for the person it was opened for."""
    case = new_case(people, slack, members=("hv", "teacher"))
    hv = member_id(app.engine, case.case_id, people["hv"].user_id)
    _first, _second = _actions(app.engine, case.case_id, hv)
    listed = _list_modal(people, slack, case, "hv")
    value, _ = button({"blocks": listed["blocks"]}, ActionId.ACTION_PROGRESS)
    people["hv"].click(ActionId.ACTION_PROGRESS, value, view=listed)
    form = opened_view(slack, View.ACTION_PROGRESS)
    mark = len(slack.calls)

    people["teacher"].submit(form, {Block.PROGRESS_NOTE: "Seen at school"})

    assert [c for c in slack.calls[mark:] if c.method == "views.update"] == []


# --- the plain-language check cannot be skipped from the metadata ------------------------------------------


def _with_metadata(view: dict, **extra) -> dict:
    meta = json.loads(view.get("private_metadata") or "{}")
    return dict(view, private_metadata=json.dumps({**meta, **extra}))


def test_a_forged_flag_in_the_metadata_does_not_skip_the_plain_language_check(people, slack, app):
    from tests.helpers import posted

    case = new_case(people, slack)
    note = "Mum DNA'd the appointment; the DSL is aware"
    (action_id,) = _actions(app.engine, case.case_id, member_id(app.engine, case.case_id, people["hv"].user_id), 1)

    def progress_form() -> dict:
        people["hv"].click(ActionId.ACTION_PROGRESS, {"c": case.case_id, "a": action_id}, channel=case.channel_id)
        return opened_view(slack, View.ACTION_PROGRESS)

    # The flag the app once kept in the metadata (and the like), written in before a form's first save.
    for forged in ({"pl": 1}, {"pl": True, "plain": 1}, {"pl": "1"}):
        form = progress_form()
        reply = people["hv"].submit(_with_metadata(form, **forged), {Block.PROGRESS_NOTE: note})
        assert reply.body, forged  # not saved
        body = reply.json()
        assert body["response_action"] == "update" and "did not attend" in json.dumps(body["view"]), forged
        with Session(app.engine) as session:
            assert session.exec(select(ActionEvent).where(ActionEvent.kind == ActionEventKind.PROGRESS)).all() == []
    assert not posted(slack, case.channel_id, "the appointment")
    # The app adds nothing of its own about the check to the metadata it sends back.
    assert json.loads(body["view"]["private_metadata"]) == json.loads(_with_metadata(form, pl="1")["private_metadata"])

    # Shown the suggestions on this form, the person saves it again and it is kept as written.
    assert people["hv"].submit(dict(body["view"], id=form["id"]), {Block.PROGRESS_NOTE: note}).body == ""
    with Session(app.engine) as session:
        [saved] = session.exec(select(ActionEvent).where(ActionEvent.kind == ActionEventKind.PROGRESS)).all()
    assert saved.note == note


def test_suggestions_shown_to_one_person_do_not_skip_the_check_for_another_or_another_form(people, slack, app):
    case = new_case(people, slack, members=("hv", "teacher"))
    note = "Mum DNA'd the appointment; the DSL is aware"
    (action_id,) = _actions(app.engine, case.case_id, member_id(app.engine, case.case_id, people["hv"].user_id), 1)
    people["hv"].click(ActionId.ACTION_PROGRESS, {"c": case.case_id, "a": action_id}, channel=case.channel_id)
    form = opened_view(slack, View.ACTION_PROGRESS)
    assert people["hv"].submit(form, {Block.PROGRESS_NOTE: note}).json()["response_action"] == "update"

    # The teacher sends a form under the id of the health visitor's: it is checked for them all the same.
    people["teacher"].click(ActionId.ACTION_PROGRESS, {"c": case.case_id, "a": action_id}, channel=case.channel_id)
    theirs = opened_view(slack, View.ACTION_PROGRESS)
    reply = people["teacher"].submit(dict(theirs, id=form["id"]), {Block.PROGRESS_NOTE: note})
    assert reply.json()["response_action"] == "update"
    # And the health visitor's next form is checked again.
    people["hv"].click(ActionId.ACTION_PROGRESS, {"c": case.case_id, "a": action_id}, channel=case.channel_id)
    reply = people["hv"].submit(opened_view(slack, View.ACTION_PROGRESS), {Block.PROGRESS_NOTE: note})
    assert reply.json()["response_action"] == "update"
    with Session(app.engine) as session:
        assert session.exec(select(ActionEvent).where(ActionEvent.kind == ActionEventKind.PROGRESS)).all() == []
