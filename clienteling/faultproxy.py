"""A fault-injecting TCP proxy on loopback, between an HTTP/1.1 client and a real HTTP server.

Per request it may drop the response, reset (before or after the server saw the request), delay, answer 503/429,
truncate or garble it, or answer in the server's place with a canned response (a Wi-Fi sign-in page, a proxy's 407,
a gateway's 404) before forwarding or after the server committed. Tests use it to prove that an outbox never loses
or doubles an order, and `clienteling bench` to measure draining over a lossy link. Each request gets a fresh
upstream connection; every response closes the link.
"""

from __future__ import annotations

import ipaddress
import json
import random
import socket
import struct
import threading
from types import TracebackType
from typing import Self

FAULT_KINDS: tuple[str, ...] = (
    "drop_response",
    "reset",
    "delay",
    "status_503",
    "status_429",
    "truncate",
    "garbage",
    "reset_after",  # forwarded, then the client's connection reset instead of the answer
    "answer_before",  # the canned answer (`set_answer`) instead of forwarding
    "answer_after",  # forwarded, then the canned answer instead of the server's
)
"""The order in which one uniform draw is walked cumulatively: only one fault applies per request."""

IO_TIMEOUT = 30.0
MAX_HEAD = 64 * 1024
GARBAGE = (
    b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{"oops":1'
)
_HOP_BY_HOP = {b"connection", b"keep-alive", b"proxy-connection"}
_REASONS = {429: "Too Many Requests", 501: "Not Implemented", 503: "Service Unavailable"}


class _Abort(Exception):
    """The exchange cannot go on (peer gone, malformed message, proxy stopping): close without a word."""


class _Reader:
    """Buffered reads from one socket: a message head, a line, n bytes, or everything up to EOF."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buf = bytearray()

    def _fill(self) -> bool:
        chunk = self._sock.recv(65536)
        self._buf += chunk
        return bool(chunk)

    def _until(self, marker: bytes) -> bytes | None:
        """Bytes up to and including `marker`; None on EOF before any byte."""
        while (i := self._buf.find(marker)) < 0:
            if len(self._buf) > MAX_HEAD:
                raise _Abort("head too large")
            if not self._fill():
                if self._buf:
                    raise _Abort("EOF inside a head")
                return None
        data = bytes(self._buf[: i + len(marker)])
        del self._buf[: i + len(marker)]
        return data

    def head(self) -> bytes | None:
        return self._until(b"\r\n\r\n")

    def line(self) -> bytes:
        if (data := self._until(b"\r\n")) is None:
            raise _Abort("EOF instead of a line")
        return data

    def exactly(self, n: int) -> bytes:
        while len(self._buf) < n:
            if not self._fill():
                raise _Abort("EOF inside a body")
        data = bytes(self._buf[:n])
        del self._buf[:n]
        return data

    def chunked(self) -> bytes:
        """A chunked body, byte-exact, through the last chunk and the trailers."""
        out = bytearray()
        while True:
            size_line = self.line()
            out += size_line
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError as exc:
                raise _Abort("bad chunk size") from exc
            if size == 0:
                while (trailer := self.line()) != b"\r\n":
                    out += trailer
                return bytes(out + b"\r\n")
            out += self.exactly(size + 2)

    def rest(self) -> bytes:
        while self._fill():
            pass
        data = bytes(self._buf)
        self._buf.clear()
        return data


def _parse_head(head: bytes) -> tuple[str, dict[str, str]]:
    """The start line and the headers (lower-cased names; repeated ones joined by commas) of a message head."""
    lines = head[:-4].split(b"\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep:
            raise _Abort("malformed header line")
        key, text = name.strip().lower().decode("latin-1"), value.strip().decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return lines[0].decode("latin-1"), headers


def _content_length(headers: dict[str, str]) -> int | None:
    if "content-length" not in headers:
        return None
    values = {v.strip() for v in headers["content-length"].split(",")}
    if len(values) != 1 or not (value := values.pop()).isdigit():
        raise _Abort("bad Content-Length")
    return int(value)


def _with_connection_close(head: bytes) -> bytes:
    """The head with its hop-by-hop connection headers replaced by `Connection: close`; all else byte-exact."""
    lines = head[:-4].split(b"\r\n")
    kept = [lines[0]] + [line for line in lines[1:] if line.split(b":", 1)[0].strip().lower() not in _HOP_BY_HOP]
    return b"\r\n".join([*kept, b"Connection: close"]) + b"\r\n\r\n"


def _problem(status: int, detail: str) -> bytes:
    reason = _REASONS[status]
    body = json.dumps({"type": "about:blank", "title": reason, "status": status, "detail": detail}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/problem+json\r\nContent-Length: {len(body)}\r\n"
        + ("Retry-After: 0\r\n" if status in (429, 503) else "")
        + "Connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


def canned(status: int, body: bytes = b"", *, headers: dict[str, str] | None = None, reason: str = "Canned") -> bytes:
    """A whole HTTP/1.1 response: `status`, `headers` as given (a Content-Type among them, if any), `body`."""
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{name}: {value}" for name, value in (headers or {}).items())]
    lines += [f"Content-Length: {len(body)}", "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _close(sock: socket.socket, *, rst: bool = False) -> None:
    """Close a socket: with an RST if `rst`, else after a FIN so that what was sent still arrives."""
    try:
        if rst:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    sock.close()


def _interrupt(sock: socket.socket) -> None:
    """Wake whichever thread is blocked on `sock` (its owner closes it) and make the close an RST."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class FaultProxy:
    """A loopback HTTP/1.1 proxy that injects one randomly drawn fault per request; see `FAULT_KINDS`.

    `stats` counts "requests" (heads read), "passed" (no fault drawn), each fault kind applied, and
    "upstream_error" (upstream refused or broke: client closed without response), "refused_down" (connections reset
    while down) and "unsupported" (chunked request bodies, answered 501). Each request increments exactly one of
    "passed", a fault kind or "unsupported".
    """

    def __init__(self, upstream_port: int, *, seed: int = 0, host: str = "127.0.0.1") -> None:
        if not ipaddress.IPv4Address(host).is_loopback:
            raise ValueError(f"FaultProxy only runs on IPv4 loopback, not {host!r}")
        self._host = host
        self._upstream_port = upstream_port
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._rates: dict[str, float] = dict.fromkeys(FAULT_KINDS, 0.0)
        self._down = False
        self._answer = canned(502, b"no answer set", headers={"Content-Type": "text/plain"})
        self._stopping = threading.Event()
        self._clients: set[socket.socket] = set()
        self._upstreams: set[socket.socket] = set()
        self._workers: set[threading.Thread] = set()
        self._acceptor: threading.Thread | None = None
        self.stats: dict[str, int] = dict.fromkeys(
            ("requests", "passed", *FAULT_KINDS, "upstream_error", "refused_down", "unsupported"), 0
        )
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind((host, 0))
        self._listener.listen(128)
        self._listener.settimeout(0.1)  # the accept loop polls the stop flag
        self.port: int = self._listener.getsockname()[1]
        self.url: str = f"http://{host}:{self.port}"

    # -- lifecycle ---------------------------------------------------------------------------------------------

    def start(self) -> Self:
        if self._acceptor is not None:
            raise RuntimeError("FaultProxy already started")
        self._acceptor = threading.Thread(target=self._accept_loop, name=f"faultproxy-{self.port}", daemon=True)
        self._acceptor.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._acceptor is not None:
            self._acceptor.join(5)
        self._listener.close()
        with self._lock:
            socks = [*self._clients, *self._upstreams]
            workers = list(self._workers)
        for sock in socks:
            _interrupt(sock)
        for worker in workers:
            worker.join(2)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- controls ----------------------------------------------------------------------------------------------

    def set_faults(self, **rates: float) -> None:
        """Set the per-request probability of each fault kind; kinds not named are 0."""
        unknown = set(rates) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {FAULT_KINDS}")
        for kind, rate in rates.items():
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"rate for {kind} must be within 0..1, not {rate}")
        with self._lock:
            self._rates = {kind: float(rates.get(kind, 0.0)) for kind in FAULT_KINDS}

    def set_answer(self, status: int, body: bytes = b"", *, headers: dict[str, str] | None = None) -> None:
        """The response that the faults "answer_before" and "answer_after" give in the server's place."""
        response = canned(status, body, headers=headers)
        with self._lock:
            self._answer = response

    def set_down(self, down: bool) -> None:
        """While down, every new connection is reset on accept; going down also cuts the open client connections."""
        with self._lock:
            self._down = down
            clients = list(self._clients) if down else []
        for sock in clients:
            _interrupt(sock)

    # -- internals ---------------------------------------------------------------------------------------------

    def _count(self, key: str) -> None:
        with self._lock:
            self.stats[key] += 1

    def _draw(self) -> tuple[str | None, float]:
        """One fault kind (or None) for this request, and its delay in seconds if it is "delay"."""
        with self._lock:
            u, total = self._rng.random(), 0.0
            for kind in FAULT_KINDS:
                total += self._rates[kind]
                if u < total:
                    return kind, self._rng.uniform(0.05, 0.5) if kind == "delay" else 0.0
            return None, 0.0

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            with self._lock:
                down = self._down
                if not down:
                    self._clients.add(conn)
            if down:
                self._count("refused_down")
                _close(conn, rst=True)
                continue
            conn.settimeout(IO_TIMEOUT)
            worker = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            with self._lock:
                self._workers.add(worker)
            worker.start()

    def _serve(self, conn: socket.socket) -> None:
        rst = False
        try:
            rst = self._handle(conn)
        except (OSError, _Abort):
            rst = True
        finally:
            with self._lock:
                self._clients.discard(conn)
                self._workers.discard(threading.current_thread())
            _close(conn, rst=rst)

    def _handle(self, conn: socket.socket) -> bool:
        """Serve one request on `conn`; True if the connection should end with an RST."""
        reader = _Reader(conn)
        head = reader.head()
        if head is None:
            return False
        start_line, headers = _parse_head(head)
        self._count("requests")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self._count("unsupported")
            conn.sendall(_problem(501, "chunked request bodies are not supported by FaultProxy"))
            return False
        body = reader.exactly(_content_length(headers) or 0)
        fault, delay = self._draw()
        self._count(fault or "passed")
        if fault == "reset":
            return True
        if fault in ("status_503", "status_429"):
            conn.sendall(_problem(int(fault[-3:]), f"{fault} injected by FaultProxy"))
            return False
        if fault == "answer_before":
            conn.sendall(self._answer)
            return False
        if fault == "delay" and self._stopping.wait(delay):
            return True
        if self._down or self._stopping.is_set():
            return True  # the link went down while this request was in flight: it never reaches upstream
        response = self._exchange(_with_connection_close(head) + body, start_line.split(" ", 1)[0].upper())
        if response is None:
            self._count("upstream_error")
            return False
        if fault == "drop_response":
            return False
        if fault == "reset_after":
            return True
        if fault == "answer_after":
            conn.sendall(self._answer)
            return False
        if fault == "truncate":
            conn.sendall(response[: len(response) // 2])
        elif fault == "garbage":
            conn.sendall(GARBAGE)
        else:
            conn.sendall(response)
        return False

    def _exchange(self, request: bytes, method: str) -> bytes | None:
        """Send `request` on a fresh upstream connection; its complete response (with `Connection: close`) or None."""
        try:
            upstream = socket.create_connection((self._host, self._upstream_port), timeout=IO_TIMEOUT)
        except OSError:
            return None
        with self._lock:
            self._upstreams.add(upstream)
        try:
            upstream.sendall(request)
            reader = _Reader(upstream)
            while True:
                head = reader.head()
                if head is None:
                    return None
                status_line, headers = _parse_head(head)
                status = int(status_line.split(" ", 2)[1])
                if not (100 <= status < 200 and status != 101):
                    break  # skip interim responses (100 Continue, 103 Early Hints)
            if method == "HEAD" or 100 <= status < 200 or status in (204, 304):
                body = b""
            elif "chunked" in headers.get("transfer-encoding", "").lower():
                body = reader.chunked()
            elif (length := _content_length(headers)) is not None:
                body = reader.exactly(length)
            else:
                body = reader.rest()  # close-delimited
            return _with_connection_close(head) + body
        except (OSError, _Abort, ValueError, IndexError):
            return None
        finally:
            with self._lock:
                self._upstreams.discard(upstream)
            upstream.close()
