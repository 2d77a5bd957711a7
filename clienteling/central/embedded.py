"""The demo centre inside the app's own process, so that a first run needs nothing else.

Used when no central URL is configured: the demo chain is made once in the data folder and served on a
free loopback port in a background thread; the device then talks to it over real HTTP as to any centre.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from clienteling.central.app import create_app
from clienteling.central.demo import ensure_demo
from clienteling.central.store import CentralStore

DEMO_STORE = "AMS01"


@dataclass
class EmbeddedCentre:
    url: str
    token: str
    store: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def start_embedded_demo(data_dir: Path, customers: int = 5000, store: str = DEMO_STORE) -> EmbeddedCentre:
    """Make (once) and serve the demo chain from `data_dir`/central-demo.db on 127.0.0.1; returns when it answers."""
    db = Path(data_dir) / "central-demo.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    ensure_demo(db, customers)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        create_app(CentralStore(db), demo=True),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=1,  # the device's long poll (GET /v1/sync/wait) must not hold the app's exit
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="clienteling-demo-centre", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise RuntimeError("the embedded demo centre did not start")
    return EmbeddedCentre(f"http://127.0.0.1:{port}", f"demo-{store}", store, server, thread)
