"""The trajectory chart: drawn from the scores, read back as a PNG, and uploaded in the recap's thread once.

The PNG is opened with matplotlib's own reader and its pixels checked: the right size, not blank, the
middle-score line where the scores put it, and the goal line only when a goal was agreed.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import date, timedelta

import pytest
from slack_sdk import WebClient
from sqlmodel import Session, select

from bot.slack import make_client
from handlers.chart import share_missing_charts, upload_charts
from handlers.ids import Action, Block, View
from handlers.recap import post_pending_recaps
from models import chart
from models.tables import AuditEvent, Meeting, Recap, RecapStatus, ScalingQuestion
from tests.helpers import new_case, opened_view
from tests.recap_world import preview_value, running_meeting
from tests.test_end import MEMBERS, end_and_post

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _pixels(png: bytes):
    from matplotlib import image

    return image.imread(io.BytesIO(png), format="png")


def _near(pixels, colour: str, tolerance: float = 0.08):
    """A mask of the pixels within `tolerance` of the colour (each channel 0 to 1)."""
    import numpy

    wanted = numpy.array([int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    return (abs(pixels[:, :, :3] - wanted) <= tolerance).all(axis=2)


def _chart(medians=(3.0, 6.0), goal=None, **changes) -> chart.Trajectory:
    values = dict(question="How safe is Child A at home?", zero_means="Child A is not safe at home",
                  ten_means="Everyone is confident Child A is safe at home",
                  days=[date(2026, 11, 10), date(2026, 12, 8)][: len(medians)], medians=list(medians),
                  people=[chart.Person("Social worker", [max(0, int(m) - 2) for m in medians]),
                          chart.Person("Health visitor", [min(10, int(m) + 2) for m in medians])],
                  goal=goal)
    values.update(changes)
    return chart.Trajectory(**values)


def test_the_png_is_the_preview_size_and_shows_the_scores():
    png = chart.draw(_chart(goal=8))
    assert png.startswith(PNG_SIGNATURE)
    pixels = _pixels(png)
    assert pixels.shape[:2] == (chart.HEIGHT, chart.WIDTH) == (700, 1200)
    white = (pixels[:, :, :3] > 0.97).all(axis=2)
    assert 0.02 < 1 - white.mean() < 0.5, "the chart is blank, or nothing but ink"
    assert _near(pixels, chart.PEOPLE_COLOURS[0]).sum() > 300, "the first person's line is missing"
    assert _near(pixels, chart.PEOPLE_COLOURS[1]).sum() > 300, "the second person's line is missing"
    assert _near(pixels, chart.GOAL_COLOUR).sum() > 1000, "the goal line is missing"


def test_no_goal_line_without_an_agreed_goal():
    pixels = _pixels(chart.draw(_chart(goal=None)))
    assert _near(pixels, chart.GOAL_COLOUR).sum() < 50


def test_the_middle_score_line_sits_where_the_scores_are():
    import numpy

    def height_of_middle_line(medians) -> float:
        pixels = _pixels(chart.draw(_chart(medians=medians, people=[])))
        plot = pixels[150:560, 100:840]  # inside the axes: leaves out the title, the labels and the legend
        rows, _ = numpy.nonzero(_near(plot, chart.MIDDLE_COLOUR, 0.15))
        assert len(rows) > 500, "no middle-score line was drawn"
        return float(rows.mean())

    low, high = height_of_middle_line((2.0, 2.0)), height_of_middle_line((9.0, 9.0))
    assert high < low - 150, "a higher score must be drawn higher up"


def test_labels_are_plain_words():
    drawing = _chart(medians=(4.0, 5.5), goal=7)
    assert chart.day_label(date(2026, 12, 8)) == "8 Dec"
    assert chart.day_label(date(2027, 1, 19), with_year=True) == "19 Jan 2027"
    assert chart.alt_text(drawing) == ("Chart of the scores for “How safe is Child A at home?”. Middle score: 4 on"
                                       " 10 Nov, 5.5 on 8 Dec. The goal is 7.")
    long = "How confident are we that Child A is safe at home when the family are under stress? " * 4
    lines = chart.title_lines(long)
    assert len(lines) == 3 and lines[-1].endswith("…") and all(len(line) <= 58 for line in lines)
    assert chart.draw(_chart(question=long)).startswith(PNG_SIGNATURE)


def test_a_question_scored_once_and_many_people_still_draw():
    people = [chart.Person(f"Other professional ({n})", [n % 11]) for n in range(12)]
    pixels = _pixels(chart.draw(_chart(medians=(5.0,), people=people)))
    assert pixels.shape[:2] == (700, 1200)


def test_the_app_starts_without_loading_matplotlib():
    code = ("import sys; from bot.settings import Settings; from bot.app import create_app;"
            " create_app(Settings(bot_token='xoxb-unused', database_url='sqlite://'));"
            " print(sorted(m for m in ('matplotlib', 'docx') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


# --- from the database, and into Slack --------------------------------------------------------------------


@pytest.fixture
def world(people, slack, app):
    info = new_case(people, slack, members=MEMBERS)
    return running_meeting(app.engine, info, people)


def test_trajectory_reads_every_meeting_with_roles(app, world):
    with Session(app.engine) as session:
        question = session.exec(select(ScalingQuestion).where(ScalingQuestion.question.like("How safe%"))).one()
        drawing = chart.trajectory(session, question.id, up_to=session.get(Meeting, world.meeting_id))
    assert drawing.question == "How safe is Child A at home?"
    assert drawing.medians == [4.0, 5.5] and len(drawing.days) == 2 and drawing.days[0] < drawing.days[1]
    by_label = {p.label: p.scores for p in drawing.people}
    assert by_label["Social worker"] == [3, 5] and by_label["Health visitor"] == [4, 8]
    assert by_label["Police officer"] == [None, 6]  # not scored at the first meeting


def test_each_meetings_day_on_the_chart_is_the_day_in_the_apps_timezone(app, world):
    with Session(app.engine) as session:
        question = session.exec(select(ScalingQuestion).where(ScalingQuestion.question.like("How safe%"))).one()
        meeting = session.get(Meeting, world.meeting_id)
        assert meeting.scheduled_start.hour < 12  # a morning meeting in London is the evening before at UTC-12
        london = chart.trajectory(session, question.id, up_to=meeting, tz="Europe/London")
        far_west = chart.trajectory(session, question.id, up_to=meeting, tz="Etc/GMT+12")
    assert far_west.days == [day - timedelta(days=1) for day in london.days]


def _uploads(slack, channel):
    return [c for c in slack.calls_to("files.completeUploadExternal") if c.args.get("channel_id") == channel]


def test_each_standing_question_gets_its_chart_in_the_recaps_thread(people, slack, app, world):
    recap = end_and_post(people, slack, world)
    assert recap.status == RecapStatus.POSTED

    completed = _uploads(slack, world.channel_id)
    assert len(completed) == 2, "one chart for each of the two standing questions"
    assert all(c.args["thread_ts"] == recap.message_ts and c.response["ok"] for c in completed)
    # Only the charts: the outline for the family of the meeting booked next goes to the lead's direct message.
    assert len([c for c in slack.calls_to("files.getUploadURLExternal") if c.args["filename"].endswith(".png")]) == 2
    titles = [c.args["files"][0]["title"] for c in completed]
    assert titles == ["Scores over time: How safe is Child A at home?",
                      "Scores over time: How well is Child A doing at school?"]
    asked = [c for c in slack.calls_to("files.getUploadURLExternal") if c.args["filename"].endswith(".png")]
    assert "Middle score: 4 on" in asked[0].args["alt_txt"] and "5.5 on" in asked[0].args["alt_txt"]
    for call in completed:
        stored = slack.uploaded_files[call.args["files"][0]["id"]]
        assert stored.filename.endswith(".png") and stored.content.startswith(PNG_SIGNATURE)
        assert _pixels(stored.content).shape[:2] == (700, 1200)
    thread = [m for m in slack.messages(world.channel_id) if m.get("thread_ts") == recap.message_ts and m.get("files")]
    assert len(thread) == 2

    # Posting again (a resumed recap, a second instance) uploads nothing more.
    assert upload_charts(app.deps, make_client(app.settings), recap.id) == 0
    assert len(_uploads(slack, world.channel_id)) == 2
    with Session(app.engine) as session:
        shared = session.exec(select(AuditEvent).where(AuditEvent.action == "recap.chart_shared")).all()
    assert len(shared) == 2 and all(e.record_id == recap.id for e in shared)


def test_a_failed_upload_does_not_stop_or_repeat_the_recap(people, slack, app, world):
    slack.fail_next("files.completeUploadExternal", error="internal_error", status=200)
    recap = end_and_post(people, slack, world)

    assert recap.status == RecapStatus.POSTED
    parts = [m for m in slack.messages(world.channel_id)
             if (m.get("metadata") or {}).get("event_type") == "coregroup_recap"]
    assert [m["metadata"]["event_payload"]["part"] for m in parts].count(0) == 1
    assert "posted in the channel" in slack.calls_to("response_url")[-1].args["text"]
    assert len([c for c in _uploads(slack, world.channel_id) if c.response["ok"]]) == 1  # the other chart went
    assert post_pending_recaps(app.deps, make_client(app.settings)) == 0
    with Session(app.engine) as session:
        assert session.exec(select(Recap)).one().status == RecapStatus.POSTED
    assert not any("something went wrong" in json.dumps(c.args).lower() for c in slack.calls)


def test_a_correction_gets_its_own_charts_in_its_own_thread(people, slack, app, world):
    first = end_and_post(people, slack, world)
    people["hv"].click(Action.RECAP_CORRECT, {"c": world.case_id, "r": first.id}, channel=world.channel_id)
    people["hv"].submit(opened_view(slack, View.RECAP_CORRECT), {
        Block.RECAP_REASON: "The risks were said to be the same, not reducing.", Block.RECAP_RISK: "no_change"})
    people["hv"].click(Action.RECAP_POST, preview_value(slack), channel=world.channel_id)

    with Session(app.engine) as session:
        second = session.exec(select(Recap).where(Recap.version == 2)).one()
    assert second.status == RecapStatus.POSTED and second.message_ts != first.message_ts
    threads = [c.args["thread_ts"] for c in _uploads(slack, world.channel_id)]
    assert threads == [first.message_ts] * 2 + [second.message_ts] * 2


def _chart_files(slack, channel, thread_ts) -> list[str]:
    """The titles of the charts in the recap's thread, one per file message."""
    return [f["title"] for m in slack.messages(channel) if m.get("thread_ts") == thread_ts
            for f in m.get("files") or []]


