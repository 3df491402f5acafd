"""Everything held about one case, as JSON in a zip file: for subject access requests.

`coregroup export-case REF` (bot/tools.py) calls `export_case`. Each table that holds case data has
a section: the rows that belong to the case, found through `case_id` or through the parent record
(an action's history through its action, a score through its round and question). Rows are exported
whole, every column, ordered by id. `processed_requests` and `form_returns` are left out: they hold
delivery keys of Slack requests and where an open form redraws its list (a view id or a response URL),
not case data.

Documents (the minutes and the family version) are added by builders named in DOCUMENT_BUILDERS,
so that this module does not import heavy document libraries: each is "module:function", and the
function `(session, case) -> Iterable[tuple[str, bytes]]` yields file names and their bytes, which
go into the zip under documents/.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any

from sqlalchemy import ColumnElement
from sqlmodel import Session, SQLModel, col, select

from models import audit, meeting_facts
from models.audit import Actor
from models.tables import (
    Action,
    ActionEvent,
    Attendance,
    AuditEvent,
    Case,
    Child,
    Decision,
    FamilyHandover,
    FamilyVersion,
    Meeting,
    MeetingChange,
    Member,
    PlanItem,
    Recap,
    RecapAcknowledgement,
    RecapRecipient,
    ScalingQuestion,
    ScalingRound,
    ScheduledMessage,
    Score,
    Update,
    UpdateActionProgress,
)

# Document builders, "module:function" (see the module docstring), imported only when a case is exported.
DOCUMENT_BUILDERS: list[str] = [
    "models.documents:case_documents",  # the minutes and the family version of each meeting
]

# Tables that hold no case data, and so have no section.
# Once-only keys; the submission journal, whose entries are emptied once processed (what they held is
# exported from the records it was saved as);
NOT_CASE_DATA = frozenset({"processed_requests", "form_returns", "submission_journal",
                           # oversight: staff roles (their grants are in the audit trail), working days, and
                           # figures and charts kept for the App Home, which hold no case's data
                           "staff_roles", "working_days", "oversight_charts", "oversight_figures",
                           # oversight's facts and their sums: counts and day numbers worked out from the records
                           # exported here (models/meeting_facts.py), rebuildable from them
                           *meeting_facts.FACT_TABLES, *meeting_facts.SUM_TABLES, meeting_facts.BUILT})

# Text columns that hold JSON: exported as JSON, so the reader does not meet JSON inside a string.
JSON_COLUMNS = {("recaps", "content"), ("family_versions", "content"), ("scheduled_messages", "detail"),
                ("audit_events", "detail")}


def _sections(case_id: int) -> list[tuple[type[SQLModel], ColumnElement[bool]]]:
    """Each table with case data, and which of its rows belong to the case."""
    meetings = select(Meeting.id).where(Meeting.case_id == case_id)
    actions = select(Action.id).where(Action.case_id == case_id)
    updates = select(Update.id).where(col(Update.meeting_id).in_(meetings))
    questions = select(ScalingQuestion.id).where(ScalingQuestion.case_id == case_id)
    rounds = select(ScalingRound.id).where(col(ScalingRound.question_id).in_(questions))
    recaps = select(Recap.id).where(col(Recap.meeting_id).in_(meetings))
    return [
        (Case, col(Case.id) == case_id),
        (Child, col(Child.case_id) == case_id),
        (Member, col(Member.case_id) == case_id),
        (PlanItem, col(PlanItem.case_id) == case_id),
        (Action, col(Action.case_id) == case_id),
        (ActionEvent, col(ActionEvent.action_id).in_(actions)),
        (Meeting, col(Meeting.case_id) == case_id),
        (MeetingChange, col(MeetingChange.meeting_id).in_(meetings)),
        (Attendance, col(Attendance.meeting_id).in_(meetings)),
        (Update, col(Update.meeting_id).in_(meetings)),
        (UpdateActionProgress, col(UpdateActionProgress.update_id).in_(updates)),
        (ScalingQuestion, col(ScalingQuestion.case_id) == case_id),
        (ScalingRound, col(ScalingRound.question_id).in_(questions)),
        (Score, col(Score.round_id).in_(rounds)),
        (Decision, col(Decision.case_id) == case_id),
        (Recap, col(Recap.meeting_id).in_(meetings)),
        (RecapRecipient, col(RecapRecipient.recap_id).in_(recaps)),
        (RecapAcknowledgement, col(RecapAcknowledgement.recap_id).in_(recaps)),
        (FamilyVersion, col(FamilyVersion.case_id) == case_id),
        (FamilyHandover, col(FamilyHandover.case_id) == case_id),
        (ScheduledMessage, col(ScheduledMessage.case_id) == case_id),
        (AuditEvent, col(AuditEvent.case_id) == case_id),
    ]


def table_names() -> list[str]:
    """The sections an export has, in order."""
    return [model.__tablename__ for model, _ in _sections(0)]  # type: ignore[attr-defined]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(table: str, row: SQLModel) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for column in row.__table__.columns:  # type: ignore[attr-defined]
        value = _plain(getattr(row, column.key))
        if (table, column.key) in JSON_COLUMNS and isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        result[column.key] = value
    return result


def collect(session: Session, case: Case) -> dict[str, list[dict[str, Any]]]:
    """Every row of case data, by table, in the order of `table_names()`."""
    records: dict[str, list[dict[str, Any]]] = {}
    for model, belongs in _sections(case.id):
        table = model.__tablename__  # type: ignore[attr-defined]
        rows = session.exec(select(model).where(belongs).order_by(model.id))  # type: ignore[attr-defined]
        records[table] = [_row(table, row) for row in rows]
    return records


def documents(session: Session, case: Case) -> list[tuple[str, bytes]]:
    """The case's documents from every registered builder."""
    found: list[tuple[str, bytes]] = []
    for name in DOCUMENT_BUILDERS:
        module, _, function = name.partition(":")
        build: Callable[[Session, Case], Iterable[tuple[str, bytes]]] = getattr(
            importlib.import_module(module), function)
        found.extend(build(session, case))
    return found


