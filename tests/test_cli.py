"""The `clienteling` command as a user types it: `app` is the default, and the app is served to this machine only
unless `--host` says otherwise, also on a machine without a display (where Flet would serve every interface)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import flet
import httpx
import pytest
from conftest import free_port

from clienteling import cli
from clienteling.ui import app as ui_app


@pytest.fixture
def served(monkeypatch):
    """What the app would have asked Flet to do: `ft.run`'s keywords (nothing is served, no centre is started)."""
    calls: list[dict] = []
    monkeypatch.setattr(flet, "run", lambda main, **kwargs: calls.append(kwargs))
    monkeypatch.setattr(ui_app, "shared_device", lambda: None)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("FLET_FORCE_WEB_SERVER", raising=False)  # run() sets it for --web; restored afterwards
    monkeypatch.delenv("FLET_SERVER_IP", raising=False)
    monkeypatch.delenv("CLIENTELING_REQUIRE_SETUP", raising=False)
    return calls


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a machine without a display is a Linux one here")
def test_no_arguments_without_a_display_serves_loopback_only(served):
    assert cli.main([]) == 0
    assert served[-1]["host"] == "127.0.0.1" and served[-1]["port"] == cli.APP_PORT
    assert served[-1]["view"] == flet.AppView.WEB_BROWSER


@pytest.mark.parametrize(
    ("argv", "host", "port"),
    [
        (["app", "--web"], "127.0.0.1", 8550),
        (["--web"], "127.0.0.1", 8550),
        (["app", "--web", "--port", "9123"], "127.0.0.1", 9123),
        (["--web", "app", "--host", "0.0.0.0"], "0.0.0.0", 8550),
        (["--web", "--host", "0.0.0.0", "--port", "9124", "app"], "0.0.0.0", 9124),
    ],
)
def test_app_is_the_default_command_and_takes_the_same_options(served, argv, host, port):
    assert cli.main(argv) == 0
    assert (served[-1]["host"], served[-1]["port"]) == (host, port)


def _listening_addresses(port: int) -> set[str]:
    """The local addresses that sockets listening on `port` are bound to, from the kernel's own tables."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                if len(address) == 8:
                    found.add(".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0)))
                else:
                    found.add("::1" if address == "00000000000000000000000001000000" else f"ipv6:{address}")
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's table of listening sockets")
def test_the_app_without_a_display_listens_on_loopback_only(central, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "FLET_SERVER_IP", "FLET_FORCE_WEB_SERVER")}
    env |= {
        "CLIENTELING_DATA_DIR": str(tmp_path / "data"),
        "CLIENTELING_CENTRAL_URL": central.url,
        "CLIENTELING_DEVICE_TOKEN": "demo-AMS01",
        "CLIENTELING_STORE": "AMS01",
    }
    with open(tmp_path / "app.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "clienteling", "app", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        assert process.poll() is None, (tmp_path / "app.log").read_text()
        assert _listening_addresses(port) == {"127.0.0.1"}
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
