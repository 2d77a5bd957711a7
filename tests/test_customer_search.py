"""Customer search on the device finds exactly whom a brute-force reading of the customers would find.

The reference here is plain Python: a customer matches when every word typed is the start of some word of
their name, email or phone (words folded to lower case without diacritics; a typed phone number as its digits
in international form), and a search gives the first `limit` matches in the order the customers came in.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clienteling.device import cache as cache_module
from clienteling.device.cache import Cache
from clienteling.device.journal import Journal
from clienteling.text_search import TOKENIZER, folded, fts_query, fts_words, phone_digits, prefix_words

# fmt: off
FIRST = (
    "Sanne", "Sander", "Sandra", "Jan", "Janneke", "Jansje", "Emma", "Éva", "Zoë", "Anaïs", "Chloé", "Noël", "Ömer",
    "Kévin", "Iñigo", "Ågot", "Lotte", "Daan", "Bram", "Ruud", "Fatima", "Mohammed", "Yusuf", "Priya", "Anne-Marie",
    "D'Angelo", "Xander", "Quinten", "Ilse", "Jesse", "Thijs", "Nguyễn", "Ünal",
)
LAST = (
    "de Vries", "van den Berg", "van der Meer", "Jansen", "Janssen", "de Jong", "Bakker", "Visser", "Smit", "de Wit",
    "Dijkstra", "van Dijk", "’t Hart", "Müller", "Çelik", "Öztürk", "O'Brien", "ter Horst", "Vermeulen", "Nguyễn",
    "van Vliet", "de Boer", "Quist", "Xu", "El Amrani",
)
# fmt: on
DOMAINS = ("example.com", "example.nl", "voorbeeld.nl", "mail.example.org")


def reference_words(text: str) -> list[str]:
    """Words as the index reads them, by Unicode decomposition (independent of `clienteling.text_search`)."""
    bare = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return re.findall(r"[^\W_]+", bare.lower())


def customer_words(customer: dict) -> str:
    """The customer's words, each after a space (so that ` x` is in them when a word starts with `x`)."""
    words = reference_words(f"{customer['first_name']} {customer['last_name']} {customer['email']}")
    return "".join(" " + w for w in words + ([customer["phone"].lstrip("+")] if customer["phone"] else []))


def reference_search(customers: dict[str, dict], text: str, limit: int, words: dict | None = None) -> list[str]:
    phone = phone_digits(text)
    wanted = [phone] if phone else reference_words(text)
    if not wanted:
        return []
    words = words if words is not None else {i: customer_words(c) for i, c in customers.items()}
    found = []
    for customer_id in customers:  # in the order they came in (a dict keeps it; renames keep their place)
        if all(" " + x in words[customer_id] for x in wanted):
            found.append(customer_id)
    return found[:limit]


def make_customer(rng: random.Random, n: int) -> dict:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    local = "".join(c for c in unicodedata.normalize("NFD", f"{first}.{last}") if c.isascii()).replace(" ", "")
    if rng.random() < 0.05:
        local = f"06{rng.randint(1000000, 9999999)}"  # an email that starts with digits, like a phone number
    return {
        "id": f"C{n:07d}",
        "first_name": first,
        "last_name": last,
        "email": f"{local.lower() if rng.random() < 0.8 else local}{rng.randint(1, 99999)}@{rng.choice(DOMAINS)}",
        "phone": None if rng.random() < 0.1 else f"+316{rng.randint(10_000_000, 99_999_999)}",
        "home_store": "AMS01",
        "card_number": f"27{n:011d}",
        "tier": rng.choice(("basic", "silver", "gold")),
    }


def page(items: list[dict], deleted: list[str], cursor: int) -> str:
    return json.dumps({"items": items, "deleted": deleted, "next_cursor": str(cursor), "has_more": False})


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """A cache of 3,000 customers that came in pages, then renames and erasures; and the same in Python."""
    rng = random.Random(20261128)
    cache = Cache(tmp_path_factory.mktemp("search") / "cache.db")
    customers: dict[str, dict] = {}
    for start in range(1, 3001, 500):
        items = [make_customer(rng, n) for n in range(start, start + 500)]
        cache.apply_page("customers", page(items, [], start))
        customers.update((c["id"], c) for c in items)
    renamed = [{**make_customer(rng, int(i[1:])), "id": i} for i in rng.sample(sorted(customers), 200)]
    gone = rng.sample(sorted(set(customers) - {c["id"] for c in renamed}), 100)
    cache.apply_page("customers", page(renamed, gone, 5000))
    for customer in renamed:
        customers[customer["id"]] = customer
    for customer_id in gone:
        del customers[customer_id]
    yield cache, customers
    cache.close()


