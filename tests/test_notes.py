"""Notes and tags on the profile (issue 14): written offline in one store, sent once, shown in every store that
serves the customer with who wrote them, where and when; erased with the customer. Real centre, real devices, on
both backends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import Central, clienteling, demo_centre, free_port

from clienteling.config import Settings
from clienteling.device import Device

pytestmark = pytest.mark.both_backends


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[Central]:
    with demo_centre(backend, tmp_path_factory.mktemp("notes"), 120) as server:
        yield server


def open_device(folder, url: str, store: str) -> Device:
    return Device(Settings.load(folder, central_url=url, device_token=f"demo-{store}", store=store))


def served_by_both(centre: Central) -> str:
    """A customer in the scope of Amsterdam's and Utrecht's devices alike."""
    return centre.rows(
        "SELECT a.customer_id FROM customer_scope a JOIN customer_scope u ON u.customer_id = a.customer_id"
        " WHERE a.store = 'AMS01' AND u.store = 'UTR01' ORDER BY a.customer_id LIMIT 1"
    )[0][0]


def test_a_note_written_offline_in_amsterdam_is_read_in_utrecht_with_who_where_and_when(centre, tmp_path) -> None:
    customer = served_by_both(centre)
    amsterdam_folder = tmp_path / "ams"
    with open_device(amsterdam_folder, centre.url, "AMS01") as amsterdam:
        assert amsterdam.sync_now().ok
    with open_device(amsterdam_folder, f"http://127.0.0.1:{free_port()}", "AMS01") as cut_off:
        note = cut_off.add_note(customer, "Tried the navy coat in M: sleeves too long", staff="S0001")
        tag = cut_off.add_note(customer, "prefers WhatsApp", staff="S0001", kind="tag")
        picture = cut_off.customer_picture(customer)
        assert [c.command_id for c in picture.notes_waiting] == [note.command_id]  # the tag is a chip instead
        assert picture.tags == ["prefers WhatsApp"] and tag.state == "waiting"  # shown at once, offline
    with open_device(amsterdam_folder, centre.url, "AMS01") as amsterdam:
        for _ in range(2):  # a second round sends nothing again
            assert amsterdam.sync_now().ok
        assert amsterdam.command(note.command_id).state == "sent"
    assert centre.rows("SELECT count(*) FROM notes WHERE customer_id = ?", (customer,)) == [(2,)]
    with open_device(tmp_path / "utr", centre.url, "UTR01") as utrecht:
        assert utrecht.sync_now().ok
        picture = utrecht.customer_picture(customer)
    (seen,) = [n for n in picture.notes if n.kind == "note"]
    assert seen.text == "Tried the navy coat in M: sleeves too long"
    assert (seen.author, seen.author_name, seen.store) == ("S0001", "Lotte Visser", "AMS01")
    assert picture.tags == ["prefers WhatsApp"] and picture.notes_waiting == []


def test_a_store_that_does_not_serve_the_customer_never_gets_her_notes(centre, tmp_path) -> None:
    only_amsterdam = centre.rows(
        "SELECT customer_id FROM customer_scope WHERE store = 'AMS01' AND customer_id NOT IN"
        " (SELECT customer_id FROM customer_scope WHERE store = 'RTD01') ORDER BY customer_id LIMIT 1"
    )[0][0]
    with open_device(tmp_path / "ams", centre.url, "AMS01") as amsterdam:
        assert amsterdam.sync_now().ok
        amsterdam.add_note(only_amsterdam, "Wants the camel scarf for her mother", staff="S0002")
    with centre.client("demo-RTD01") as rotterdam:
        items = rotterdam.get("/v1/sync/notes", params={"after": "0", "limit": 1000}).json()["items"]
    assert only_amsterdam not in {item["customer_id"] for item in items}


def test_erasing_the_customer_takes_her_notes_off_every_device(centre, tmp_path) -> None:
    customer = served_by_both(centre)
    with open_device(tmp_path / "utr", centre.url, "UTR01") as utrecht:
        assert utrecht.sync_now().ok
        utrecht.add_note(customer, "Asked about the wedding collection", staff="S0004")
        assert utrecht.sync_now().ok
        assert utrecht.customer_picture(customer).notes
        erased = clienteling("central", "forget-customer", customer, "--db", str(centre.db))
        assert erased.returncode == 0, erased.stderr
        assert utrecht.sync_now().ok
        assert utrecht.cache.query("SELECT count(*) FROM notes WHERE customer_id = ?", (customer,)) == [(0,)]
