"""Checking a device's settings against a centre before they are saved (the set-up screen's "Save")."""

from __future__ import annotations

import httpx


def check_centre(url: str, token: str, store: str, timeout: float = 5.0) -> tuple[str, str]:
    """Ask the centre whether it knows the token and the store: ("ok" | "refused" | "no_such_store" |
    "unreachable", detail). Only "refused" and "no_such_store" are reasons not to save."""
    base = url.rstrip("/")
    try:
        with httpx.Client(timeout=timeout) as client:
            health = client.get(f"{base}/health")
            if health.status_code != 200:
                return "unreachable", f"/health: HTTP {health.status_code}"
            answer = client.get(
                f"{base}/v1/sync/stores", params={"limit": 1000}, headers={"Authorization": f"Bearer {token}"}
            )
    except httpx.HTTPError as error:
        return "unreachable", str(error) or type(error).__name__
    if answer.status_code in (401, 403):
        return "refused", f"HTTP {answer.status_code}"
    if answer.status_code != 200:
        return "unreachable", f"/v1/sync/stores: HTTP {answer.status_code}"
    codes = {item.get("code") for item in answer.json().get("items", [])}
    if store not in codes:
        return "no_such_store", store
    return "ok", store
