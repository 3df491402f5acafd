"""The trajectory chart: a standing scaling question's scores across the meetings, as a PNG.

`trajectory` reads what to draw (pure data, from `models.scaling.series`); `draw` turns it into PNG
bytes with matplotlib's Agg canvas. matplotlib is imported inside `draw` only, so the running app does
not load it until a chart is drawn (it costs tens of megabytes; see bench/idle_memory.py).

The chart is read in Slack's preview, so it is drawn large (1200 × 700) with big type, and everything
on it is in plain words: dates as "8 Dec", the axis as "Score (0 to 10)", what 0 and 10 mean, "middle
score" rather than median.
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from sqlmodel import Session

from models import scaling
from models.tables import Meeting, ScalingQuestion

WIDTH, HEIGHT = 1200, 700
DPI = 100
# Okabe and Ito's colours, told apart by people with colour blindness; each person also has their own marker.
PEOPLE_COLOURS = ("#0072B2", "#D55E00", "#CC79A7", "#E69F00", "#56B4E9", "#8C510A", "#6A3D9A", "#999999")
MARKERS = ("o", "s", "^", "v", "P", "X", "h", "<")
MIDDLE_COLOUR = "#000000"
GOAL_COLOUR = "#009E73"
MIDDLE_LABEL = "Middle score"


@dataclass
class Person:
    """One member's scores, one per meeting (None where they gave none)."""

    label: str
    scores: list[int | None]


@dataclass
class Trajectory:
    question: str
    zero_means: str
    ten_means: str
    days: list[date]
    medians: list[float | None]
    people: list[Person] = field(default_factory=list)
    goal: int | None = None
    child: str | None = None


def day_label(day: date, *, with_year: bool = False) -> str:
    """"8 Dec", or "8 Dec 2026" when the chart spans more than one year."""
    return f"{day.day} {day:%b %Y}" if with_year else f"{day.day} {day:%b}"


def _score_text(value: float | None) -> str:
    if value is None:
        return "none"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def trajectory(session: Session, question_id: int, *, up_to: Meeting | None = None,
               tz: str | ZoneInfo | None = None) -> Trajectory | None:
    """The question's scores at every meeting it was scored at (up to `up_to`), or None if never scored. Each
    meeting's day is taken in `tz` (the app's COREGROUP_TIMEZONE; by default the configured calendar's)."""
    question = session.get(ScalingQuestion, question_id)
    if question is None:
        return None
    rows = [(meeting, summary) for meeting, summary in scaling.series(session, question_id)
            if summary.scores and (up_to is None or meeting.scheduled_start <= up_to.scheduled_start)]
    if not rows:
        return None
    order: list[int] = []
    labels: dict[int, tuple[str, str]] = {}
    by_family: set[int] = set()  # scores given by the family, recorded on their behalf
    for _, summary in rows:
        for line in summary.scores:
            if line.member_id not in labels:
                order.append(line.member_id)
                labels[line.member_id] = (line.role, line.name)
            if line.recorded_by:
                by_family.add(line.member_id)
    roles = [role for role, _ in labels.values()]
    people = []
    for member_id in order:
        role, name = labels[member_id]
        label = role if roles.count(role) == 1 else f"{role} ({name})"
        if member_id in by_family:
            label += ", given by the family"
        scores = []
        for _, summary in rows:
            mine = next((line.score for line in summary.scores if line.member_id == member_id), None)
            scores.append(mine)
        people.append(Person(label=label, scores=scores))
    last = rows[-1][1]
    return Trajectory(question=question.question, zero_means=question.zero_means, ten_means=question.ten_means,
                      days=[scaling.meeting_date(meeting, tz) for meeting, _ in rows],
                      medians=[summary.median for _, summary in rows], people=people, goal=question.goal,
                      child=last.child_label)


def questions_to_chart(session: Session, meeting: Meeting) -> list[int]:
    """Standing questions asked at this meeting, in the order they were asked."""
    standing = {q.id for q in scaling.standing_questions(session, meeting.case_id)}
    return [r.question_id for r in scaling.rounds_for_meeting(session, meeting.id) if r.question_id in standing]