def queries(customers: dict[str, dict], count: int, seed: int) -> list[str]:
    """Typed text as staff type it: starts of a customer's words, in any case and order, phone numbers, slips."""
    rng = random.Random(seed)
    everyone = list(customers.values())
    typed = ["d", "de", "van d", "s v", "e", "example", "sanne de vries", "jan van den berg", "zoe", "Zoë", "nguyen"]
    typed += ["x q", "q", "06", "061", "+31 6", "0612 34", "31612", "el amrani", "o'brien", "’t", "t hart", "çe"]
    while len(typed) < count:
        customer = rng.choice(everyone)
        kind = rng.random()
        if kind < 0.1 and customer["phone"]:
            digits = customer["phone"][3:]  # +31 6…: typed from the 0
            cut = rng.randint(1, len(digits))
            typed.append(rng.choice(("0", "+31 ", "(0)")) + " ".join([digits[:cut][:2], digits[:cut][2:]]))
            continue
        if kind < 0.15:
            typed.append(" ".join(rng.choice("abcdeijklmnopqrstuvz") * rng.randint(1, 2) for _ in range(2)))
            continue
        raw = f"{customer['first_name']} {customer['last_name']} {customer['email']}".replace("@", " ")
        words = [w for w in re.split(r"[\s.'’-]+", raw) if w]
        picked = rng.sample(words, rng.randint(1, min(4, len(words))))
        cut = [w[: rng.randint(1, len(w))] for w in picked]
        text = rng.choice((" ", "  ", ", ", "-")).join(cut)
        typed.append(text.upper() if rng.random() < 0.1 else text)
    return typed


@pytest.mark.parametrize(
    "sample, check_cost",
    [
        (cache_module._SAMPLE, cache_module._CHECK_COST),  # as shipped
        (4, 0),  # join only the rarest prefix, check the rest; give up on a plan after 4 candidates
        (4, 10**9),  # join every prefix in FTS
    ],
)
def test_search_finds_what_a_brute_force_reading_finds(filled, monkeypatch, sample, check_cost):
    cache, customers = filled
    monkeypatch.setattr(cache_module, "_SAMPLE", sample)
    monkeypatch.setattr(cache_module, "_CHECK_COST", check_cost)
    cache._estimates = cache_module._Estimates()
    exhaustive = []
    candidates = cache_module._CustomerSearch._candidates

    def counting(self, joined, checked, limit, sample):
        exhaustive.append(sample is None)
        return candidates(self, joined, checked, limit, sample)

    monkeypatch.setattr(cache_module._CustomerSearch, "_candidates", counting)
    rng = random.Random(sample + check_cost)
    words = {i: customer_words(c) for i, c in customers.items()}
    for text in queries(customers, 500, seed=sample):
        limit = rng.choice((1, 3, 20, 20, 10_000))
        got = [json.loads(doc)["id"] for doc in cache.search_customers(text, limit)]
        assert got == reference_search(customers, text, limit, words), (text, limit)
    assert exhaustive.count(False) > 50  # candidates were checked in Python …
    if sample == 4:
        assert exhaustive.count(True) > 20  # … and plans were given up for the safe one


def test_search_gives_summaries_and_the_device_sorts_them(filled):
    cache, customers = filled
    found = [json.loads(doc) for doc in cache.search_customers("de vr", 5)]
    assert found and all(
        set(f) == {"id", "first_name", "last_name", "email", "phone", "home_store", "tier"} for f in found
    )
    for summary in found:
        customer = customers[summary["id"]]
        assert summary == {k: customer[k] for k in summary}


