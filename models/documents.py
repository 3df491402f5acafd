"""The minutes as Word documents: the record for the case file, and a plain-language version for the family.

A posted recap is the record (models/recap.py); `gather` adds what the documents show beside it (who it
was shared with and who said they read it, every version and why it was corrected, the review
conference date, the lead social worker). `models.minutes` and `models.family` turn that into an
outline (headings, paragraphs, bullets, tables), and `to_docx` writes an outline with python-docx,
which is imported only when a document is written.

The family version is never made from the record directly: only an approved family version
(models/family_versions.py) becomes a family document. Every document is A4.

`case_documents` is the builder `coregroup export-case` calls (models.case_export.DOCUMENT_BUILDERS).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from models import cases, names
from models import recap as records
from models import recap_posting as lifecycle
from models.tables import Case, Meeting, Member, Recap, RecapAcknowledgement, RecapStatus

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# Characters Word documents cannot hold (XML 1.0): python-docx refuses them, so they are dropped.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# An outline is a list of (kind, payload): "title", "subtitle", "h1", "h2", "p" (text), "labelled"
# ((label, text)), "bullet" (text), "table" (rows of cells, the first row the header), "pairs" (rows of
# label and value), "small" (text).
Outline = list[tuple[str, object]]


@dataclass
class Version:
    number: int
    posted: datetime | None
    reason: str | None


@dataclass
class Reader:
    name: str
    role: str
    via: str  # channel, outside_slack
    read_at: datetime | None
    shared: bool = True  # False: read by someone added to the group after it was shared


@dataclass
class Record:
    """A posted recap with what its documents show beside it."""

    content: dict
    recap_id: int
    version: int
    posted: datetime | None
    reference: str
    review_date: object | None  # date
    lead: dict | None  # {"name", "role"} of the lead social worker
    distribution: list[Reader] = field(default_factory=list)
    versions: list[Version] = field(default_factory=list)
    tz: str = "Europe/London"

    def local(self, moment: datetime | None) -> datetime | None:
        return moment.astimezone(ZoneInfo(self.tz)) if moment else None


def children_words(content: dict) -> dict[str, str]:
    """Words that follow how many children the record is about: "child", "stays" for one; "children", "stay"
    for more, or when the record does not say."""
    one = len(content.get("children") or []) == 1
    return {"children": "child" if one else "children", "stay": "stays" if one else "stay",
            "need": "needs" if one else "need", "are": "is" if one else "are"}


def is_full_record(content: dict) -> bool:
    """A record the documents can be made from (every record the app posts; not a bare test row)."""
    return isinstance(content, dict) and "schema" in content and "meeting" in content


def gather(session: Session, recap: Recap, *, tz: str = "Europe/London") -> Record:
    meeting = session.get(Meeting, recap.meeting_id)
    case = session.get(Case, meeting.case_id)
    read: dict[int, datetime] = {
        ack.member_id: ack.at for ack in session.exec(select(RecapAcknowledgement)
                                                      .where(RecapAcknowledgement.recap_id == recap.id))}
    recipients = lifecycle.recipients(session, recap.id)
    distribution = [Reader(name=names.shown(member), role=member.role, via=row.via, read_at=read.get(member.id))
                    for row, member in recipients]
    shared = {member.id for _, member in recipients}
    for member_id, at in read.items():  # read by someone added after it was shared
        member = session.get(Member, member_id)
        if member is not None and member.id not in shared:
            distribution.append(Reader(name=names.shown(member), role=member.role, via="channel", read_at=at,
                                       shared=False))
    versions = [Version(number=v.version, posted=v.posted_at, reason=v.correction_reason)
                for v in records.versions(session, meeting.id) if v.status != RecapStatus.DRAFT]
    lead = cases.lead_member(session, case.id)
    return Record(content=records.content_of(recap), recap_id=recap.id, version=recap.version,
                  posted=recap.posted_at, reference=case.reference, review_date=case.review_conference_date,
                  lead={"name": names.shown(lead), "role": lead.role} if lead else None, distribution=distribution,
                  versions=versions, tz=tz)


def posted_recaps(session: Session, case_id: int) -> list[tuple[Meeting, Recap]]:
    """Each meeting's newest posted record, oldest meeting first."""
    rows = session.exec(select(Recap, Meeting).join(Meeting, col(Meeting.id) == col(Recap.meeting_id))
                        .where(Meeting.case_id == case_id, Recap.status == RecapStatus.POSTED)
                        .order_by(col(Meeting.scheduled_start), col(Meeting.id), col(Recap.version).desc()))
    newest: dict[int, tuple[Meeting, Recap]] = {}
    for recap, meeting in rows:
        newest.setdefault(meeting.id, (meeting, recap))
    return [pair for pair in newest.values() if is_full_record(records.content_of(pair[1]))]


