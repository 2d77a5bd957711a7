"""Signed event webhooks, the part both ends share: the headers, signing and checking a signature. No I/O.

The centre POSTs each event (`clienteling.contract.Event`, as JSON) to every subscribed endpoint with:

- `Clienteling-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of f"{t}.{body}" under the webhook's secret>`;
- `Clienteling-Event-Id` (the event's id: deliveries are at least once, so a receiver drops an id it has seen),
  `Clienteling-Event-Type` and `Content-Type: application/json`.

A receiver checks the signature over the raw body as it arrived (before parsing it), with `verify_signature`:

    from clienteling.webhooks import SIGNATURE_HEADER, verify_signature

    if not verify_signature(SECRET, request.headers.get(SIGNATURE_HEADER), body, time.time()):
        return 400

The timestamp is signed too, so a captured request cannot be replayed later than `tolerance` seconds.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "Clienteling-Signature"
EVENT_ID_HEADER = "Clienteling-Event-Id"
EVENT_TYPE_HEADER = "Clienteling-Event-Type"

EVENT_TYPES = (
    "order.created",
    "return.registered",
    "note.added",
    "consent.changed",
    "customer.enrolled",
    "feedback.received",
    "follow_up.created",
    "follow_up.done",
)
"""What the centre publishes: a ship-to-home order placed in a store (subject: the order), a return registered at a
desk (subject: the order returned), a note added to a customer (subject: the customer), a customer's consent per
channel changed at a counter (subject: the customer; only a change that took effect, not one superseded), a customer
enrolled at a counter (subject: the new customer; data: her `Customer`), a customer's rating of a store touchpoint
(subject: the customer; data: the `Feedback`), a follow-up task made by staff or by the centre, and one marked done
(subject: the customer)."""


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The hex HMAC-SHA256 of `<timestamp>.<body>` under `secret`."""
    signed = str(int(timestamp)).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    """The value of `Clienteling-Signature` for `body` sent at `timestamp` (unix seconds)."""
    return f"t={int(timestamp)},v1={signature(secret, body, timestamp)}"


def verify_signature(secret: str, header: str | None, body: bytes | str, now: float, tolerance: float = 300) -> bool:
    """True if `header` (the `Clienteling-Signature` value) signs `body` under `secret` at a time no more than
    `tolerance` seconds from `now` (unix seconds). Several `v1=` values (a secret being rotated) are allowed: one
    matching is enough. Anything malformed is simply False."""
    if not header:
        return False
    if isinstance(body, str):
        body = body.encode()
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                return False
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates or abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, body, timestamp)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