TITLES = ["Scores over time: How safe is Child A at home?", "Scores over time: How well is Child A doing at school?"]


@pytest.mark.parametrize("step", ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"])
def test_a_chart_that_failed_to_upload_is_uploaded_when_tried_again_and_only_once(people, slack, app, world, step):
    slack.fail_next(step, error="internal_error", status=500 if step == "upload" else 200)
    recap = end_and_post(people, slack, world)
    assert recap.status == RecapStatus.POSTED
    assert len(_chart_files(slack, world.channel_id, recap.message_ts)) == 1  # the other chart went

    client = make_client(app.settings)
    assert share_missing_charts(app.deps, client) == 1  # tried again: the chart that failed
    assert sorted(_chart_files(slack, world.channel_id, recap.message_ts)) == sorted(TITLES)
    assert share_missing_charts(app.deps, client) == 0 and upload_charts(app.deps, client, recap.id) == 0
    assert sorted(_chart_files(slack, world.channel_id, recap.message_ts)) == sorted(TITLES)  # exactly one each
    with Session(app.engine) as session:
        shared = session.exec(select(AuditEvent).where(AuditEvent.action == "recap.chart_shared")).all()
    assert len(shared) == 2


def test_a_chart_whose_answer_was_lost_is_found_in_the_thread_not_uploaded_twice(people, slack, app, world):
    slack.fail_next("files.getUploadURLExternal", error="internal_error", status=200, times=2)
    recap = end_and_post(people, slack, world)
    assert _chart_files(slack, world.channel_id, recap.message_ts) == []  # neither went: both can be tried again

    # Slack takes the first chart but its answer comes after the app has stopped waiting.
    impatient = WebClient(token=app.settings.bot_token, base_url=app.settings.slack_api_url, timeout=1,
                          retry_handlers=[])
    slack.delay_next("files.completeUploadExternal", 2.5)
    assert upload_charts(app.deps, impatient, recap.id) == 1  # the second chart; the first is in doubt
    slack.wait_for("files.completeUploadExternal", count=2, timeout=10,  # the charts (not the family's outline)
                   where=lambda c: c.response.get("ok") and c.args.get("channel_id") == world.channel_id)
    assert sorted(_chart_files(slack, world.channel_id, recap.message_ts)) == sorted(TITLES)

    asked = len(slack.calls_to("files.getUploadURLExternal"))
    assert share_missing_charts(app.deps, make_client(app.settings)) == 1  # found in the thread, and recorded
    assert len(slack.calls_to("files.getUploadURLExternal")) == asked, "the chart Slack took was uploaded again"
    assert sorted(_chart_files(slack, world.channel_id, recap.message_ts)) == sorted(TITLES)
    assert share_missing_charts(app.deps, make_client(app.settings)) == 0
    with Session(app.engine) as session:
        shared = session.exec(select(AuditEvent).where(AuditEvent.action == "recap.chart_shared")).all()
    assert sorted(e.record_id for e in shared) == [recap.id, recap.id]


def test_the_scheduler_run_uploads_a_chart_that_failed_the_first_time(people, slack, app, world):
    """Nobody has to press anything: the scheduled-work run that posts half-posted records also tries the
    charts again."""
    from tests.reminder_world import dispatcher

    slack.fail_next("files.getUploadURLExternal", error="internal_error", status=200)
    recap = end_and_post(people, slack, world)
    assert len(_chart_files(slack, world.channel_id, recap.message_ts)) == 1
    dispatcher(app.engine, slack).run_once()
    assert sorted(_chart_files(slack, world.channel_id, recap.message_ts)) == sorted(TITLES)