# --- file names ----------------------------------------------------------------------------------------------


def minutes_name(record: Record) -> str:
    number = record.content["meeting"]["number"]
    return f"{record.reference}-meeting-{number}-minutes-version-{record.version}.docx"


def family_name(record: Record) -> str:
    return f"{record.reference}-meeting-{record.content['meeting']['number']}-family-version.docx"


# --- writing Word documents ------------------------------------------------------------------------------


def clean(text: object) -> str:
    return _NOT_XML.sub("", str(text or ""))


def to_docx(outline: Iterable[tuple[str, object]], *, title: str, body_size: float = 11) -> bytes:
    """The outline as a .docx file on A4 paper (python-docx's blank document is US Letter)."""
    from docx import Document  # loaded only when a document is written
    from docx.shared import Mm, Pt

    document = Document()
    for part in document.sections:
        part.page_width, part.page_height = Mm(210), Mm(297)
        part.left_margin = part.right_margin = part.top_margin = part.bottom_margin = Mm(20)
    normal = document.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(body_size)
    document.core_properties.title = clean(title)
    document.core_properties.author = "CoreGroup"
    document.core_properties.comments = ""
    for kind, payload in outline:
        if kind == "title":
            document.add_heading(clean(payload), level=0)
        elif kind in ("h1", "h2"):
            document.add_heading(clean(payload), level=1 if kind == "h1" else 2)
        elif kind == "bullet":
            document.add_paragraph(clean(payload), style="List Bullet")
        elif kind == "labelled":
            label, text = payload  # type: ignore[misc]
            paragraph = document.add_paragraph()
            paragraph.add_run(clean(label) + ": ").bold = True
            paragraph.add_run(clean(text))
        elif kind in ("table", "pairs"):
            rows: list[list[str]] = payload  # type: ignore[assignment]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            table.style = "Table Grid"
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = clean(cell)
                    if (kind == "table" and r == 0) or (kind == "pairs" and c == 0):
                        for run in table.cell(r, c).paragraphs[0].runs:
                            run.bold = True
            document.add_paragraph()
        elif kind in ("subtitle", "small"):
            run = document.add_paragraph().add_run(clean(payload))
            run.italic = kind == "small"
            if kind == "small":
                run.font.size = Pt(max(8, body_size - 2))
        else:
            document.add_paragraph(clean(payload))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def minutes_docx(record: Record) -> bytes:
    from models.minutes import minutes_outline, minutes_title

    return to_docx(minutes_outline(record), title=minutes_title(record))


def family_docx(content: dict) -> bytes:
    """The approved family version (models.family_versions) as a document: only what was approved."""
    from models.family import family_outline, family_title

    return to_docx(family_outline(content), title=family_title(content), body_size=13)


def approved_family(session: Session, meeting_id: int) -> tuple[int, dict] | None:
    """(version number, content) of the meeting's newest approved family version, or None."""
    from models import family_versions

    row = family_versions.approved(session, meeting_id)
    return (row.version, family_versions.content_of(row)) if row is not None else None


def documents_for(record: Record, family: tuple[int, dict] | None = None) -> list[tuple[str, bytes]]:
    """(file name, bytes) of the minutes and, when one is approved, the family version."""
    files = [(minutes_name(record), minutes_docx(record))]
    if family is not None:
        files.append((family_name(record), family_docx(family[1])))
    return files


def case_documents(session: Session, case: Case) -> Iterator[tuple[str, bytes]]:
    """For `coregroup export-case`: the minutes of every meeting's newest posted record, and its approved
    family version where there is one (never an unapproved one)."""
    for meeting, recap in posted_recaps(session, case.id):
        yield from documents_for(gather(session, recap), approved_family(session, meeting.id))