def test_the_prefix_indexes_are_those_the_search_plans_with(filled):
    cache, _ = filled
    definition = cache.scalar("SELECT sql FROM sqlite_master WHERE name = 'customers_fts'")
    assert f"prefix = '{' '.join(map(str, cache_module._PREFIX_INDEXES))}'" in definition
    assert f'tokenize = "{TOKENIZER}"' in definition


def test_an_older_cache_gets_the_new_index_and_keeps_its_commands(tmp_path, monkeypatch):
    path = tmp_path / "cache.db"
    monkeypatch.setattr(cache_module, "SCHEMA_VERSION", 4)
    old = Cache(path)
    rng = random.Random(4)
    items = [make_customer(rng, n) for n in range(1, 301)]
    old.apply_page("customers", page(items, [], 1))
    with old.write() as conn:
        conn.execute("INSERT INTO outbox (command_id, kind, path, body, created_at) VALUES ('c1', 'n', '/', '{}', 'x')")
    assert "detail" not in old.scalar("SELECT sql FROM sqlite_master WHERE name = 'customers_fts'")
    old.close()
    monkeypatch.setattr(cache_module, "SCHEMA_VERSION", len(cache_module.MIGRATIONS))
    journal = Journal(tmp_path / "journal.db")
    cache = Cache(path, hand_over=journal.take_over)
    assert cache.scalar("PRAGMA user_version") == len(cache_module.MIGRATIONS)
    assert [row[0] for row in journal.waiting()] == ["c1"]  # the command went to the journal
    assert "detail = none" in cache.scalar("SELECT sql FROM sqlite_master WHERE name = 'customers_fts'")
    customers = {c["id"]: c for c in items}
    for text in ("d", "de vries", items[7]["first_name"][:2] + " " + items[7]["email"][:5], "06"):
        assert [json.loads(d)["id"] for d in cache.search_customers(text, 50)] == reference_search(customers, text, 50)
    cache.close()


# ---------------------------------------------------------------------------- the tokenizer, in Python


def sqlite_words(text: str) -> list[str]:
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(f'CREATE VIRTUAL TABLE t USING fts5(x, tokenize = "{TOKENIZER}")')
        conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, instance)")
        conn.execute("INSERT INTO t(x) VALUES (?)", (text,))
        return [term for _, term in sorted(conn.execute("SELECT offset, term FROM v"))]
    finally:
        conn.close()


ALPHABET = st.sampled_from(
    list("aZ09 _-.@'’+éËçñåøßİıǅςΆйЖ中文\u0301\u0308\u00a0\u2003\ue000😀١²Ⅻﬁ") + ["Nguyễn", "e\u0301"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(ALPHABET, max_size=12).map("".join) | st.text(max_size=12))
def test_python_reads_words_as_the_index_does(text):
    if any(0xD800 <= ord(c) < 0xE000 for c in text):
        return  # lone surrogates: SQLite stores no text that holds one
    assert fts_words(text) == sqlite_words(text)
    for word in fts_words(text):
        assert fts_words(word) == [word]  # a folded word, queried, means itself


def test_every_character_of_the_basic_plane_folds_as_sqlite_folds_it():
    chars = "".join(chr(c) for c in range(0x80, 0x10000) if not 0xD800 <= c < 0xE000)
    spread = folded(chars)
    assert len(spread) >= len(chars) // 2
    for start in range(0, len(chars), 4000):  # the folds learnt in one go hold character by character
        part = chars[start : start + 4000]
        assert fts_words(" ".join(part)) == sqlite_words(" ".join(part))
        for word in fts_words(" ".join(part)):
            assert fts_words(word) == [word]


def test_prefix_words_are_the_tokens_fts_query_quotes():
    assert prefix_words("Jan  jansen JAN, de") == ["jansen", "de"]
    assert prefix_words("Zoë.Q") == ["zoe", "q"]
    assert prefix_words("06-1234 5678") == prefix_words("+31 6 12345678") == ["31612345678"]
    assert prefix_words("İstanbul foo_bar") == ["istanbul", "foo", "bar"]
    assert prefix_words(" ,. ") == []
    assert fts_query("zoë.q") == '"zoë"* "q"*'  # the centre's query is as it was
    assert fts_query("06 12") == '"31612"*'