@dataclass
class ExportSummary:
    reference: str
    tables: dict[str, int] = field(default_factory=dict)  # table -> number of rows
    documents: list[str] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(self.tables.values())


README = """Every record CoreGroup holds about case {reference}, exported on {when} (UTC).

This file holds special category personal data about children and their families. Keep it as
securely as the case file. Before sharing any of it in answer to a subject access request, check it
for information about other people that must be withheld.

- manifest.json: the case, when it was exported and by whom, and how many records each table holds.
- records/<table>.json: one file for each kind of record, each a list of records with every field
  as stored. Dates and times are in UTC. People on Slack are identified by team and user ids;
  members.json gives the name recorded for each member, and other records refer to members by id.
  The tables are: {tables}.
- documents/: the minutes and other documents made from the records, where there are any.
"""


def export_case(session: Session, *, case: Case, out: IO[bytes], actor: Actor, now: datetime) -> ExportSummary:
    """Write the case's zip to `out` and record the export in the audit trail (the caller's transaction).

    The audit event is written first, so the trail in the export shows the export itself; if writing
    fails, the caller's rollback removes the event with it.
    """
    audit.record(session, actor=actor, action="case.exported", record_type="case", record_id=case.id,
                 case_id=case.id)
    session.flush()
    records = collect(session, case)
    docs = documents(session, case)
    summary = ExportSummary(reference=case.reference, tables={t: len(rows) for t, rows in records.items()},
                            documents=[name for name, _ in docs])
    root = f"{case.reference}-export"
    manifest = {
        "reference": case.reference, "case_id": case.id, "exported_at": now.isoformat(),
        "exported_by": {"team_id": actor.team_id, "user_id": actor.user_id},
        "tables": summary.tables, "documents": summary.documents,
    }
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{root}/README.txt", README.format(
            reference=case.reference, when=f"{now:%Y-%m-%d %H:%M}", tables=", ".join(records)))
        archive.writestr(f"{root}/manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        for table, rows in records.items():
            archive.writestr(f"{root}/records/{table}.json", json.dumps(rows, indent=2, ensure_ascii=False))
        for name, content in docs:
            archive.writestr(f"{root}/documents/{name}", content)
    return summary
