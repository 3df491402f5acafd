"""Getting a new core group started: what is still missing, for the pinned checklist and the lead's reminder.

Read from the domain each time (nothing stored but where the checklist message is), so the checklist ticks an
item off as soon as it is true, and puts it back if it stops being true (a parent removed, say).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, func, select

from models import cases, plan
from models.tables import FAMILY_ROLES, Meeting, MeetingStatus, Member, MemberStatus, PlanItemKind

UNSET_ROLE = "Other professional"  # what someone picked when the case was opened is recorded as, until they say


@dataclass
class Item:
    key: str
    label: str
    done: bool
    who: list[Member] = field(default_factory=list)  # the people it is still missing for, where it is per person


@dataclass
class Checklist:
    items: list[Item]

    @property
    def missing(self) -> list[Item]:
        return [item for item in self.items if not item.done]

    @property
    def complete(self) -> bool:
        return not self.missing


def checklist(session: Session, case_id: int) -> Checklist:
    people = [m for m in cases.members(session, case_id) if m.status == MemberStatus.ACTIVE]
    professionals = [m for m in people if m.role not in FAMILY_ROLES]
    no_role = [m for m in professionals if m.role == UNSET_ROLE or not (m.agency or "").strip()]
    no_manager = [m for m in professionals if m.slack_user_id and not m.manager_user_id]
    parents = [m for m in people if m.role in ("Parent", "Carer")]
    kinds = {item.kind for item in plan.items(session, case_id)}
    booked = session.exec(select(func.count()).select_from(Meeting).where(
        Meeting.case_id == case_id, col(Meeting.status) != MeetingStatus.CANCELLED)).one()
    return Checklist(items=[
        Item("roles", "Each professional's role and organisation", not no_role, no_role),
        Item("managers", "Each professional's manager (told if the core group stops meeting)", not no_manager,
             no_manager),
        Item("parents", "The parents or carers added to the group", bool(parents)),
        Item("plan", "The plan written: danger statements and safety goals",
             {PlanItemKind.DANGER, PlanItemKind.GOAL} <= kinds),
        Item("meeting", "The first meeting booked", booked > 0),
    ])
