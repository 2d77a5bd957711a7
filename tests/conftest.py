"""Fixtures: a real centre (uvicorn, in its own process) on a free loopback port, over a small demo chain."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

DEMO_CUSTOMERS = 400
BACKENDS = ("sqlite", "postgresql")
TEST_PG = os.environ.get("CLIENTELING_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
"""The PostgreSQL server the PostgreSQL runs use: each centre gets a database of its own on it, dropped after."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A module marked `both_backends` runs each of its centre tests on SQLite and on PostgreSQL."""
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_backends"):
        metafunc.parametrize("backend", BACKENDS, indirect=True, scope="session")


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    """The centre's database: `sqlite` unless the module runs on both (`pytest.mark.both_backends`)."""
    return getattr(request, "param", "sqlite")


def postgres_or_skip() -> str:
    """`CLIENTELING_TEST_PG` if a PostgreSQL server answers there; else skip, or fail under CI (where it must be)."""
    import psycopg

    try:
        with psycopg.connect(TEST_PG, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        message = f"no PostgreSQL at {TEST_PG} ({type(error).__name__}); set CLIENTELING_TEST_PG"
        if os.environ.get("CI"):
            pytest.fail(f"{message}: under CI the PostgreSQL tests must run")
        pytest.skip(message)
    return TEST_PG


def new_postgres_database() -> str:
    """A new, empty database on the test server, as a URL; `drop_postgres_database` removes it."""
    import psycopg

    server = postgres_or_skip()
    name = f"clienteling_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.rsplit("/", 1)[0] + "/" + name


def drop_postgres_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(TEST_PG, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def database_for(backend: str, folder: Path) -> str | Path:
    """Where a test's centre keeps its data: a file in `folder`, or a new PostgreSQL database."""
    return new_postgres_database() if backend == "postgresql" else folder / "central.db"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Central:
    """A running centre: its URL, its database file and its process."""

    url: str
    db: Path | str  # the SQLite file, or the PostgreSQL URL
    process: subprocess.Popen
    log: Path | None = None  # where its output goes

    def client(self, token: str | None = "demo-AMS01") -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Rows of the centre's database as it holds them now, on either backend (`?` placeholders)."""
        if isinstance(self.db, Path):
            with sqlite3.connect(f"{self.db.resolve().as_uri()}?mode=ro", uri=True, timeout=30) as conn:
                return conn.execute(sql, params).fetchall()
        import psycopg

        with psycopg.connect(self.db) as conn:
            return conn.execute(sql.replace("%", "%%").replace("?", "%s"), params).fetchall()

    def execute(self, sql: str, params: tuple = ()) -> None:
        """Change the centre's database behind its back (what a test of damage or of an operator's slip needs), on
        either backend (`?` placeholders)."""
        if isinstance(self.db, Path):
            with sqlite3.connect(self.db, timeout=30) as conn:
                conn.execute(sql, params)
            return
        import psycopg

        with psycopg.connect(self.db) as conn:
            conn.execute(sql.replace("%", "%%").replace("?", "%s"), params)

    @property
    def is_postgres(self) -> bool:
        return not isinstance(self.db, Path)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_central(
    db: Path | str, *args: str, env: dict | None = None, port: int | None = None, log: Path | None = None
) -> Central:
    """Start `clienteling central` on a (free) loopback port and wait until /health answers. `db` is a SQLite file
    or a PostgreSQL URL (then `log` says where its output goes; by default beside a file database)."""
    port = port or free_port()
    log_path = log or (Path(db).with_suffix(".log") if isinstance(db, Path) else Path(f"/tmp/clienteling-{port}.log"))
    with open(log_path, "ab") as output:  # the child keeps its own handle
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "clienteling",
                "central",
                "--db",
                str(db),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                *args,
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the centre exited with {process.returncode}: {log_path.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return Central(url, db, process, log_path)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the centre did not answer /health within 60 s")


@contextmanager
def demo_centre(backend: str, folder: Path, customers: int, *args: str, env: dict | None = None) -> Iterator[Central]:
    """A demo centre with `customers` customers on `backend` (its file or database made for it in `folder`), with
    `env` added to its environment, stopped (and its PostgreSQL database dropped) afterwards."""
    db = database_for(backend, folder)
    server = start_central(db, "--demo", "--customers", str(customers), *args, env=env, log=folder / "central.log")
    try:
        yield server
    finally:
        server.stop()
        if backend == "postgresql":
            drop_postgres_database(str(db))


@pytest.fixture(scope="session")
def central(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[Central]:
    """One demo centre for the session (per backend); tests that change data use their own customers and SKUs."""
    with demo_centre(backend, tmp_path_factory.mktemp("central"), DEMO_CUSTOMERS) as server:
        yield server


@pytest.fixture
def fresh_central(tmp_path: Path, backend: str) -> Iterator[Central]:
    """A demo centre of this test's own, for tests that count everything or prune the feed."""
    with demo_centre(backend, tmp_path, 60) as server:
        yield server


@pytest.fixture
def api(central: Central) -> Iterator[httpx.Client]:
    """A client of the session's centre, signed in as a device of Amsterdam (AMS01)."""
    with central.client() as client:
        yield client


def clienteling(*args: str) -> subprocess.CompletedProcess:
    """Run the `clienteling` command as a user would, in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "clienteling", *args], check=False, capture_output=True, text=True, timeout=120
    )


def new_key() -> str:
    return str(uuid.uuid4())


def playwright_or_skip(what: str, *, module: bool = False):
    """Playwright's `sync_playwright`, with Debian's Chromium there to drive. Without them a test is skipped on a
    developer's machine, but fails under CI, so that CI never passes without having run the browser tests."""
    from clienteling.bench_ui import CHROMIUM

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the test extras install it
        sync_playwright = None
    if sync_playwright is None or not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            raise RuntimeError(f"{what} need playwright and Chromium at {CHROMIUM}; CI must install them")
        pytest.skip("no Chromium or playwright on this machine", allow_module_level=module)
    return sync_playwright
