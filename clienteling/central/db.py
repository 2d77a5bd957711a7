"""The centre's two storage backends behind one small interface: SQLite (a file: the demo, a single store, the tests)
and PostgreSQL (psycopg 3 with a connection pool: a chain, several centre processes, the operations team's backups).

The centre's SQL is written once, in what both speak: `?` placeholders, `INSERT … ON CONFLICT … DO NOTHING / DO
UPDATE`, `RETURNING`, `doc->>'field'` on JSON kept as text (PostgreSQL's `json` type keeps the text as it came),
`CAST`, `SAVEPOINT`. Where the two differ, the backend holds the fragment (`Database.json_object`, the customer
search) and the schema (clienteling.central.migrations).

How the change feed stays gap-free on both (issue 12): every change takes the next value of one counter row
(`meta.seq`) with `UPDATE … RETURNING`, which holds that row's lock until the transaction ends. A second writer that
needs a position waits until the first has committed or rolled back, so positions become visible in the order they
were taken, and a reader's snapshot (one transaction, REPEATABLE READ on PostgreSQL) always holds a prefix of them:
a reader never sees position N+1 while N is still to come. This is "allocating positions under a lock"; its price is
that writers which change the feed queue for the time between their first position and their commit, which the
commands keep short. (A sequence object would not do: a value taken by a transaction that commits later is
overtaken by readers, and the feed would skip that row for good.)

Work that must not run twice at once across processes (an idempotency key) takes `lock(conn, text)`: a transaction
advisory lock on PostgreSQL; nothing on SQLite, whose writers are one at a time anyway (`BEGIN IMMEDIATE`).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class Unreachable(RuntimeError):
    """The database cannot be reached or opened; the message says where and why, without a password."""


def redacted(url: str) -> str:
    """`url` without its password, for messages."""
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


def connect_postgres(url: str, **options: Any) -> Any:
    """A psycopg connection to `url`, or `Unreachable` saying where (without a password) and why."""
    import psycopg

    try:
        return psycopg.connect(url, connect_timeout=5, **options)
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise Unreachable(f"cannot reach PostgreSQL at {redacted(url)}: {reason}") from None


def is_postgres(url: str | Path) -> bool:
    return str(url).startswith(POSTGRES_SCHEMES)


class Conn:
    """One transaction's connection: `execute` takes `?` placeholders on either backend."""

    def __init__(self, raw: Any, translate) -> None:
        self.raw, self._translate = raw, translate
        self._after_commit: list[Callable[[], None]] = []

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run `action` once this write transaction has committed (never if it rolls back)."""
        self._after_commit.append(action)

    def _committed(self) -> None:
        for action in self._after_commit:
            action()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.raw.execute(self._translate(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if hasattr(self.raw, "executemany"):
            self.raw.executemany(self._translate(sql), rows)
        else:
            with self.raw.cursor() as cursor:
                cursor.executemany(self._translate(sql), rows)


class Database:
    """What the centre's storage needs of a database."""

    dialect: str
    json_object: str  # the function that makes a JSON object of key, value pairs
    where: str  # where it is, for messages (a path, or a URL without its password)

    def write(self) -> Any:  # a context manager yielding a `Conn` in a write transaction
        raise NotImplementedError

    def read(self) -> Any:  # a context manager yielding a `Conn` in one consistent snapshot
        raise NotImplementedError

    def lock(self, conn: Conn, text: str) -> None:
        """Hold `text` until the transaction ends (across processes)."""

    @contextmanager
    def pipeline(self, conn: Conn) -> Iterator[None]:
        """Within it, statements whose results are not read are sent without waiting for each answer (PostgreSQL's
        pipeline mode: one round trip per result read, not per statement); SQLite, in-process, needs none."""
        yield

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Rows of one read of its own (no transaction around several)."""
        raise NotImplementedError

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> tuple | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def close(self) -> None:
        raise NotImplementedError


# ----------------------------------------------------------------------------------------------------------- SQLite


class SqliteDatabase(Database):
    """One SQLite file in WAL mode. Writes run one at a time (a process lock and `BEGIN IMMEDIATE`, which also keeps
    other processes out); reads use one connection per thread."""

    dialect = "sqlite"
    json_object = "json_object"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.where = str(self.path)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._writer = self._connect()
        self._writer.execute("PRAGMA journal_mode=WAL")

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    @staticmethod
    def _same(sql: str) -> str:
        return sql

    @contextmanager
    def write(self) -> Iterator[Conn]:
        with self._write_lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            transaction = Conn(conn, self._same)
            try:
                yield transaction
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        transaction._committed()

    @contextmanager
    def read(self) -> Iterator[Conn]:
        conn = self._reader()
        conn.execute("BEGIN")
        try:
            yield Conn(conn, self._same)
        finally:
            conn.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return self._reader().execute(sql, tuple(params)).fetchall()

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> tuple | None:
        return self._reader().execute(sql, tuple(params)).fetchone()

    def raw_writer(self) -> sqlite3.Connection:
        """The writing connection itself, for the schema's own SQLite-only steps (migrations)."""
        return self._writer

    def close(self) -> None:
        self._writer.close()
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()


# ------------------------------------------------------------------------------------------------------- PostgreSQL

_PLACEHOLDER = re.compile(r"\?")


class PostgresDatabase(Database):
    """A PostgreSQL database through a psycopg 3 connection pool. JSON comes back as the text it was stored as."""

    dialect = "postgresql"
    json_object = "json_build_object"

    def __init__(self, url: str, *, min_size: int = 2, max_size: int = 16) -> None:
        import psycopg
        from psycopg.types.string import TextLoader
        from psycopg_pool import ConnectionPool

        self.url = url
        self.where = redacted(url)
        self._translations: dict[str, str] = {}

        def configure(conn: psycopg.Connection) -> None:
            for name in ("json", "jsonb"):  # documents are served as stored: text, not parsed
                conn.adapters.register_loader(name, TextLoader)
            conn.autocommit = True  # transactions are explicit (`conn.transaction()`)

        connect_postgres(url).close()  # a wrong URL or a server that is down is said at once, not after 30 s
        self.pool = ConnectionPool(
            url, min_size=min_size, max_size=max_size, configure=configure, open=True, timeout=30, name="clienteling"
        )

    def _translate(self, sql: str) -> str:
        found = self._translations.get(sql)
        if found is None:
            found = self._translations[sql] = _PLACEHOLDER.sub("%s", sql.replace("%", "%%"))
        return found

    @contextmanager
    def write(self) -> Iterator[Conn]:
        with self.pool.connection() as conn, conn.transaction():
            transaction = Conn(conn, self._translate)
            yield transaction
        transaction._committed()

    @contextmanager
    def read(self) -> Iterator[Conn]:
        with self.pool.connection() as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                yield Conn(conn, self._translate)
            finally:
                conn.execute("COMMIT")

    def lock(self, conn: Conn, text: str) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", (text,))

    @contextmanager
    def pipeline(self, conn: Conn) -> Iterator[None]:
        with conn.raw.pipeline():
            yield

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self.pool.connection() as conn:
            return conn.execute(self._translate(sql), tuple(params)).fetchall()

    def close(self) -> None:
        self.pool.close()


def open_database(where: str | Path) -> Database:
    """A PostgreSQL URL (`postgresql://…`) or a SQLite file path."""
    if is_postgres(where):
        return PostgresDatabase(str(where))
    return SqliteDatabase(where)
