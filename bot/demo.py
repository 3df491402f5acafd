"""`coregroup demo`: a whole core group cycle with no Slack workspace, through the app's real handlers.

A social worker sets up the core group for Child A; the professionals say who they are; the mother, who
is not on Slack, is added; the first meeting is scheduled, reminded, held (two scaling questions, a
decision, two actions) and recorded. An action goes overdue and its owner is nudged; the teacher cannot
come to the second meeting and sends a written update; the second meeting scores the same questions
again (so the charts show the trend), decides, agrees an action and ends; the record is posted with its
charts. The family's part runs through it: the social worker gets an outline for the family before each
meeting, records the mother's views and score (she is not on Slack), prepares and approves the family
version (the child's words left out) and records that it was given to her; then she exports the minutes and
the approved family version. Each Slack message is printed as a person would see it,
and the minutes, the family version and the charts are written to a folder.

Everything goes through signed HTTP requests to the real app (bot/playback.py); Slack is the built-in
stand-in; the database is a temporary SQLite file unless `--database-url` says otherwise.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, select

from bot.playback import DemoError, Playback
from handlers.ids import Action, Block, View
from models.tables import Case, Member, Recap, ScalingQuestion

REFERENCE = "CP-DEMO-0001"
# London is on GMT from November to March, so these UTC times are the local times.
START = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)  # Monday: the initial conference was this morning
MEETING_1 = datetime(2026, 11, 10, 10, 0, tzinfo=UTC)
NUDGE = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)  # the health visitor's visits were due on Friday 20 November
REMINDERS_2 = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
MEETING_2 = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
NEAR_THE_END = datetime(2026, 12, 8, 11, 21, tzinfo=UTC)

CAST = {"sw": ("U0SW", "Social Worker A", "Social worker", "Children's Services"),
        "hv": ("U0HV", "Health Visitor A", "Health visitor", "Health visiting team"),
        "teacher": ("U0TEACH", "Teacher A", "Designated safeguarding lead", "Hill Primary School"),
        "police": ("U0POL", "Police Officer A", "Police officer", "Police, public protection unit")}
SAFE = ("How safe is Child A at home?", "Child A is not safe at home",
        "Everyone is confident Child A is safe at home")
SCHOOL = ("How well is Child A doing at school?", "Child A is not going to school",
          "Child A goes to school every day and is happy there")


class Story:
    def __init__(self, play: Playback):
        self.play = play
        self.channel = ""
        self.case_id = 0
        self.home_chart: str | None = None
        self.report = None

    def member_id(self, key: str | None = None, *, name: str | None = None) -> int:
        with Session(self.play.engine) as session:
            query = select(Member.id).where(Member.case_id == self.case_id)
            if key:
                query = query.where(Member.slack_user_id == self.play.people[key].user_id)
            else:
                query = query.where(Member.name == name)
            return session.exec(query).one()

    def question_id(self, text: str) -> int:
        with Session(self.play.engine) as session:
            return session.exec(select(ScalingQuestion.id).where(ScalingQuestion.case_id == self.case_id,
                                                                 ScalingQuestion.question == text)).one()

    # --- before the first meeting --------------------------------------------------------------------

    def set_up(self) -> None:
        play = self.play
        for key, (user_id, name, _role, _agency) in CAST.items():
            play.person(key, user_id, name)
        play.moment(START, "the initial child protection conference has put Child A on a plan")
        play.step("sw", "types /coregroup new in Slack")
        play.command("sw", "new", channel="C0GENERAL")
        play.submit("sw", View.NEW_CASE, {
            Block.REFERENCE: REFERENCE, Block.CHILDREN: "Child A (7)", Block.INITIAL: "2026-11-02",
            Block.REVIEW: "2027-01-25", Block.FREQUENCY: 6, Block.CREATOR_ROLE: "Social worker",
            Block.PROFESSIONALS: [play.people[k].user_id for k in ("hv", "teacher", "police")],
            Block.LEAD: play.people["sw"].user_id})
        with Session(play.engine) as session:
            case = session.exec(select(Case).where(Case.reference == REFERENCE)).one()
            self.case_id, self.channel = case.id, case.channel_id
        value = {"c": self.case_id}
        with play.quietly("each professional says their role and agency with the “My role and agency” button"):
            _, welcome = play.button(self.channel, Action.HERE_MY_DETAILS)
            for key in ("sw", "hv", "teacher", "police"):
                play.click(key, Action.HERE_MY_DETAILS, value, channel=self.channel, message=welcome)
                play.submit(key, View.MEMBER_EDIT, {Block.ROLE: CAST[key][2], Block.AGENCY: CAST[key][3]})
        play.step("sw", "adds Child A's mother, who is not on Slack (/coregroup members → Add someone without Slack)")
        play.command("sw", "members", channel=self.channel)
        play.click("sw", Action.MEMBERS_ADD_OFFLINE, value, view=play.view("members_list"))
        play.submit("sw", View.MEMBER_ADD_OFFLINE, {Block.NAME: "Mother of Child A", Block.ROLE: "Parent",
                                                    Block.RELATIONSHIP: "Mother"})
        play.step("sw", "schedules the first core group meeting (/coregroup schedule)")
        play.command("sw", "schedule", channel=self.channel)
        play.submit("sw", View.SCHEDULE, {Block.DATE: "2026-11-10", Block.TIME: "10:00", Block.LENGTH: 90,
                                          Block.LOCATION: "Family centre, room 2",
                                          Block.CHAIR: str(self.member_id("sw"))})
        play.moment(None, "Before the first meeting")
        play.advance(MEETING_1)  # the reminders: two working days before, and on the morning

    # --- a meeting ---------------------------------------------------------------------------------------

    def start(self, chair: str, attendance: dict[int, str]) -> None:
        play = self.play
        play.step(chair, "starts the meeting (/coregroup start) and checks who is here")
        play.command(chair, "start", channel=self.channel)
        values = {f"{Block.START_ATTENDANCE}_{member}": status for member, status in attendance.items()}
        play.submit(chair, View.START, values)

    def scale(self, chair: str, question: tuple[str, str, str], scores: dict[str, tuple[int, str, str]], *,
              goal: int | None = None, again: bool = False, show_scoring: bool = True) -> None:
        play = self.play
        play.step(chair, f"asks a scaling question (/coregroup scale): {question[0]}")
        play.command(chair, "scale", channel=self.channel)
        if again:
            play.submit(chair, View.SCALE_ASK, {Block.SCALE_EXISTING: str(self.question_id(question[0]))})
        else:
            fields = {Block.SCALE_QUESTION: question[0], Block.SCALE_ZERO: question[1], Block.SCALE_TEN: question[2]}
            if goal is not None:
                fields[Block.SCALE_GOAL] = str(goal)
            play.submit(chair, View.SCALE_ASK, fields)
        for index, (key, (score, reason, up)) in enumerate(scores.items()):
            def give(key=key, score=score, reason=reason, up=up) -> None:
                value, message = play.button(self.channel, Action.GIVE_SCORE)
                play.click(key, Action.GIVE_SCORE, value, channel=self.channel, message=message)
                play.submit(key, View.SCALE_SCORE, {Block.SCORE: str(score), Block.SCORE_REASON: reason,
                                                    Block.SCORE_UP: up})
            if index == 0 and show_scoring:
                play.step(key, "presses “Give my score” and scores privately")
                give()
            else:
                with play.quietly(f"{play.names[key]} scores privately too"):
                    give()
        play.step(chair, "shows everyone's scores together")
        value, message = play.button(self.channel, Action.REVEAL)
        play.click(chair, Action.REVEAL, value, channel=self.channel, message=message)

    def decide(self, chair: str, text: str) -> None:
        self.play.step(chair, "records a decision (/coregroup decision)")
        self.play.command(chair, "decision", channel=self.channel)
        self.play.submit(chair, View.DECISION, {Block.DECISION_TEXT: text})

    def action(self, who: str, what: str, owner: str, due: str, measure: str) -> None:
        self.play.step(who, f"adds an action for {self.play.names[owner]} (/coregroup action)")
        self.play.command(who, "action", channel=self.channel)
        self.play.submit(who, View.ACTION_ADD, {Block.ACTION_WHAT: what, Block.ACTION_OWNER: str(self.member_id(owner)),
                                                Block.ACTION_DUE: due, Block.ACTION_MEASURE: measure})

    def end(self, chair: str, outcome: dict, *, show_preview: bool = True) -> None:
        play = self.play
        play.step(chair, "ends the meeting (/coregroup end): the main points, the risks, the views, the recommendation")
        play.command(chair, "end", channel=self.channel)
        if show_preview:
            play.submit(chair, View.END, outcome)
        else:
            with play.quietly(f"{play.names[chair]} checks the preview of the record, which only they can see"):
                play.submit(chair, View.END, outcome)
        play.step(chair, "presses “Post the recap”")
        value, message = play.private_button(Action.RECAP_POST)
        play.click(chair, Action.RECAP_POST, value, channel=self.channel, message=message)

    # --- the story ------------------------------------------------------------------------------------

    def first_meeting(self) -> None:
        play = self.play
        play.moment(MEETING_1, "the first core group meeting")
        everyone = {self.member_id(k): "present" for k in CAST} | {self.member_id(name="Mother of Child A"): "present"}
        self.start("sw", everyone)
        self.scale("sw", SAFE, {"hv": (4, "Home visits are kept, but the home is often cold.", "Heating fixed."),
                                "sw": (3, "Mum's partner still visits late at night.", "A safety plan for visits."),
                                "teacher": (5, "Child A is calm and clean at school.", "Eats breakfast daily."),
                                "police": (3, "Two call-outs last month.", "No call-outs for a month.")}, goal=7)
        self.scale("sw", SCHOOL, {"teacher": (4, "Missed six days this half term.", "A full week in school."),
                                  "sw": (5, "Mum takes Child A most days now.", "Help with mornings."),
                                  "hv": (5, "Child A talks about friends at school.", "")}, show_scoring=False)
        self.decide("sw", "Child A will go to the after-school club on Tuesdays and Thursdays.")
        self.action("sw", "Visit the family at home twice, once after school", "hv", "2026-11-20",
                    "Two visits done, and Child A seen at home")
        self.action("sw", "Share Child A's school attendance with the group every Friday", "teacher", "2026-12-04",
                    "Attendance shared four weeks running")
        self.end("sw", {
            Block.RECAP_KEY_POINTS: "A first plan is in place. School attendance and late-night visits are the"
                                    " main worries.",
            Block.RECAP_RISK: "no_change",
            Block.RECAP_CHILD_VIEWS: "Child A told the teacher they like the after-school club and want to go more.",
            Block.RECAP_PARENTS_VIEWS: "Mother of Child A wants help with mornings and with money.",
            Block.RECAP_RECOMMENDATION: "continue", Block.RECAP_NEXT_DATE: "2026-12-08",
            Block.RECAP_NEXT_TIME: "10:00", Block.RECAP_NEXT_CHAIR: str(self.member_id("hv"))}, show_preview=False)

    def between_meetings(self) -> None:
        play = self.play
        play.moment(None, "Between the meetings")
        play.advance(NUDGE)  # an overdue action is nudged on the next working morning
        play.step("hv", "presses “Done” on the nudge in her direct messages")
        dm = play.dm("hv")
        value, message = play.button(dm, Action.ACTION_DONE)
        play.click("hv", Action.ACTION_DONE, value, channel=dm, message=message)
        play.advance(REMINDERS_2)  # two working days before the second meeting
        play.step("teacher", "cannot come, and presses “Send apologies” on the reminder")
        dm = play.dm("teacher")
        value, message = play.button(dm, Action.SEND_APOLOGIES)
        play.click("teacher", Action.SEND_APOLOGIES, value, channel=dm, message=message)
        update = {Block.UPDATE_ATTENDING: "apologies", Block.UPDATE_CONTACTS: "Spoke to Mum at the school gate twice.",
                  Block.UPDATE_CHILD_SEEN: "yes", Block.UPDATE_SEEN_ALONE: "yes",
                  Block.UPDATE_WORKING_WELL: "Child A has been in school every day for two weeks.",
                  Block.UPDATE_WORRIES: "Child A said they were tired; the DSL will keep checking in.",
                  Block.UPDATE_NEEDS: "Help for Mum with mornings should carry on.",
                  Block.UPDATE_CHILD_VIEWS: "Child A said: “I like club days best.”"}
        update |= {f"{Block.UPDATE_SCORE}_{self.question_id(SAFE[0])}": "5",
                   f"{Block.UPDATE_SCORE_REASON}_{self.question_id(SAFE[0])}": "Calm and ready to learn most days.",
                   f"{Block.UPDATE_SCORE}_{self.question_id(SCHOOL[0])}": "7",
                   f"{Block.UPDATE_SCORE_REASON}_{self.question_id(SCHOOL[0])}": "Ten days in a row in school."}
        view = play.view(View.UPDATE)
        for block in view["blocks"]:  # her action: "on track"
            if block.get("block_id", "").startswith(f"{Block.UPDATE_ACTION_STATUS}_"):
                update[block["block_id"]] = "on_track"
        play.step("teacher", "writes her update (the plain-language check spots the initials “DSL”)")
        play.submit("teacher", View.UPDATE, update)
        self.family_views()

    def family_views(self) -> None:
        """The mother is not on Slack: the social worker records her views and her score from a home visit."""
        play = self.play
        play.step("sw", "visits the mother at home with the outline for the family, and records her views and"
                        " her score (/coregroup family → “Record the family's views”)")
        play.command("sw", "family", channel=self.channel)
        value, message = play.private_button(Action.FAMILY_VIEWS)
        play.click("sw", Action.FAMILY_VIEWS, value, channel=self.channel, message=message)
        safe = self.question_id(SAFE[0])
        play.submit("sw", View.FAMILY_VIEWS, {
            Block.FAMILY_MEMBER: str(self.member_id(name="Mother of Child A")),
            Block.FAMILY_WELL: "Mornings are calmer. Child A gets to school on time.",
            Block.FAMILY_WORRIES: "I worry about money and the gas bill.",
            Block.FAMILY_HELP: "Help with money would help most.",
            f"{Block.FAMILY_SCORE}_{safe}": "7",
            f"{Block.FAMILY_SCORE_REASON}_{safe}": "He does not come round late any more."})

    def second_meeting(self) -> None:
        play = self.play
        play.advance(MEETING_2)
        play.moment(MEETING_2, "the second core group meeting")
        here = {self.member_id(k): "present" for k in ("sw", "hv", "police")}
        here |= {self.member_id("teacher"): "apologies", self.member_id(name="Mother of Child A"): "present"}
        self.start("hv", here)
        self.scale("hv", SAFE, {"sw": (5, "The late visits have stopped.", "Keep it up for six weeks."),
                                "hv": (6, "The heating is fixed and the home is warm.", "Mum at the parenting group."),
                                "police": (6, "No call-outs this month.", "")}, again=True, show_scoring=False)
        self.scale("hv", SCHOOL, {"sw": (6, "Mornings are easier.", "A full half term in school."),
                                  "hv": (7, "Child A talks about school happily.", "")}, again=True,
                   show_scoring=False)
        self.decide("hv", "Mother of Child A will start the parenting group in January.")
        self.action("hv", "Refer the family for money advice", "sw", "2026-12-18", "The family has an appointment")
        play.advance(NEAR_THE_END)  # the chair's timekeeping prompt
        self.end("hv", {
            Block.RECAP_KEY_POINTS: "Things are getting better at home and at school. Money is still a worry.",
            Block.RECAP_RISK: "reducing",
            Block.RECAP_CHILD_VIEWS: "Child A says home is calmer and they like club days best.",
            Block.RECAP_PARENTS_VIEWS: "Mother of Child A says the help with mornings is working.",
            Block.RECAP_RECOMMENDATION: "continue",  # the next meeting on the date the form suggests
            Block.RECAP_NEXT_CHAIR: str(self.member_id("police"))})
        play.step("police", "presses “I have read this” on the record")
        value, message = play.button(self.channel, Action.RECAP_READ)
        play.click("police", Action.RECAP_READ, value, channel=self.channel, message=message)
        self.family_version()
        play.step("sw", "exports the minutes for the case record and the family (/coregroup export)")
        play.command("sw", "export", channel=self.channel)
        play.show()

    def family_version(self) -> None:
        """The social worker prepares the family version, approves it, and records that the mother has it."""
        play = self.play
        dm = play.dm("sw")
        play.step("sw", "presses “Prepare the family version” in her direct messages: each part as the family will"
                        " read it, with the child's words and other agencies' words left out")
        value, message = play.button(dm, Action.FAMILY_PREPARE)
        play.click("sw", Action.FAMILY_PREPARE, value, channel=dm, message=message)
        play.submit("sw", View.FAMILY_PREPARE, {
            f"{Block.FAMILY_SECTION}_main": "Things are getting better at home and at school. Money is still a"
                                           " worry. The school and the police also gave updates."})
        play.step("sw", "checks the preview and presses “Approve for the family”")
        value, message = play.button(dm, Action.FAMILY_APPROVE)
        play.click("sw", Action.FAMILY_APPROVE, value, channel=dm, message=message)
        play.step("sw", "reads it with the mother at a home visit, and records that it was given"
                        " (/coregroup family → “Record that it was given”)")
        play.command("sw", "family", channel=self.channel)
        value, message = play.private_button(Action.FAMILY_GIVEN)
        play.click("sw", Action.FAMILY_GIVEN, value, channel=self.channel, message=message)
        play.submit("sw", View.FAMILY_GIVEN, {Block.GIVEN_HOW: "home_visit"})

    def oversight(self) -> None:
        """A conference chair given this case looks at the Oversight section of the App Home; the report."""
        from bot.harness import send_event
        from bot.render import view_text
        from models import oversight, staff
        from models.audit import Actor

        play = self.play
        play.person("chair", "U0IRO", "Conference Chair A")
        play.moment(None, "oversight: are core groups happening, on time, with every agency?")
        play.step(None, "an administrator runs: coregroup staff grant T0COUNCIL/U0IRO --role conference-chair"
                        f" --case {REFERENCE}")
        with Session(play.engine) as session:
            staff.grant(session, team_id="T0COUNCIL", user_id="U0IRO", role=staff.CONFERENCE_CHAIR,
                        case=session.get(Case, self.case_id), by=Actor(team_id="command line", user_id="admin"))
            session.commit()
        play.show()
        play.step("chair", "opens CoreGroup's App Home in Slack")
        send_event(play.app, {"type": "app_home_opened", "user": "U0IRO", "channel": "D0IRO", "tab": "home"},
                   team_id="T0COUNCIL")
        published = [c for c in play.slack.calls_to("views.publish") if c.args.get("user_id") == "U0IRO"]
        play.show()
        if not published or not published[-1].response.get("ok"):
            raise DemoError("the App Home's Oversight section did not reach Slack")
        view = published[-1].args["view"]
        self.home_chart = next((b["slack_file"]["id"] for b in view["blocks"] if b.get("type") == "image"), None)
        play.say("Conference Chair A sees:")
        for line in view_text(view, play.name_of):
            play.say("  " + line)
        play.step(None, "an administrator runs: coregroup report --from 2026-11-01 --to 2026-12-31 --by"
                        " organisation --format xlsx")
        with Session(play.engine) as session:
            self.report = oversight.report(session, scope=("SELECT id FROM cases", {}), start=START.date(),
                                           end=datetime(2026, 12, 31).date(), today=play.clock().date(),
                                           by="organisation")
        for table in self.report.tables:
            cells = "; ".join(f"{row['group']}" + (f" / {row['organisation']}" if "organisation" in row else "")
                              + ": " + ", ".join(f"{c.label.lower()} {row[c.key]}" for c in table.measure.columns
                                                 if row[c.key]) for row in table.rows)
            play.say(f"  {table.measure.title}: {cells or 'nothing in the period'}")

    def write_files(self, folder: Path) -> list[Path]:
        """The minutes and family version the social worker was sent, and the second record's charts."""
        play = self.play
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for message in play.slack.messages(play.dm("sw")):
            for item in message.get("files") or []:
                if folder / item["name"] not in written:  # the approved family version is sent twice
                    written.append(folder / item["name"])
                written[-1 if written[-1].name == item["name"] else written.index(folder / item["name"])] \
                    .write_bytes(play.slack.uploaded_files[item["id"]].content)
        with Session(play.engine) as session:
            recap = session.exec(select(Recap).where(Recap.status == "posted").order_by(Recap.id.desc())).first()
        charts = [m for m in play.slack.messages(self.channel) if m.get("thread_ts") == recap.message_ts
                  and m.get("files")]
        for index, message in enumerate(charts, start=1):
            item = message["files"][0]
            written.append(folder / f"meeting-2-scaling-chart-{index}.png")
            written[-1].write_bytes(play.slack.uploaded_files[item["id"]].content)
        if not any(p.suffix == ".docx" for p in written) or not charts:
            raise DemoError("the documents or the charts did not reach Slack")
        from models import oversight_files

        if self.home_chart:
            written.append(folder / "oversight-chart.png")
            written[-1].write_bytes(play.slack.uploaded_files[self.home_chart].content)
        written.append(folder / "oversight-report.xlsx")
        written[-1].write_bytes(oversight_files.to_xlsx(self.report))
        written.append(folder / "oversight-report.csv")
        written[-1].write_bytes(oversight_files.to_csv(self.report))
        return written


