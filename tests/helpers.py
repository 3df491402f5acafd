"""Steps many tests share: find the modal the app opened, set up a case through the real flow."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlmodel import SQLModel

from handlers.ids import Block, View


def opened_view(slack, callback_id: str) -> dict:
    """The newest modal the app opened, pushed or updated with this callback id, as Slack holds it."""
    for call in reversed(slack.calls):
        if call.method in ("views.open", "views.push", "views.update") and call.response.get("ok"):
            view = call.response.get("view") or {}
            if view.get("callback_id") == callback_id:
                return view
    seen = [c.args.get("view", {}).get("callback_id") if isinstance(c.args.get("view"), dict) else None
            for c in slack.calls if c.method.startswith("views.")]
    raise AssertionError(f"no {callback_id} view was opened; views seen: {seen}")


def posted(slack, channel: str, containing: str = "") -> list[dict]:
    """Messages posted in a channel whose text or blocks contain `containing`."""
    return [m for m in slack.messages(channel)
            if containing in (m.get("text") or "") or containing in json.dumps(m.get("blocks") or [])]


def ephemeral_texts(slack) -> list[str]:
    """What only the asker was shown: ephemeral messages and response-URL replies."""
    texts = []
    for call in slack.calls:
        if call.method in ("chat.postEphemeral", "response_url"):
            texts.append((call.args.get("text") or "") + json.dumps(call.args.get("blocks") or []))
    return texts


@dataclass
class CaseInfo:
    case_id: int
    channel_id: str
    reference: str


def new_case(people, slack, *, reference: str = "CP-TEST-0001", creator: str = "sw",
             members: tuple[str, ...] = ("hv", "teacher"), children: str = "Child A (7)",
             initial: str = "2026-11-16", review: str | None = "2027-02-08", frequency: int = 6) -> CaseInfo:
    """Create a case through `/coregroup new`, as a social worker would."""
    from sqlmodel import Session, select

    from models.tables import Case

    user = people[creator]
    user.command("new")
    view = opened_view(slack, View.NEW_CASE)
    values = {
        Block.REFERENCE: reference, Block.CHILDREN: children, Block.INITIAL: initial, Block.REVIEW: review,
        Block.FREQUENCY: frequency, Block.PROFESSIONALS: [people[k].user_id for k in members],
        Block.LEAD: user.user_id,
    }
    reply = user.submit(view, values)
    assert reply.status == 200 and reply.body == "", reply.body
    with Session(user.app.engine) as session:
        case = session.exec(select(Case).where(Case.reference == reference.upper())).one()
        return CaseInfo(case_id=case.id, channel_id=case.channel_id, reference=case.reference)


def schedule_meeting(people, slack, case: CaseInfo, *, by: str = "sw", date: str | None = None,
                     time: str = "10:00", length: int = 90, location: str = "Meeting room 2, Civic Centre",
                     chair: str | None = None):
    """Schedule the case's next meeting through `/coregroup schedule` (the suggested date unless given).

    Returns the Meeting row. `chair` is a key of `people`; the rotation's suggestion when not given.
    """
    from sqlmodel import Session, select

    from models.tables import Meeting, Member

    user = people[by]
    user.command("schedule", channel=case.channel_id)
    view = opened_view(slack, View.SCHEDULE)
    values: dict = {Block.TIME: time, Block.LENGTH: length, Block.LOCATION: location}
    if date is not None:
        values[Block.DATE] = date
    with Session(user.app.engine) as session:
        if chair is not None:
            member = session.exec(select(Member).where(Member.case_id == case.case_id,
                                                       Member.slack_user_id == people[chair].user_id)).one()
            values[Block.CHAIR] = str(member.id)
    reply = user.submit(view, values)
    assert reply.status == 200 and reply.body == "", reply.body
    with Session(user.app.engine) as session:
        return session.exec(select(Meeting).where(Meeting.case_id == case.case_id)
                            .order_by(Meeting.id.desc())).first()


def mark_the_rest(view: dict, status: str = "present") -> dict:
    """The start form's values with everyone not yet marked marked as `status` (the chair's choice)."""
    return {block["block_id"]: status for block in view.get("blocks", [])
            if block.get("block_id", "").startswith(f"{Block.START_ATTENDANCE}_")
            and not block["element"].get("initial_option")}


def every_row(engine, *, leaving_out: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    """Every row of every table (but those left out) as the database holds it, in primary-key order: two of these
    are equal exactly when nothing was added, changed or removed. Read through the driver's own cursor, in one
    transaction: thousands of rows (the working-days calendar) a table, taken hundreds of times a test."""
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")  # the transaction the reads share
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            rows = {}
            for table in SQLModel.metadata.sorted_tables:
                if table.name in leaving_out:
                    continue
                order = ", ".join(f'"{column.name}"' for column in table.primary_key.columns)
                cursor.execute(f'SELECT * FROM "{table.name}" ORDER BY {order}')
                rows[table.name] = cursor.fetchall()
            return rows
        finally:
            cursor.close()
