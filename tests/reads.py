"""Reading the database from a test while the app runs: one short session per read.

SQLite takes its write lock at BEGIN (see models/db.py), so a test that kept a session open across
requests would make the app wait for it. Each read here opens, reads and closes.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session


def rows(app, query) -> list[Any]:
    with Session(app.engine, expire_on_commit=False) as session:
        return list(session.exec(query).all())


def one(app, query) -> Any:
    with Session(app.engine, expire_on_commit=False) as session:
        return session.exec(query).one()


def get(app, model, record_id) -> Any:
    with Session(app.engine, expire_on_commit=False) as session:
        return session.get(model, record_id)
