"""The centre's schema migrations (`clienteling central migrate`): a database of an older centre is brought up to date
on either backend, keeping its data; a newer one is refused untouched."""

from __future__ import annotations

import pytest
from conftest import clienteling, database_for, drop_postgres_database

from clienteling.central.db import open_database
from clienteling.central.migrations import INTEGRATION_TABLES, SCHEMA_VERSION, migrate
from clienteling.central.store import CentralStore

pytestmark = pytest.mark.both_backends

V5_TABLES = [
    line.split("EXISTS ", 1)[1].split(" ", 1)[0] for line in INTEGRATION_TABLES.splitlines() if "TABLE" in line
]


@pytest.fixture
def database(backend, tmp_path):
    where = database_for(backend, tmp_path)
    yield where
    if backend == "postgresql":
        drop_postgres_database(str(where))


def _rows(where, sql: str) -> list[tuple]:
    db = open_database(where)
    try:
        return db.query(sql)
    finally:
        db.close()


def _as_version_4(where) -> None:
    """Make `where` what a centre of schema version 4 left: without version 5's tables."""
    db = open_database(where)
    try:
        with db.write() as conn:
            for table in V5_TABLES:
                conn.execute(f"DROP TABLE {table}")
            conn.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    finally:
        db.close()


def test_a_version_4_database_gains_the_integration_tables_and_keeps_its_data(database) -> None:
    store = CentralStore(database)
    token = store.add_admin("kept")
    store.close()
    _as_version_4(database)
    assert _rows(database, "SELECT value FROM meta WHERE key = 'schema_version'") == [("4",)]

    result = clienteling("central", "migrate", "--db", str(database))

    assert result.returncode == 0, result.stderr
    assert _rows(database, "SELECT value FROM meta WHERE key = 'schema_version'") == [(str(SCHEMA_VERSION),)]
    for table in V5_TABLES:
        assert _rows(database, f"SELECT count(*) FROM {table}") == [(0,)]
    again = CentralStore(database)
    try:
        assert again.is_admin(token)  # what the older centre held is still there
    finally:
        again.close()


def test_migrating_twice_changes_nothing_the_second_time(database) -> None:
    db = open_database(database)
    try:
        first = migrate(db)
        second = migrate(db)
    finally:
        db.close()
    assert first.steps == ["made the schema"] and (first.before, first.after) == (0, SCHEMA_VERSION)
    assert second.steps == [] and second.before == SCHEMA_VERSION


def test_a_version_6_database_gains_the_activities_and_keeps_its_data(database) -> None:
    store = CentralStore(database)
    token = store.add_admin("kept")
    store.close()
    db = open_database(database)
    try:
        with db.write() as conn:
            conn.execute("DROP TABLE activities")
            conn.execute("UPDATE meta SET value = '6' WHERE key = 'schema_version'")
    finally:
        db.close()

    result = clienteling("central", "migrate", "--db", str(database))

    assert result.returncode == 0, result.stderr
    assert _rows(database, "SELECT value FROM meta WHERE key = 'schema_version'") == [(str(SCHEMA_VERSION),)]
    assert _rows(database, "SELECT count(*) FROM activities") == [(0,)]
    again = CentralStore(database)
    try:
        assert again.is_admin(token)
    finally:
        again.close()
