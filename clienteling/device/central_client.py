"""The device's HTTP client of the centre: JSON in, contract models or problems out.

Only the centre can refuse: an answer counts as the centre's word only if it carries the centre's own
`Clienteling-Centre` header, and a refusal only if it is also a problem document with a `code`. Everything else is
network trouble, worth retrying: network errors, timeouts, 5xx and 429 (`RetryLater`), and any answer that something
in between gave in the centre's place (`NotTheCentre`: a store Wi-Fi's sign-in page, a proxy's 407, a 404 or 413 from
a gateway, a 2xx without the header). A token the centre refuses (401 from the centre) becomes `CentralRefused`; any
other problem document of the centre comes back as a `Problem` for the caller to turn into the error that fits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from clienteling import __version__
from clienteling.contract import CENTRE_HEADER, POSITION_HEADER, PROBLEM_MEDIA_TYPE
from clienteling.device.errors import CentralRefused, CentralUnreachable

CAPTIVE_PORTAL, PROXY, NETWORK = "captive_portal", "proxy", "network"
"""The kinds of network trouble an answer that is not the centre's points to (`NotTheCentre.trouble`)."""


@dataclass(frozen=True)
class Problem:
    """A refusal from the centre: its status, its `code` and its explanation."""

    status: int
    code: str
    detail: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Answer:
    """What the centre said to a request: a status and a raw body, already known not to be a transient failure."""

    status: int
    body: bytes
    retry_after: float | None = None
    position: str | None = None  # on an acceptance: where it lies in the centre's history (POSITION_HEADER)

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise CentralRefused("the centre's answer was not readable JSON") from None

    def problem(self) -> Problem:
        try:
            body = json.loads(self.body)
            return Problem(self.status, str(body.get("code") or self.status), str(body.get("detail") or ""), body)
        except (ValueError, AttributeError):
            return Problem(self.status, str(self.status), self.body[:200].decode("utf-8", "replace"), {})


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


class CentralClient:
    """One keep-alive connection pool to the centre, with the device's token on every call."""

    def __init__(
        self, base_url: str, token: str, *, timeout: float = 10.0, transport: httpx.BaseTransport | None = None
    ):
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", "User-Agent": f"clienteling-device/{__version__}"},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        json_body: Any = None,
        key: str | None = None,
        accept: str | None = None,
        timeout: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """Send one request. Raises `CentralUnreachable` for anything worth retrying, `CentralRefused` for a bad token."""
        headers = {
            **{name: value for name, value in (("Idempotency-Key", key), ("Accept", accept)) if value},
            **(headers or {}),
        }
        try:
            extra = {"timeout": httpx.Timeout(timeout)} if timeout is not None else {}  # a shorter wait than usual
            response = self._http.request(method, path, params=params, json=json_body, headers=headers, **extra)
            body = response.read()
        except httpx.HTTPError as error:
            raise CentralUnreachable(f"the centre did not answer ({type(error).__name__})") from None
        answer = Answer(response.status_code, body, _retry_after(response), response.headers.get(POSITION_HEADER))
        trouble = not_the_centre(response, body)
        if trouble is not None:
            raise NotTheCentre(trouble, response.status_code)
        if response.status_code >= 500 or response.status_code == 429:
            raise RetryLater(answer)
        if response.status_code == 401:
            raise CentralRefused("the centre does not accept this device's token; ask a manager to check the settings")
        return answer

    def get(self, path: str, **params: Any) -> Answer:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None} or None)

    def post(self, path: str, body: Any, *, key: str) -> Answer:
        return self.request("POST", path, json_body=body, key=key)

    def healthy(self) -> bool:
        """True if the centre itself (not a Wi-Fi sign-in page in its place) answers its health check."""
        try:
            response = self._http.get("/health", timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and not_the_centre(response, response.content) is None


def not_the_centre(response: httpx.Response, body: bytes) -> str | None:
    """None if `response` may be taken as the centre's: with its header, a 2xx, a 5xx or 429 (retried anyway) or a
    problem document with a `code`; without it, only a 5xx or 429 (a gateway in front of the centre, retried like the
    centre's own). Otherwise the kind of trouble that answered in the centre's place."""
    status = response.status_code
    content_type = response.headers.get("content-type", "")
    if response.headers.get(CENTRE_HEADER):
        if status < 300 or status >= 500 or status == 429:
            return None
        try:
            code = json.loads(body).get("code") if content_type.startswith(PROBLEM_MEDIA_TYPE) else None
        except (ValueError, AttributeError):
            code = None
        return None if isinstance(code, str) and code else NETWORK
    if status == 407:
        return PROXY
    if status == 511 or 300 <= status < 400 or (status < 300 and content_type.startswith("text/html")):
        return CAPTIVE_PORTAL  # a sign-in page: served in the centre's place, or a redirect to it
    return None if status >= 500 or status == 429 else NETWORK


class RetryLater(CentralUnreachable):
    """The centre answered, but asked to come back later (5xx or 429), perhaps saying when."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(f"the centre is busy or down for maintenance (HTTP {answer.status})")
        self.answer = answer


class NotTheCentre(CentralUnreachable):
    """Something between the device and the centre answered in its place; `trouble` says what it looks like:
    `captive_portal` (a redirect, a 2xx HTML page, 511: the store Wi-Fi wants a sign-in), `proxy` (407) or `network`
    (anything else: a gateway's 400, 404, 408 or 413, a 2xx without the centre's header)."""

    def __init__(self, trouble: str, status: int) -> None:
        what = {CAPTIVE_PORTAL: "a Wi-Fi sign-in page", PROXY: "a proxy that wants a sign-in"}.get(
            trouble, "the network"
        )
        super().__init__(f"{what} answered instead of the centre (HTTP {status}); it will be tried again")
        self.trouble, self.status = trouble, status
