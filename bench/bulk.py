"""Bulk loading for the benchmarks: rows generated in Python put into a freshly migrated database the fast way
each database offers, with the secondary indexes (and on PostgreSQL the unique and foreign key constraints) built
and checked once at the end, as both databases' bulk-loading advice says.

`columns`: each table's column names, in load order (parents first); `data`: each table's rows, as tuples in
that column order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

Columns = Mapping[str, Sequence[str]]
Data = Mapping[str, Iterable[tuple]]


def stored(value):
    """A value as SQLAlchemy stores it in SQLite (a naive UTC datetime or a date as ISO text)."""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def load(engine, columns: Columns, data: Data) -> None:
    (load_sqlite if engine.dialect.name == "sqlite" else load_postgresql)(engine, columns, data)


def load_sqlite(engine, columns: Columns, data: Data) -> None:
    """executemany in one transaction, with foreign keys unchecked and the secondary indexes built once at the
    end (the same CREATE INDEX statements the migration made); then the foreign keys are checked."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for pragma in ("foreign_keys=OFF", "synchronous=OFF", "cache_size=-400000"):
            cursor.execute(f"PRAGMA {pragma}")
        tables = ", ".join(f"'{t}'" for t in columns)
        indexes = cursor.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                                 f" AND tbl_name IN ({tables})").fetchall()
        cursor.execute("BEGIN")
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        for table, names in columns.items():
            marks = ", ".join("?" for _ in names)
            cursor.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})",
                               ([stored(v) for v in row] for row in data[table]))
        for _, sql in indexes:
            cursor.execute(sql)
        cursor.execute("COMMIT")
        cursor.execute("PRAGMA foreign_key_check")
        assert cursor.fetchall() == [], "the generated rows break a foreign key"
        cursor.execute("ANALYZE")
    finally:
        raw.close()


def load_postgresql(engine, columns: Columns, data: Data) -> None:
    """COPY, with the secondary indexes, unique and foreign key constraints dropped first and put back afterwards
    (so they are built and checked once, in bulk), and each id sequence moved past the loaded ids."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        names = list(columns)
        cursor.execute("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
                       " WHERE conrelid::regclass::text = ANY(%s) AND contype IN ('f', 'u')", (names,))
        constraints = cursor.fetchall()
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)"
                       " AND indexname NOT IN (SELECT conname FROM pg_constraint)", (names,))
        indexes = cursor.fetchall()
        for table, name, _ in constraints:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        for table, table_columns in columns.items():
            with cursor.copy(f"COPY {table} ({', '.join(table_columns)}) FROM STDIN") as copy:
                for row in data[table]:
                    copy.write_row(row)
            if "id" in table_columns:
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                               f" (SELECT max(id) FROM {table}))")
        for _, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in sorted(constraints, key=lambda c: " FOREIGN" in c[2]):  # unique first
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