def alt_text(chart: Trajectory) -> str:
    """What the chart shows, in words, for people who cannot see it (Slack's alt text for images)."""
    with_year = len({d.year for d in chart.days}) > 1
    steps = ", ".join(f"{_score_text(m)} on {day_label(d, with_year=with_year)}"
                      for d, m in zip(chart.days, chart.medians, strict=True))
    text = f"Chart of the scores for “{chart.question}”. Middle score: {steps}."
    if chart.goal is not None:
        text += f" The goal is {chart.goal}."
    return text[:1000]


def title_lines(question: str, *, width: int = 58, most: int = 3) -> list[str]:
    lines = textwrap.wrap(question, width) or [""]
    if len(lines) > most:
        lines = lines[:most]
        lines[-1] = lines[-1][: width - 1].rstrip() + "…"
    return lines


def legend_label(text: str, *, width: int = 22) -> str:
    """At most two lines, so that the legend stays inside the picture."""
    return "\n".join(title_lines(text, width=width, most=2))


def _one_line(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def draw(chart: Trajectory, *, width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """The chart as PNG bytes, `width` × `height` pixels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # loaded only when a chart is drawn
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    title = title_lines(chart.question)
    top = 0.97 - 0.058 * len(title) - (0.05 if chart.child else 0.0)
    axes = figure.add_axes((0.075, 0.22, 0.63, top - 0.24))
    figure.text(0.5, 0.975, "\n".join(title), ha="center", va="top", fontsize=23, fontweight="bold",
                linespacing=1.15)
    if chart.child:
        figure.text(0.5, 0.975 - 0.058 * len(title), f"About {_one_line(chart.child, 60)}", ha="center", va="top",
                    fontsize=17, color="#333333")

    count = len(chart.days)
    positions = list(range(count))
    with_year = len({d.year for d in chart.days}) > 1
    spread = 0.05 if count > 1 else 0.03
    for index, person in enumerate(chart.people):
        offset = (index - (len(chart.people) - 1) / 2) * spread  # people with the same score stay visible
        xs = [x + offset for x, s in zip(positions, person.scores, strict=True) if s is not None]
        ys = [s for s in person.scores if s is not None]
        axes.plot(xs, ys, color=PEOPLE_COLOURS[index % len(PEOPLE_COLOURS)], marker=MARKERS[index % len(MARKERS)],
                  markersize=11, linewidth=2.5, label=legend_label(person.label))
    middle = [(x, m) for x, m in zip(positions, chart.medians, strict=True) if m is not None]
    if middle:
        axes.plot([x for x, _ in middle], [m for _, m in middle], color=MIDDLE_COLOUR, marker="D", markersize=14,
                  linewidth=5, label=MIDDLE_LABEL, zorder=5)
    if chart.goal is not None:
        axes.axhline(chart.goal, color=GOAL_COLOUR, linestyle="--", linewidth=3.5, label=f"Goal: {chart.goal}",
                     zorder=1)

    axes.set_ylim(-0.5, 10.8)
    axes.set_yticks(range(11))
    axes.set_ylabel("Score (0 to 10)", fontsize=18)
    axes.set_xlim(-0.6 if count > 1 else -1, count - 0.4 if count > 1 else 1)
    axes.set_xticks(positions)
    axes.set_xticklabels([f"{day_label(d, with_year=with_year)}\nmiddle score {_score_text(m)}"
                          for d, m in zip(chart.days, chart.medians, strict=True)])
    axes.tick_params(labelsize=16)
    axes.grid(axis="y", color="#dddddd", linewidth=1)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=15 if len(chart.people) <= 8 else 12,
                frameon=False, borderaxespad=0)
    figure.text(0.02, 0.075, f"10 means: {_one_line(chart.ten_means, 115)}", fontsize=15, va="bottom")
    figure.text(0.02, 0.025, f"0 means: {_one_line(chart.zero_means, 115)}", fontsize=15, va="bottom")

    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI, facecolor="white")
    return out.getvalue()


def filename(index: int) -> str:
    """No question text in the name: it may name a child's situation, and file names travel further."""
    return f"scaling-chart-{index}.png"
