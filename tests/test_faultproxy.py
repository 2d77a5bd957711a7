"""Self-test of clienteling/faultproxy.py against a tiny threaded HTTP server on loopback."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from clienteling.faultproxy import FaultProxy


class Upstream:
    """A ThreadingHTTPServer that counts the POSTs it received and echoes JSON."""

    def __init__(self) -> None:
        self.posts = 0
        self.lock = threading.Lock()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def _send(self, payload: dict) -> None:
                body = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._send({"path": self.path, "padding": "x" * 200})

            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with upstream.lock:
                    upstream.posts += 1
                self._send({"echo": json.loads(data), "padding": "x" * 200})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    yield server
    server.close()


@pytest.fixture
def proxy(upstream: Upstream) -> Iterator[FaultProxy]:
    with FaultProxy(upstream.port, seed=1) as fault_proxy:
        yield fault_proxy


@pytest.fixture
def client(proxy: FaultProxy) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=proxy.url, timeout=5) as http:
        yield http


def test_passes_through_byte_exact(upstream: Upstream, proxy: FaultProxy, client: httpx.Client) -> None:
    assert proxy.url == f"http://127.0.0.1:{proxy.port}"
    with httpx.Client(base_url=upstream.url, timeout=5) as direct:
        for method, kwargs in (("GET", {}), ("POST", {"json": {"order": 1}})):
            want = direct.request(method, "/orders?x=1", **kwargs)
            got = client.request(method, "/orders?x=1", **kwargs)
            assert got.status_code == want.status_code == 200
            assert got.content == want.content
            assert got.headers["content-type"] == want.headers["content-type"] == "application/json"
            assert got.headers["content-length"] == want.headers["content-length"]
            assert got.headers["connection"] == "close"
    assert upstream.posts == 2
    assert proxy.stats["requests"] == proxy.stats["passed"] == 2


def test_drop_response_after_upstream_committed(upstream: Upstream, proxy: FaultProxy, client: httpx.Client) -> None:
    proxy.set_faults(drop_response=1.0)
    with pytest.raises(httpx.TransportError):
        client.post("/orders", json={"order": 1})
    assert upstream.posts == 1
    assert proxy.stats["drop_response"] == 1


def test_reset_before_forwarding(upstream: Upstream, proxy: FaultProxy, client: httpx.Client) -> None:
    proxy.set_faults(reset=1.0)
    with pytest.raises(httpx.TransportError):
        client.post("/orders", json={"order": 1})
    assert upstream.posts == 0
    assert proxy.stats["reset"] == 1


@pytest.mark.parametrize("status", [503, 429])
def test_injected_status_never_reaches_upstream(
    status: int, upstream: Upstream, proxy: FaultProxy, client: httpx.Client
) -> None:
    proxy.set_faults(**{f"status_{status}": 1.0})
    response = client.post("/orders", json={"order": 1})
    assert response.status_code == status
    assert response.headers["retry-after"] == "0"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status
    assert upstream.posts == 0
    assert proxy.stats[f"status_{status}"] == 1


def test_garbage_after_upstream_committed(upstream: Upstream, proxy: FaultProxy, client: httpx.Client) -> None:
    proxy.set_faults(garbage=1.0)
    response = client.post("/orders", json={"order": 1})
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert upstream.posts == 1
    assert proxy.stats["garbage"] == 1


def test_truncate_after_upstream_committed(upstream: Upstream, proxy: FaultProxy, client: httpx.Client) -> None:
    proxy.set_faults(truncate=1.0)
    with pytest.raises(httpx.TransportError):
        client.post("/orders", json={"order": 1})
    assert upstream.posts == 1
    assert proxy.stats["truncate"] == 1


def test_delay_then_normal(upstream: Upstream, proxy: FaultProxy, client: httpx.Client) -> None:
    proxy.set_faults(delay=1.0)
    started = time.monotonic()
    assert client.post("/orders", json={"order": 1}).json()["echo"] == {"order": 1}
    assert 0.05 <= time.monotonic() - started < 2
    assert upstream.posts == 1
    assert proxy.stats["delay"] == 1


def test_down_and_up_again(upstream: Upstream, proxy: FaultProxy, client: httpx.Client) -> None:
    idle = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    time.sleep(0.1)  # let the proxy accept it
    proxy.set_down(True)
    try:
        assert idle.recv(1) == b""  # existing connections are cut
    except ConnectionResetError:
        pass
    finally:
        idle.close()
    for _ in range(3):
        with pytest.raises(httpx.TransportError):
            client.post("/orders", json={"order": 1})
    assert upstream.posts == 0
    assert proxy.stats["refused_down"] >= 3
    proxy.set_down(False)
    assert client.post("/orders", json={"order": 2}).json()["echo"] == {"order": 2}
    assert upstream.posts == 1


def test_upstream_gone_closes_without_response(upstream: Upstream, proxy: FaultProxy, client: httpx.Client) -> None:
    upstream.close()
    with pytest.raises(httpx.TransportError):
        client.get("/")
    assert proxy.stats["upstream_error"] == 1


def test_mixed_faults_are_seeded_and_counted(upstream: Upstream) -> None:
    def run() -> dict[str, int]:
        with FaultProxy(upstream.port, seed=42) as fault_proxy, httpx.Client(base_url=fault_proxy.url) as http:
            fault_proxy.set_faults(status_503=0.3, reset=0.2, drop_response=0.2)
            for i in range(20):
                try:
                    http.post("/orders", json={"order": i})
                except httpx.TransportError:
                    pass
            return dict(fault_proxy.stats)

    first, second = run(), run()
    assert first == second
    assert first["requests"] == 20
    assert first["passed"] + first["status_503"] + first["reset"] + first["drop_response"] == 20
    assert upstream.posts == 2 * (first["passed"] + first["drop_response"])


def test_concurrent_connections(upstream: Upstream, proxy: FaultProxy, client: httpx.Client) -> None:
    with ThreadPoolExecutor(40) as pool:
        results = list(pool.map(lambda i: client.post("/orders", json={"order": i}).json()["echo"], range(40)))
    assert sorted(r["order"] for r in results) == list(range(40))
    assert upstream.posts == 40


def test_chunked_request_is_refused(proxy: FaultProxy, client: httpx.Client) -> None:
    response = client.post("/orders", content=iter([b'{"order":', b"1}"]))
    assert response.status_code == 501
    assert proxy.stats["unsupported"] == 1


def test_stop_returns_quickly_with_open_connections(upstream: Upstream) -> None:
    fault_proxy = FaultProxy(upstream.port).start()
    idle = [socket.create_connection(("127.0.0.1", fault_proxy.port), timeout=5) for _ in range(5)]
    time.sleep(0.1)
    started = time.monotonic()
    fault_proxy.stop()
    assert time.monotonic() - started < 3
    for sock in idle:
        sock.close()


def test_rejects_bad_arguments(upstream: Upstream) -> None:
    with pytest.raises(ValueError):
        FaultProxy(upstream.port, host="0.0.0.0")
    with FaultProxy(upstream.port) as fault_proxy:
        with pytest.raises(ValueError):
            fault_proxy.set_faults(explode=0.5)
        with pytest.raises(ValueError):
            fault_proxy.set_faults(reset=1.5)


SIGN_IN_PAGE = b"<html><body>Welcome to Store Wi-Fi: accept the terms to go online</body></html>"


@pytest.mark.parametrize("when, reaches_upstream", [("before", 0), ("after", 1)])
def test_canned_answer_before_or_after_forwarding(
    when: str, reaches_upstream: int, upstream: Upstream, proxy: FaultProxy, client: httpx.Client
) -> None:
    proxy.set_answer(302, SIGN_IN_PAGE, headers={"Location": "http://portal.local/", "Content-Type": "text/html"})
    proxy.set_faults(**{f"answer_{when}": 1.0})
    response = client.post("/orders", json={"order": 1})
    assert response.status_code == 302
    assert response.headers["location"] == "http://portal.local/"
    assert response.headers["content-type"] == "text/html"
    assert response.content == SIGN_IN_PAGE
    assert upstream.posts == reaches_upstream
    assert proxy.stats[f"answer_{when}"] == 1


def test_reset_after_upstream_committed(upstream: Upstream, proxy: FaultProxy, client: httpx.Client) -> None:
    proxy.set_faults(reset_after=1.0)
    with pytest.raises(httpx.TransportError):
        client.post("/orders", json={"order": 1})
    assert upstream.posts == 1
    assert proxy.stats["reset_after"] == 1
