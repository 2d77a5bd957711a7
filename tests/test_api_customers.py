"""The customer endpoints of the centre, over real HTTP."""

from __future__ import annotations

import pytest
from conftest import new_key

from clienteling.codes import make_card_number
from clienteling.contract import Conversation, Customer, CustomerSummary, Order, WishlistItem

pytestmark = pytest.mark.both_backends  # every test here runs on SQLite and on PostgreSQL

SANNE_CARD = "2700000000014"


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["code"] == code
    assert body["type"] == f"/problems/{code}" and body["title"] and body["detail"]
    assert "Traceback" not in response.text
    return body


@pytest.mark.parametrize("card", [SANNE_CARD, "2700 0000 0001 4", "270-0000-000014"])
def test_lookup_by_card_finds_sanne(api, card):
    response = api.get("/v1/customers/lookup", params={"card": card})
    assert response.status_code == 200
    sanne = Customer.model_validate(response.json())
    assert (sanne.first_name, sanne.last_name, sanne.tier, sanne.home_store) == ("Sanne", "de Vries", "gold", "AMS01")
    assert sanne.card_number == SANNE_CARD


def test_lookup_by_email_ignores_case_and_spaces(api):
    response = api.get("/v1/customers/lookup", params={"email": "  Daan.JANSEN@Example.com "})
    assert response.status_code == 200
    daan = Customer.model_validate(response.json())
    assert (daan.first_name, daan.tier, daan.home_store) == ("Daan", "silver", "UTR01")


def test_card_with_wrong_check_digit_is_a_422_that_says_so(api):
    body = assert_problem(api.get("/v1/customers/lookup", params={"card": "2700000000015"}), 422, "invalid_card_number")
    assert "check digit" in body["detail"] and "should be 4" in body["detail"]


def test_unknown_card_and_unknown_email_are_404(api):
    unknown_card = make_card_number(9_999_999_999)
    body = assert_problem(api.get("/v1/customers/lookup", params={"card": unknown_card}), 404, "customer_not_found")
    assert unknown_card in body["detail"]
    body = assert_problem(
        api.get("/v1/customers/lookup", params={"email": "nobody@example.com"}), 404, "customer_not_found"
    )
    assert "nobody@example.com" in body["detail"]


@pytest.mark.parametrize(
    "params", [{}, {"card": SANNE_CARD, "email": "sanne.devries@example.com"}, {"email": "not-an-email"}]
)
def test_lookup_needs_exactly_one_valid_key(api, params):
    assert_problem(api.get("/v1/customers/lookup", params=params), 422, "invalid_request")


@pytest.mark.parametrize(
    ("query", "expected_id"),
    [("sanne de", "C0000001"), ("de vries san", "C0000001"), ("daan.jansen@ex", "C0000002"), ("Emma Bak", "C0000003")],
)
def test_search_by_name_or_email_prefix(api, query, expected_id):
    response = api.get("/v1/customers/search", params={"q": query})
    assert response.status_code == 200
    hits = [CustomerSummary.model_validate(hit) for hit in response.json()]
    assert expected_id in [hit.id for hit in hits]


def test_search_by_phone_prefix_in_national_or_international_form(api):
    sanne = api.get("/v1/customers/C0000001").json()
    international = sanne["phone"]  # +316xxxxxxxx
    national = "0" + international[3:]
    for query in (international[:9], national[:8], f"{national[:2]} {national[2:6]}"):
        ids = [hit["id"] for hit in api.get("/v1/customers/search", params={"q": query}).json()]
        assert "C0000001" in ids, query


def test_search_returns_at_most_50(api):
    hits = api.get("/v1/customers/search", params={"q": "ex"}).json()  # every email domain starts with "example"
    assert len(hits) == 50


def test_search_with_only_punctuation_finds_nothing_without_error(api):
    response = api.get("/v1/customers/search", params={"q": '"*()'})
    assert response.status_code == 200 and response.json() == []


def test_customer_wishlist_orders_and_conversations(api):
    assert Customer.model_validate(api.get("/v1/customers/C0000001").json()).email == "sanne.devries@example.com"
    wishlist = [WishlistItem.model_validate(i) for i in api.get("/v1/customers/C0000001/wishlist").json()]
    assert len(wishlist) >= 3 and all(item.customer_id == "C0000001" for item in wishlist)
    orders = [Order.model_validate(o) for o in api.get("/v1/customers/C0000001/orders").json()]
    assert [o.created_at for o in orders] == sorted((o.created_at for o in orders), reverse=True)
    assert sum(o.channel in ("web", "app") for o in orders) >= 2
    chats = [Conversation.model_validate(c) for c in api.get("/v1/customers/C0000001/conversations").json()]
    assert chats and all(chat.messages for chat in chats)


def test_daan_has_orders_and_no_chats_and_emma_has_no_orders(api):
    assert api.get("/v1/customers/C0000002/orders").json()
    assert api.get("/v1/customers/C0000002/conversations").json() == []
    assert api.get("/v1/customers/C0000003/orders").json() == []
    emma = Customer.model_validate(api.get("/v1/customers/C0000003").json())
    assert emma.consent.marketing is False


@pytest.mark.parametrize("suffix", ["", "/wishlist", "/orders", "/conversations"])
def test_unknown_customer_is_404_everywhere(api, suffix):
    assert_problem(api.get(f"/v1/customers/C9999999{suffix}"), 404, "customer_not_found")


def test_malformed_customer_id_is_422(api):
    assert_problem(api.get("/v1/customers/robert'); DROP TABLE customers;--"), 422, "invalid_request")


def test_notes_are_added_once_per_key_and_listed(api):
    key = new_key()
    body = {"text": "Tried the Harbour coat in M; prefers navy.", "author": "Lotte Visser"}
    first = api.post("/v1/customers/C0000003/notes", json=body, headers={"Idempotency-Key": key})
    again = api.post("/v1/customers/C0000003/notes", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert first.json()["store"] == "AMS01"
    notes = api.get("/v1/customers/C0000003/notes").json()
    assert [n["id"] for n in notes].count(first.json()["id"]) == 1
    missing = api.post("/v1/customers/C9999999/notes", json=body, headers={"Idempotency-Key": new_key()})
    assert_problem(missing, 404, "customer_not_found")
