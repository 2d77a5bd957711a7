"""Fixtures: a real centre (uvicorn, in its own process) on a free loopback port, over a small demo chain."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

DEMO_CUSTOMERS = 400


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Central:
    """A running centre: its URL, its database file and its process."""

    url: str
    db: Path
    process: subprocess.Popen

    def client(self, token: str | None = "demo-AMS01") -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_central(db: Path, *args: str, env: dict | None = None, port: int | None = None) -> Central:
    """Start `clienteling central` on a (free) loopback port and wait until /health answers."""
    port = port or free_port()
    with open(db.with_suffix(".log"), "ab") as log:  # the child keeps its own handle
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
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the centre exited with {process.returncode}: {db.with_suffix('.log').read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return Central(url, db, process)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the centre did not answer /health within 60 s")


@pytest.fixture(scope="session")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Central]:
    """One demo centre for the session; tests that change data use their own customers and SKUs."""
    db = tmp_path_factory.mktemp("central") / "central.db"
    server = start_central(db, "--demo", "--customers", str(DEMO_CUSTOMERS))
    yield server
    server.stop()


@pytest.fixture
def fresh_central(tmp_path: Path) -> Iterator[Central]:
    """A demo centre of this test's own, for tests that count everything or prune the feed."""
    server = start_central(tmp_path / "central.db", "--demo", "--customers", "60")
    yield server
    server.stop()


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
