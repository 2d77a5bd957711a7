"""Problems the centre answers with: RFC 9457 documents, one `code` per kind of problem.

`ProblemError` is raised anywhere below the HTTP layer; the app turns it into an
`application/problem+json` response. `/problems/{code}` on the centre describes each code.
"""

from __future__ import annotations

import json
from typing import Any

from clienteling.contract import PROBLEM_MEDIA_TYPE

__all__ = ["CATALOGUE", "PROBLEM_MEDIA_TYPE", "ProblemError", "problem_type"]

# code -> (status, title): the catalogue behind the `type` URIs.
CATALOGUE: dict[str, tuple[int, str]] = {
    "bad_request": (400, "The request is malformed"),
    "unauthorized": (401, "A valid device token is required"),
    "forbidden": (403, "This token may not do this"),
    "payload_too_large": (413, "The request is larger than the centre takes at once"),
    "not_found": (404, "There is nothing at this address"),
    "method_not_allowed": (405, "This method is not allowed here"),
    "customer_not_found": (404, "No such customer"),
    "product_not_found": (404, "No such product"),
    "order_not_found": (404, "No such order"),
    "collection_not_found": (404, "No such sync collection"),
    "invalid_request": (422, "The request is not valid"),
    "invalid_card_number": (422, "That is not a valid loyalty card number"),
    "unknown_customer": (422, "The command names a customer the centre does not know"),
    "unknown_store": (422, "The command names a store the centre does not know"),
    "unknown_sku": (422, "The command names a product the centre does not know"),
    "unknown_staff": (422, "The command names a staff member the centre does not know"),
    "idempotency_key_reused": (422, "This idempotency key was used for a different request"),
    "out_of_stock": (409, "Not enough stock"),
    "email_already_enrolled": (409, "A customer with this email address is already enrolled"),
    "not_an_online_order": (422, "Only orders delivered to the customer can be returned here"),
    "order_not_delivered": (422, "The order has not been delivered yet"),
    "return_window_closed": (422, "The 30-day return window has closed"),
    "order_line_not_found": (422, "The order has no such line"),
    "return_quantity_exceeded": (422, "More items than are left to return on that line"),
    "exchange_line_not_returned": (422, "An exchange names a line that does not go back, or a line twice"),
    "exchange_same_item": (422, "An exchange must be for another size or colour than the item returned"),
    "exchange_other_style": (422, "An exchange must be for the same style as the item returned"),
    "no_address": (422, "Nowhere to ship to: the command has no address and the order none either"),
    "reset_required": (410, "The centre cannot serve this sync cursor: fetch the collection afresh"),
    "internal_error": (500, "Something went wrong on the centre"),
    "implausible_time": (422, "That moment cannot be right: it lies too far in the future or the past"),
    "too_many_profile_reads": (429, "Customer profiles are being read faster than a person could: wait and retry"),
    "token_taken": (409, "This token already names another touchpoint"),
    "touchpoint_not_found": (404, "No touchpoint has this token"),
    "already_answered": (409, "This touchpoint has been rated already"),
    "feedback_closed": (410, "This touchpoint can no longer be rated"),
    # outreach (issue 14)
    "no_consent": (422, "The customer has not consented to messages on this channel"),
    "no_contact_address": (422, "The customer has no phone number or email address for this channel"),
    "unknown_template": (422, "There is no such message template"),
    "conversation_not_found": (404, "No message or conversation this reply belongs to"),
    # follow-ups (issue 14)
    "follow_up_not_found": (404, "The customer has no such follow-up"),
    "follow_up_id_taken": (422, "That follow-up id is another task's"),
}


def problem_type(code: str) -> str:
    """The `type` URI of a problem: a page on the centre itself that describes it."""
    return f"/problems/{code}"


class ProblemError(Exception):
    """A refusal that reaches the caller as a problem document.

    `extra` members (for example the SKUs that ran out) are added to the document; `headers` (for example
    `Retry-After`) go on the response that carries it.
    """

    headers: dict[str, str]

    def __init__(self, code: str, detail: str, *, status: int | None = None, **extra: Any) -> None:
        known_status, title = CATALOGUE[code]
        self.code = code
        self.status = status or known_status
        self.title = title
        self.detail = detail
        self.extra = extra
        self.headers = {}
        super().__init__(detail)

    def document(self) -> dict[str, Any]:
        return {
            "type": problem_type(self.code),
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
            **self.extra,
        }

    def to_json(self) -> str:
        return json.dumps(self.document(), ensure_ascii=False)


def implausible_time(refusal, field: str, moment, what: str) -> ProblemError | None:
    """The 422 problem for a moment a device sent that cannot be right (`rules.implausible_view_time` and its kin gave
    `refusal`, or None: then None), saying which field, why, and the window the centre takes `what` from."""
    if refusal is None:
        return None
    earliest, latest = (refusal.params[end].isoformat(timespec="seconds") for end in ("earliest", "latest"))
    why = "is in the future" if refusal.code == "in_the_future" else "was too long ago"
    return ProblemError(
        "implausible_time",
        f"{field} {moment.isoformat(timespec='seconds')} {why}: the centre takes {what} from {earliest} to {latest}",
        earliest=earliest,
        latest=latest,
    )
