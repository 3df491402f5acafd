"""Oversight roles: who may see what across cases (issue 14), least privilege.

A role is granted on the command line (`coregroup staff grant`) to a Slack person, by team id and user id:

- a *team manager* sees the cases of the people they manage (a member whose manager they are named as) and,
  with `--team NAME`, the cases of everyone managed by any team manager of that team;
- a *conference chair* sees the cases they are given (`--case CP-...`, one grant per case);
- a *service manager* or *analyst* sees figures by organisation and month only, for their Slack workspace:
  never a case reference, a child's label or any text.

Nobody else sees anything of oversight. Every grant, revocation and view is audited (models/audit.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import text
from sqlmodel import Session, select

from models import audit
from models.audit import Actor
from models.oversight import WORKSPACE
from models.tables import Case, StaffRole

TEAM_MANAGER = "team-manager"
CONFERENCE_CHAIR = "conference-chair"
SERVICE_MANAGER = "service-manager"
ANALYST = "analyst"
ROLES = (TEAM_MANAGER, CONFERENCE_CHAIR, SERVICE_MANAGER, ANALYST)
CASE_ROLES = (TEAM_MANAGER, CONFERENCE_CHAIR)  # roles that see cases, not only figures
ROLE_NAMES = {TEAM_MANAGER: "team manager", CONFERENCE_CHAIR: "conference chair",
              SERVICE_MANAGER: "service manager", ANALYST: "analyst"}


class GrantError(ValueError):
    """A grant that cannot be made, with a message for the administrator."""


@dataclass
class Standing:
    """What one person may see of oversight."""

    team_id: str
    user_id: str
    roles: list[StaffRole] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.roles)

    @property
    def sees_cases(self) -> bool:
        return any(r.role in CASE_ROLES for r in self.roles)

    @property
    def sees_workspace_figures(self) -> bool:
        return any(r.role in (SERVICE_MANAGER, ANALYST) for r in self.roles)

    @property
    def teams(self) -> list[str]:
        return sorted({r.team_name for r in self.roles if r.role == TEAM_MANAGER and r.team_name})

    @property
    def manages(self) -> bool:
        return any(r.role == TEAM_MANAGER for r in self.roles)

    @property
    def chaired_cases(self) -> list[int]:
        return sorted({r.case_id for r in self.roles if r.role == CONFERENCE_CHAIR and r.case_id is not None})

    @property
    def role_names(self) -> list[str]:
        return sorted({ROLE_NAMES[r.role] for r in self.roles if r.role in ROLE_NAMES})


def standing(session: Session, *, team_id: str, user_id: str) -> Standing:
    roles = list(session.exec(select(StaffRole).where(StaffRole.slack_team_id == team_id,
                                                      StaffRole.slack_user_id == user_id)
                              .order_by(StaffRole.id)))
    return Standing(team_id=team_id, user_id=user_id, roles=roles)


def visible_cases_sql(who: Standing) -> tuple[str, dict]:
    """A SELECT of the case ids this person may see case by case (empty for figures-only roles), with its
    parameters. Used inside the oversight queries, so the database does the work."""
    parts, params = [], {"st": who.team_id, "su": who.user_id}
    if who.manages:
        parts.append("SELECT vm.case_id FROM members vm WHERE vm.manager_team_id = :st AND vm.manager_user_id = :su"
                     " AND vm.status = 'active'")
        for index, team in enumerate(who.teams):
            params[f"tn{index}"] = team
            parts.append(
                "SELECT vm.case_id FROM members vm JOIN staff_roles vs ON vs.slack_team_id = vm.manager_team_id"
                " AND vs.slack_user_id = vm.manager_user_id AND vs.role = 'team-manager'"
                f" WHERE vs.team_name = :tn{index} AND vm.status = 'active'")
    if who.chaired_cases:
        parts.append("SELECT vr.case_id FROM staff_roles vr WHERE vr.slack_team_id = :st AND vr.slack_user_id = :su"
                     " AND vr.role = 'conference-chair' AND vr.case_id IS NOT NULL")
    if not parts:
        return "SELECT id FROM cases WHERE 1 = 0", {}
    return " UNION ".join(parts), params


def scope_sql(who: Standing) -> tuple[str, dict]:
    """The cases whose figures this person sees: their whole workspace for a service manager or analyst,
    else the cases they may see one by one."""
    if who.sees_workspace_figures:
        return WORKSPACE, {"st": who.team_id}
    return visible_cases_sql(who)


def visible_case_ids(session: Session, who: Standing) -> set[int]:
    sql, params = visible_cases_sql(who)
    return {row[0] for row in session.execute(text(sql), params)}


# --- granting ---------------------------------------------------------------------------------------


def _scope(role: str, team: str | None, case: Case | None) -> str:
    if role == TEAM_MANAGER and team:
        return f"team:{team}"
    if role == CONFERENCE_CHAIR and case is not None:
        return f"case:{case.id}"
    return ""


def grant(session: Session, *, team_id: str, user_id: str, role: str, team: str | None = None,
          case: Case | None = None, by: Actor) -> StaffRole:
    """Grant a role (idempotent: granting it again changes nothing). Raises GrantError when it makes no sense."""
    if role not in ROLES:
        raise GrantError(f"There is no role {role!r}. Choose one of: {', '.join(ROLES)}.")
    if team is not None and role != TEAM_MANAGER:
        raise GrantError("--team is only for team managers.")
    if case is not None and role != CONFERENCE_CHAIR:
        raise GrantError("--case is only for conference chairs.")
    if role == CONFERENCE_CHAIR and case is None:
        raise GrantError("A conference chair is given cases one at a time: add --case CP-....")
    team = team.strip() if team else None
    if team == "":
        raise GrantError("Give the team a name.")
    scope = _scope(role, team, case)
    existing = session.exec(select(StaffRole).where(
        StaffRole.slack_team_id == team_id, StaffRole.slack_user_id == user_id, StaffRole.role == role,
        StaffRole.scope == scope)).first()
    if existing is not None:
        return existing
    row = StaffRole(slack_team_id=team_id, slack_user_id=user_id, role=role, scope=scope, team_name=team,
                    case_id=case.id if case else None, granted_by=f"{by.team_id or '-'}/{by.user_id or '-'}"[:64])
    session.add(row)
    session.flush()
    audit.record(session, actor=by, action="staff.granted", record_type="staff_role", record_id=row.id,
                 case_id=row.case_id, team=team_id, user=user_id, role=role)
    return row


def revoke(session: Session, *, team_id: str, user_id: str, role: str | None, by: Actor) -> int:
    """Take away one role (or, with role None, every role) from a person; returns how many were taken."""
    query = select(StaffRole).where(StaffRole.slack_team_id == team_id, StaffRole.slack_user_id == user_id)
    if role is not None:
        query = query.where(StaffRole.role == role)
    rows = list(session.exec(query))
    for row in rows:
        audit.record(session, actor=by, action="staff.revoked", record_type="staff_role", record_id=row.id,
                     case_id=row.case_id, team=team_id, user=user_id, role=row.role)
        session.delete(row)
    return len(rows)


def all_roles(session: Session) -> list[tuple[StaffRole, str | None]]:
    """Every grant, with the case reference of a chair's case."""
    rows = session.exec(select(StaffRole, Case.reference).join(Case, Case.id == StaffRole.case_id, isouter=True)
                        .order_by(StaffRole.slack_team_id, StaffRole.slack_user_id, StaffRole.role, StaffRole.scope))
    return [(role, reference) for role, reference in rows]


def record_view(session: Session, who: Standing, *, what: str, **ids: int | str | None) -> None:
    """Audit a view of oversight data (ids only)."""
    audit.record(session, actor=Actor(team_id=who.team_id, user_id=who.user_id), action=f"oversight.{what}",
                 record_type="oversight", record_id=None, case_id=None,
                 roles=",".join(sorted({r.role for r in who.roles})),
                 **ids)
