"""A world with known oversight answers (issue 14), as rows in the database.

Dates are chosen around the late summer bank holiday (Monday 31 August 2026), so the working days skip it:
an initial conference on Friday 21 August has its 10th working day on Monday 7 September, not Friday 4 September.

- CP-TEST-0001 (lead managed by U0MGR): initial conference Fri 21 Aug; first core group Fri 4 Sep (working day 9,
  on time), record posted the same day, family version given Wed 9 Sep (on time); second core group Fri 16 Oct
  (6 weeks later, on time), chaired by the health visitor, record the same day, family version given Fri 30 Oct
  (10 working days: late); review conference Mon 2 Nov (the last core group 11 working days before: in time).
- CP-TEST-0002 (lead managed by U0MGR): initial conference Fri 21 Aug; first core group Tue 8 Sep (working day 11:
  1 day late), record posted Thu 10 Sep (2 working days: late), no family version; nothing since (lapsed: due
  Tue 20 Oct), one lapse escalation sent Wed 21 Oct; review conference Fri 18 Sep (8 working days after the
  last core group: too close).
- CP-TEST-0003 (lead managed by U0MGR2, team North): initial conference Mon 2 Nov; a meeting on Fri 13 Nov left
  open (never recorded); first core group overdue (due Mon 16 Nov); an action of the police, due Fri 20 Nov,
  open and carried forward twice.
- CP-TEST-0004 (lead managed by nobody with a role): initial conference Mon 16 Nov; first core group not yet due.

At every held meeting the police send apologies without a written update. Attendance (held meetings only):
Children's services present 3; Health present 2, apologies with update 1; Education present 1, apologies with
update 1; Police apologies without update 3; Family present 2, absent 1.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlmodel import Session

from models.tables import (
    Action,
    Attendance,
    Case,
    Child,
    FamilyHandover,
    FamilyVersion,
    Meeting,
    MeetingStatus,
    Member,
    Recap,
    RecapStatus,
    ScheduledMessage,
    Update,
)

TEAM = "T0COUNCIL"
TODAY = date(2026, 11, 23)
START, END = date(2026, 8, 1), date(2026, 11, 30)


@dataclass
class OversightWorld:
    cases: dict[str, int]


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)


def _case(session: Session, reference: str, initial: date, *, review: date | None = None,
          manager: str | None = None, team: str = TEAM) -> tuple[Case, dict[str, Member]]:
    case = Case(reference=reference, team_id=team, channel_id=f"C{reference[-4:]}", channel_name=reference.lower(),
                initial_conference_date=initial, review_conference_date=review, created_by_team_id=team,
                created_by_user_id="U0SW")
    session.add(case)
    session.flush()
    session.add(Child(case_id=case.id, label="Child A", age=7))
    people = {
        "sw": Member(case_id=case.id, name="Social Worker A", role="Social worker", agency="Children's services",
                     slack_team_id=team, slack_user_id=f"U0SW{reference[-1]}", is_lead=True,
                     manager_team_id=team if manager else None, manager_user_id=manager),
        "hv": Member(case_id=case.id, name="Health Visitor A", role="Health visitor", agency="Health",
                     slack_team_id=team, slack_user_id="U0HV"),
        "teacher": Member(case_id=case.id, name="Teacher A", role="Teacher", agency="Education",
                          slack_team_id=team, slack_user_id="U0TEACH"),
        "police": Member(case_id=case.id, name="Police Officer A", role="Police officer", agency="Police",
                         slack_team_id=team, slack_user_id="U0POL"),
        "parent": Member(case_id=case.id, name="Mother of Child A", role="Parent"),
    }
    session.add_all(people.values())
    session.flush()
    return case, people


def _held(session: Session, case: Case, day: date, *, chair: Member, posted: date, number: int,
          attendance: list[tuple[Member, str]], updates: tuple[Member, ...] = (), child: str = "", why_not: str = "",
          parents: str = "", chaired_by: Member | None = None, family_given: date | None = None) -> Meeting:
    meeting = Meeting(case_id=case.id, number=number, scheduled_start=_at(day), status=MeetingStatus.ENDED,
                      chair_member_id=chair.id, started_at=_at(day), ended_at=_at(day, 12),
                      chaired_by_member_id=chaired_by.id if chaired_by else None)
    session.add(meeting)
    session.flush()
    content = {"child_views": {"text": child, "not_obtained": why_not}, "parents_views": parents}
    recap = Recap(meeting_id=meeting.id, content=json.dumps(content), status=RecapStatus.POSTED,
                  posted_at=_at(posted, 15), approved_at=_at(posted, 15))
    session.add(recap)
    for member, status in attendance:
        session.add(Attendance(meeting_id=meeting.id, member_id=member.id, status=status))
    for member in updates:
        session.add(Update(meeting_id=meeting.id, member_id=member.id, working_well="Fixture update."))
    session.flush()
    if family_given:
        version = FamilyVersion(case_id=case.id, meeting_id=meeting.id, recap_id=recap.id, status="approved",
                                content="Family version.", approved_at=_at(family_given, 9))
        session.add(version)
        session.flush()
        session.add(FamilyHandover(family_version_id=version.id, case_id=case.id, meeting_id=meeting.id,
                                   given_on=family_given, how="in person", given_to="Mother of Child A"))
    return meeting


def build(session: Session) -> OversightWorld:
    a, pa = _case(session, "CP-TEST-0001", date(2026, 8, 21), review=date(2026, 11, 2), manager="U0MGR")
    _held(session, a, date(2026, 9, 4), chair=pa["sw"], posted=date(2026, 9, 4), number=1,
          attendance=[(pa["sw"], "present"), (pa["hv"], "present"), (pa["teacher"], "apologies"),
                      (pa["police"], "apologies"), (pa["parent"], "present")],
          updates=(pa["teacher"],), child="Child A said they like school.", parents="Mother of Child A agreed.",
          family_given=date(2026, 9, 9))
    _held(session, a, date(2026, 10, 16), chair=pa["sw"], chaired_by=pa["hv"], posted=date(2026, 10, 16), number=2,
          attendance=[(pa["sw"], "present"), (pa["hv"], "present"), (pa["teacher"], "present"),
                      (pa["police"], "apologies"), (pa["parent"], "absent")],
          why_not="Child A was unwell on the day of the visit.", family_given=date(2026, 10, 30))
    session.add(Action(case_id=a.id, what="Fixture action.", owner_member_id=pa["hv"].id, due_date=date(2026, 10, 30),
                       status="done"))

    b, pb = _case(session, "CP-TEST-0002", date(2026, 8, 21), review=date(2026, 9, 18), manager="U0MGR")
    session.delete(pb.pop("teacher"))
    _held(session, b, date(2026, 9, 8), chair=pb["sw"], posted=date(2026, 9, 10), number=1,
          attendance=[(pb["sw"], "present"), (pb["hv"], "apologies"), (pb["police"], "apologies"),
                      (pb["parent"], "present")],
          updates=(pb["hv"],), child="Child A drew a picture of home.", parents="Father of Child A spoke.")
    session.add(ScheduledMessage(key=f"case:{b.id}:lapse:test:channel", kind="case.lapse.channel", case_id=b.id,
                                 due_at=_at(date(2026, 10, 21), 9), status="sent", sent_at=_at(date(2026, 10, 21), 9)))

    c, pc = _case(session, "CP-TEST-0003", date(2026, 11, 2), manager="U0MGR2")
    session.add(Meeting(case_id=c.id, number=1, scheduled_start=_at(date(2026, 11, 13)),
                        status=MeetingStatus.ENDED_WITHOUT_RECORD, chair_member_id=pc["sw"].id,
                        started_at=_at(date(2026, 11, 13))))
    session.add(Action(case_id=c.id, what="Fixture action.", owner_member_id=pc["police"].id,
                       due_date=date(2026, 11, 20), carried_forward=2))

    d, _pd = _case(session, "CP-TEST-0004", date(2026, 11, 16))
    session.commit()
    return OversightWorld(cases={"a": a.id, "b": b.id, "c": c.id, "d": d.id})
