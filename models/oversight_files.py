"""The oversight report as files: CSV, an Excel workbook (openpyxl), and the month-by-month chart (matplotlib).

No case reference, child's label or text is in any of them: only figures by month, organisation or team.
matplotlib and openpyxl are imported inside the functions that use them, so the running app loads them only
when a report or chart is made.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from models.oversight import MEASURES, Figures, Report, Table

CSV_HEADER = ("Measure", "Group", "Organisation", "Figure", "Value")
# Okabe and Ito's colours (told apart with colour blindness), as in models/chart.py.
ON_TIME, LATE = "#009E73", "#D55E00"
ATTENDANCE_COLOURS = ("#0072B2", "#56B4E9", "#E69F00", "#CC79A7")
ATTENDANCE_KEYS = (("present", "Present"), ("apologies_update", "Apologies with written update"),
                   ("apologies_only", "Apologies without update"), ("absent", "Absent"))
WIDTH, HEIGHT, DPI = 1400, 760, 100


def _period(report: Report) -> str:
    return f"{report.start:%-d %B %Y} to {report.end:%-d %B %Y}"


def to_csv(report: Report) -> bytes:
    """One row per figure: measure, group (month, organisation or team), organisation (for the measures counted
    by organisation), what is counted, how many. Easy to pivot for a performance return."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for table in report.tables:
        for row in table.rows:
            for column in table.measure.columns:
                writer.writerow((table.measure.title, row["group"], row.get("organisation", ""), column.label,
                                 row[column.key]))
    return out.getvalue().encode("utf-8")


def _sheet_title(title: str, used: set[str]) -> str:
    name = "".join(ch for ch in title if ch not in "[]:*?/\\")[:31]
    base, n = name, 2
    while name in used:
        name = f"{base[:28]} {n}"
        n += 1
    used.add(name)
    return name


def to_xlsx(report: Report) -> bytes:
    """A workbook: a definitions sheet first, then one sheet per measure (a header, a row per group, totals)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = "Definitions"
    sheet.append(["CoreGroup oversight report"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([f"Period: {_period(report)}. Grouped by {report.by}."])
    sheet.append(["Working days skip weekends and England and Wales bank holidays. A core group counts as held"
                  " once its record is posted. No case reference, child's name or text is in this workbook."])
    sheet.append([])
    sheet.append(["Sheet", "Measure", "What it counts"])
    for cell in sheet[5]:
        cell.font = Font(bold=True)
    used = {"Definitions"}
    names = {}
    for measure in MEASURES:
        names[measure.key] = _sheet_title(measure.title, used)
    for table in report.tables:
        sheet.append([names[table.measure.key], table.measure.title, table.measure.definition])
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 44
    sheet.column_dimensions["C"].width = 110
    for row in sheet.iter_rows(min_row=6):
        row[2].alignment = Alignment(wrap_text=True, vertical="top")

    for table in report.tables:
        ws = book.create_sheet(names[table.measure.key])
        header = [table.group_label] + (["Organisation"] if _per_org(table) else []) \
            + [c.label for c in table.measure.columns]
        ws.append(header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            ws.append([row["group"]] + ([row["organisation"]] if _per_org(table) else [])
                      + [row[c.key] for c in table.measure.columns])
        totals = ["Total"] + ([""] if _per_org(table) else []) + [
            (max((r[c.key] for r in table.rows), default=0) if c.key.startswith("most") else table.total(c.key))
            for c in table.measure.columns]
        ws.append(totals)
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for index, label in enumerate(header, start=1):
            ws.column_dimensions[get_column_letter(index)].width = max(14, min(40, len(str(label)) + 4))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _per_org(table: Table) -> bool:
    return table.by_organisation


def month_label(key: str) -> str:
    year, month = key.split("-")
    return f"{date(int(year), int(month), 1):%b}\n{year}"


def chart_alt_text(figures: Figures) -> str:
    held = sum(figures.on_time) + sum(figures.late)
    text = (f"Chart of core groups on time by month, {figures.months[0]} to {figures.months[-1]}:"
            f" {sum(figures.on_time)} of {held} on time.")
    if figures.attendance:
        parts = [f"{row['organisation']}: {row['present']} present, {row['apologies_update']} apologies with an"
                 f" update, {row['apologies_only']} without, {row['absent']} absent" for row in figures.attendance]
        text += " Attendance by organisation: " + "; ".join(parts) + "."
    return text[:2000]


def draw_chart(figures: Figures, *, title: str = "Core groups: on time, and who attends") -> bytes:
    """Two panels: core groups on time and late, month by month; attendance by organisation."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    figure.text(0.5, 0.97, title, ha="center", va="top", fontsize=22, fontweight="bold")
    left = figure.add_axes((0.06, 0.2, 0.4, 0.66))
    xs = list(range(len(figures.months)))
    left.bar(xs, figures.on_time, color=ON_TIME, label="On time")
    left.bar(xs, figures.late, bottom=figures.on_time, color=LATE, label="Late or overdue", hatch="//",
             edgecolor="white")
    left.set_xticks(xs)
    left.set_xticklabels([month_label(m) for m in figures.months], fontsize=11)
    left.set_title("Core groups due, by month", fontsize=16)
    left.set_ylabel("Core groups", fontsize=14)
    left.yaxis.get_major_locator().set_params(integer=True)
    left.legend(loc="upper left", fontsize=12, frameon=False)
    right = figure.add_axes((0.62, 0.2, 0.35, 0.66))
    orgs = [row["organisation"] for row in figures.attendance]
    ys = list(range(len(orgs)))
    lefts = [0] * len(orgs)
    for (key, label), colour in zip(ATTENDANCE_KEYS, ATTENDANCE_COLOURS, strict=True):
        values = [row[key] for row in figures.attendance]
        right.barh(ys, values, left=lefts, color=colour, label=label)
        lefts = [a + b for a, b in zip(lefts, values, strict=True)]
    right.set_yticks(ys)
    right.set_yticklabels([o if len(o) <= 24 else o[:23] + "…" for o in orgs], fontsize=12)
    right.invert_yaxis()
    right.set_title("Attendance by organisation", fontsize=16)
    right.set_xlabel("Invitations to core groups held", fontsize=13)
    right.xaxis.get_major_locator().set_params(integer=True)
    right.legend(loc="upper center", bbox_to_anchor=(0.4, -0.12), ncol=2, fontsize=11, frameon=False)
    if not orgs:
        right.text(0.5, 0.5, "No core groups held yet", ha="center", va="center", transform=right.transAxes,
                   fontsize=14)
    for axes in (left, right):
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI, facecolor="white")
    return out.getvalue()