def run(args: argparse.Namespace, settings=None) -> int:
    """The `coregroup demo` command."""
    logging.getLogger().setLevel(logging.WARNING)
    began = time.monotonic()
    folder = Path(args.out)
    with tempfile.TemporaryDirectory(prefix="coregroup-demo-") as scratch:
        url = args.database_url or f"sqlite:///{Path(scratch) / 'demo.db'}"
        try:
            play = Playback(database_url=url, start=START)
        except DemoError as error:
            print(f"The demo did not start: {error}.", file=sys.stderr)
            return 1
        try:
            play.say("CoreGroup demo: a core group's first two meetings, with no Slack workspace.")
            play.say("Every step is a signed request to the real app; Slack is a stand-in on this computer.")
            story = Story(play)
            story.set_up()
            story.first_meeting()
            story.between_meetings()
            story.second_meeting()
            story.oversight()
            written = story.write_files(folder)
        except DemoError as error:
            play.show()
            print(f"\nThe demo stopped: {error}", file=sys.stderr)
            return 1
        finally:
            play.close()
    play.say()
    play.say(f"Done in {time.monotonic() - began:.0f} seconds. Written to {folder}/:")
    for path in written:
        play.say(f"  {path.name}")
    play.say("Open the .docx files in Word or LibreOffice, and the .png files in any image viewer.")
    return 0

