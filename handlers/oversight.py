"""Oversight on the App Home (issue 14): the section for people with a role, its chart, and its audit.

`section_for(deps, client, team_id=, user_id=)` returns the blocks to add to a person's App Home: nothing at all
for someone without a role. The figures are counted by the database (models/oversight.py); the chart is drawn
and uploaded only when the figures change (kept by a digest of them in `oversight_charts`), as a private file
of the app's, shown with an image block's `slack_file`. The figures themselves are counted at most every
FIGURES_FRESH minutes for a scope (`oversight_figures`); the cases needing attention are read every time.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict
from datetime import timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from handlers.blocks import oversight as blocks
from handlers.deps import Deps
from models import oversight, oversight_files, staff
from models.tables import OversightChart, OversightFigures

log = logging.getLogger(__name__)

CHART_TITLE = "Core groups on time, and who attends"
FIGURES_FRESH = timedelta(minutes=10)


def chart_file(deps: Deps, client: WebClient, figures: oversight.Figures) -> str | None:
    """The Slack file id of the chart of these figures: drawn and uploaded once, then found by its digest."""
    digest = hashlib.sha256(json.dumps(asdict(figures), sort_keys=True).encode()).hexdigest()
    with deps.reading() as session:
        known = session.get(OversightChart, digest)
        if known is not None:
            return known.file_id
    try:
        png = oversight_files.draw_chart(figures)
        reply = client.files_upload_v2(content=png, filename="oversight-chart.png", title=CHART_TITLE,
                                       alt_txt=oversight_files.chart_alt_text(figures))
        file_id = reply["file"]["id"]
    except (SlackApiError, SlackClientError, OSError) as exc:
        log.warning("oversight chart not uploaded: %s", type(exc).__name__)
        return None
    try:
        with deps.session() as session:
            session.add(OversightChart(digest=digest, file_id=file_id))
    except IntegrityError:  # drawn at the same moment for someone else: either file shows the same figures
        pass
    return file_id


def _scope_key(who: staff.Standing) -> str:
    """Whose figures: a whole workspace (service managers and analysts share them), or one person's cases."""
    if who.sees_workspace_figures:
        return f"workspace:{who.team_id}"
    return f"cases:{who.team_id}:{who.user_id}"


def cached_figures(deps: Deps, who: staff.Standing) -> oversight.Figures:
    """The last 12 months' figures for this person's scope: counted by the database at most once every
    FIGURES_FRESH (a whole country's figures take seconds to count; they change slowly), else read back."""
    key, now = _scope_key(who), deps.now()
    with deps.reading() as session:
        kept = session.get(OversightFigures, key)
        if kept is not None and timedelta(0) <= now - kept.computed_at < FIGURES_FRESH \
                and kept.computed_at.astimezone(deps.tz).date() == deps.today():
            return oversight.Figures(**json.loads(kept.figures))
        figures = oversight.figures(session, scope=staff.scope_sql(who), today=deps.today())
    values = {"scope_key": key, "computed_at": now, "figures": json.dumps(asdict(figures))}
    with deps.session() as session:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(OversightFigures).values(values)
        session.execute(statement.on_conflict_do_update(
            index_elements=["scope_key"], set_={"computed_at": statement.excluded.computed_at,
                                                "figures": statement.excluded.figures}))
    return figures


def section_for(deps: Deps, client: WebClient, *, team_id: str, user_id: str, room: int = 20) -> list[dict]:
    """The Oversight blocks for this person's App Home, audited; [] when they have no role."""
    today = deps.today()
    with deps.reading() as session:
        who = staff.standing(session, team_id=team_id, user_id=user_id)
    if not who.any:
        return []
    # Read without the write lock (SQLite): only temporary tables are written (and, once, the working days).
    with deps.reading() as session:
        attention, total = [], 0
        if who.sees_cases:
            attention, total = oversight.needing_attention(session, cases_sql=staff.visible_cases_sql(who),
                                                           today=today)
    figures = cached_figures(deps, who)
    with deps.session() as session:
        staff.record_view(session, who, what="home_viewed", cases=len(attention))
    file_id = chart_file(deps, client, figures)
    return blocks.section(roles=who.role_names, sees_cases=who.sees_cases, attention=attention,
                          attention_total=total, figures=figures, chart_file_id=file_id,
                          alt_text=oversight_files.chart_alt_text(figures), room=room)
