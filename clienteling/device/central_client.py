"""The device's HTTP client of the centre: JSON in, contract models or problems out.

Network errors, timeouts, 5xx and 429 become `CentralUnreachable` (worth retrying);
a refused token becomes `CentralRefused`; any other problem document comes back as a
`Problem` for the caller to turn into the error that fits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from clienteling import __version__
from clienteling.device.errors import CentralRefused, CentralUnreachable


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
    ) -> Answer:
        """Send one request. Raises `CentralUnreachable` for anything worth retrying, `CentralRefused` for a bad token."""
        headers = {name: value for name, value in (("Idempotency-Key", key), ("Accept", accept)) if value}
        try:
            extra = {"timeout": httpx.Timeout(timeout)} if timeout is not None else {}  # a shorter wait than usual
            response = self._http.request(method, path, params=params, json=json_body, headers=headers, **extra)
            body = response.read()
        except httpx.HTTPError as error:
            raise CentralUnreachable(f"the centre did not answer ({type(error).__name__})") from None
        answer = Answer(response.status_code, body, _retry_after(response))
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
        try:
            return self._http.get("/health", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False


class RetryLater(CentralUnreachable):
    """The centre answered, but asked to come back later (5xx or 429), perhaps saying when."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(f"the centre is busy or down for maintenance (HTTP {answer.status})")
        self.answer = answer
