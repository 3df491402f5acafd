"""The outline for the family before each meeting: a short A4 Word document the lead social worker shares.

Sent to the lead social worker when a meeting is booked and again when it is moved (handlers/family_outline.py).
It says when and where; what a core group is for; who is coming, by role and organisation (never Slack ids or
professionals' names); what we will talk about (the agenda, in plain words, with times); the family's own
jobs in the plan and when they are due; three questions to think about; how to give their views if they
cannot come; and the social worker's name with a space for their phone number. Children appear only by
their labels. Short sentences, measured like every family document (models/readability.py).
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from models import agenda, cases, names
from models.documents import Outline
from models.family import plain, role_words
from models.meetings import long_date
from models.tables import FAMILY_ROLES, Action, ActionStatus, Case, Meeting, MemberStatus

PLAIN_AGENDA = {
    "Review the plan": "Look at the plan together and make it fit your family",
    "Are we still working to the plan?": "Is the plan still right?",
    "Updates from those unable to attend": "What people who cannot come have sent in",
    "The child's views": "What {the_children_feel}",
    "Progress on actions and any drift": "How the jobs in the plan are going",
    "Scaling": "Scores from 0 to 10 on how things are going",
    "Are risks reducing or increasing?": "Are things getting safer?",
    "What is working well, what we are worried about, what needs to happen":
        "What is going well, what worries us, and what needs to happen",
    "Decisions and new actions": "What we agree, and who will do what",
    "Recommendation for the review conference": "What we will tell the review conference",
    "Next meeting": "When we meet next",
}
QUESTIONS = ("What has gone well since the last meeting?", "What worries you?", "What would help?")


def outline_name(case: Case, meeting: Meeting) -> str:
    return f"{case.reference}-meeting-{meeting.number}-outline-for-the-family.docx"


def _length(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour" + ("s" if hours > 1 else ""))
    if rest:
        parts.append(f"{rest} minutes")
    return " and ".join(parts)


def meeting_outline(session: Session, meeting: Meeting, *, tz) -> Outline:
    case = session.get(Case, meeting.case_id)
    labels = [c.label + (f" ({c.age})" if c.age is not None and f"({c.age})" not in c.label else "")
              for c in cases.children(session, case.id)]
    one = len(labels) == 1
    children = " and ".join(labels) or "your children"
    starts = meeting.scheduled_start.astimezone(tz)
    everyone = [m for m in cases.members(session, case.id) if m.status == MemberStatus.ACTIVE]
    lead = next((m for m in everyone if m.is_lead), None)
    out: Outline = [
        ("title", "Your core group meeting"),
        ("subtitle", f"For the family of {children}."),
        ("h1", "When and where"),
        ("p", f"The meeting is on {long_date(starts.date())} at {starts:%H:%M}."),
        ("p", f"It will take about {_length(meeting.duration_minutes)}."),
    ]
    if meeting.location:
        out.append(("p", f"It is at {plain(meeting.location).rstrip('.')}."))
    out += [
        ("h1", "What a core group is for"),
        ("p", "The core group is you and the people who work with your family."),
        ("p", "We meet to see how the plan is going. The plan is there to keep "
              + ("your child" if one else "your children") + " safe and well."),
        ("p", "You are part of the group. We want to hear what you think."),
        ("h1", "Who is coming"),
    ]
    for member in everyone:
        if member.role in FAMILY_ROLES:
            continue
        role = plain(role_words(member.role))
        if member.role == "Other professional":
            who = "Another professional"
        else:
            who = f"A {role}" if role[:1].lower() not in "aeiou" else f"An {role}"
        if member.agency:
            who += f" from {plain(member.agency)}"
        if member.is_lead:
            who += ". This is your social worker"
        if member.id == meeting.chair_member_id:
            who += ". They will run the meeting"
        out.append(("bullet", who + "."))
    family = [m for m in everyone if m.role in FAMILY_ROLES]
    if family:
        out.append(("bullet", "From the family: " + ", ".join(m.name for m in family) + "."))
    out.append(("h1", "What we will talk about"))
    feel = "the child thinks and feels" if one else "the children think and feel"
    for item in agenda.agenda(meeting.duration_minutes, starts, meeting_number=meeting.number):
        words = PLAIN_AGENDA.get(item.title, item.title).format(the_children_feel=feel)
        out.append(("bullet", f"{item.starts:%H:%M}: {words}" + ("" if words.endswith("?") else ".")))
    out.append(("h1", "Your jobs in the plan"))
    mine = list(session.exec(select(Action).where(Action.case_id == case.id, Action.status == ActionStatus.OPEN,
                                                  col(Action.owner_member_id).in_([m.id for m in family] or [0]))
                             .order_by(col(Action.due_date), col(Action.id))))
    if mine:
        owners = {m.id: m.name for m in family}
        for action in mine:
            out.append(("bullet", f"{owners[action.owner_member_id]}: {plain(action.what).rstrip('.')}."
                                  f" Due by {long_date(action.due_date)}."))
    else:
        out.append(("p", "You have no jobs in the plan right now."))
    out += [("h1", "Things to think about"), ("p", "You might like to think about these before we meet:")]
    out += [("bullet", q) for q in QUESTIONS]
    out += [
        ("h1", "If you cannot come"),
        ("p", "Please tell your social worker before the meeting."),
        ("p", "They will write down what you think, and your scores. They will say it came from you."),
        ("p", "You can also bring someone with you for support."),
        ("h1", "Your social worker"),
        ("p", f"Your social worker is {lead.name}." if lead and names.known(lead)
              else "Your social worker will tell you their name."),
        ("p", "Phone: ______________________"),
    ]
    return out


def outline_docx(session: Session, meeting: Meeting, *, tz) -> bytes:
    from models.documents import to_docx

    return to_docx(meeting_outline(session, meeting, tz=tz), title="Your core group meeting", body_size=13)
