"""Reaching out (issue 14), end to end over HTTP on both backends: a message written on a device offline waits in
the outbox and reaches the centre once; the running centre hands it to the local sink by itself; it comes back in
her Chats with the associate's name; her reply (from the provider's inbound route, or made up with the CLI) follows
it; what is refused is refused with a problem document; only administrators read the sink."""

from __future__ import annotations

import time

import pytest
from conftest import clienteling, demo_centre, free_port, new_key

from clienteling.config import Settings
from clienteling.contract import OutreachMessage
from clienteling.device import Device
from clienteling.device.errors import MessageNotAllowed

pytestmark = pytest.mark.both_backends

LOTTE = "S0001"
SANNE = "C0000001"  # email and WhatsApp, no SMS


@pytest.fixture(scope="module")
def centre(tmp_path_factory, backend: str):
    with demo_centre(backend, tmp_path_factory.mktemp("centre"), 40) as server:
        yield server


def open_device(data_dir, url: str, store: str = "AMS01") -> Device:
    return Device(Settings.load(data_dir, central_url=url, device_token=f"demo-{store}", store=store))


def synced(data_dir, url: str, store: str = "AMS01") -> Device:
    device = open_device(data_dir, url, store)
    report = device.sync_now()
    assert report.ok, report.error
    return device


def wait_for(condition, what: str, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"waited {timeout} s for {what}")


def test_a_message_written_offline_is_sent_once_and_comes_back_in_her_chats(centre, tmp_path) -> None:
    with synced(tmp_path / "ams", centre.url) as online:
        assert online.message_channels(SANNE) == {"whatsapp": None, "sms": "no_consent", "email": None}
        link = online.product_link("CT01", "CT01-NVY-M")
        assert link.endswith("/p/CT01?sku=CT01-NVY-M")
    with open_device(tmp_path / "ams", f"http://127.0.0.1:{free_port()}") as offline:
        with pytest.raises(MessageNotAllowed) as refused:
            offline.send_message(SANNE, channel="sms", template="thanks_visit", lang="nl", text="Hoi", staff=LOTTE)
        assert refused.value.code == "no_consent" and refused.value.params == {"channel": "sms"}
        made = offline.send_message(
            SANNE,
            channel="whatsapp",
            template="back_in_size",
            lang="nl",
            sku="CT01-NVY-M",
            text=f"Hoi Sanne, de jas is er weer in jouw maat. {link}",
            staff=LOTTE,
        )
        assert made.state == "waiting" and made.kind == "message"
        assert offline.sync_now().ok is False  # still offline: it waits
        assert offline.command(made.command_id).state == "waiting"
    with synced(tmp_path / "ams", centre.url) as device:
        done = device.command(made.command_id)
        assert done.state == "sent", done.reason
        message = OutreachMessage.model_validate(done.answer)
        assert (message.staff_name, message.store, message.channel, message.sku) == (
            "Lotte Visser",
            "AMS01",
            "whatsapp",
            "CT01-NVY-M",
        )
        assert device.sync_now().ok  # another round sends nothing again
        rows = centre.rows("SELECT id, status FROM outreach_messages WHERE customer_id = ?", (SANNE,))
        assert [r[0] for r in rows] == [message.id]
        # the running centre hands it to its provider (the local sink) by itself, after answering
        wait_for(lambda: centre.rows("SELECT 1 FROM outreach_sink WHERE reference = ?", (message.id,)), "the sink")
        assert len(centre.rows("SELECT 1 FROM outreach_sink WHERE reference = ?", (message.id,))) == 1
        chat = next(c for c in device.customer_picture(SANNE).conversations if c.id == message.conversation_id)
        said = chat.messages[-1]
        assert (said.author, said.staff_name, said.store, said.text) == (
            "agent",
            "Lotte Visser",
            "AMS01",
            message.text,
        )

        # her reply through the provider's inbound route, and one made up with the sink's CLI
        made_token = clienteling(
            "central", "add-integration", "--name", "whatsapp", "--may", "conversations", "--db", str(centre.db)
        )
        assert made_token.returncode == 0, made_token.stderr
        with centre.client(made_token.stdout.strip()) as provider:
            reply = {"channel": "whatsapp", "text": "Ja, leg hem apart!", "reference": message.id}
            key = new_key()
            answer = provider.post("/v1/outreach/inbound", json=reply, headers={"Idempotency-Key": key})
            assert answer.status_code == 201, answer.text
            again = provider.post("/v1/outreach/inbound", json=reply, headers={"Idempotency-Key": key})
            assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
            nowhere = provider.post(
                "/v1/outreach/inbound",
                json={"channel": "sms", "text": "?", "sender": "+31600000001"},
                headers={"Idempotency-Key": new_key()},
            )
            assert nowhere.status_code == 404 and nowhere.json()["code"] == "conversation_not_found"
        made_up = clienteling("central", "outreach-reply", message.id, "Tot zaterdag", "--db", str(centre.db))
        assert made_up.returncode == 0, made_up.stderr
        listed = clienteling("central", "outreach-messages", "--db", str(centre.db))
        assert message.id in listed.stdout and "sent" in listed.stdout
        assert device.sync_now().ok
        chat = next(c for c in device.customer_picture(SANNE).conversations if c.id == message.conversation_id)
        assert [(m.author, m.text) for m in chat.messages[-3:]] == [
            ("agent", message.text),
            ("customer", "Ja, leg hem apart!"),
            ("customer", "Tot zaterdag"),
        ]


def test_the_centre_refuses_what_she_did_not_consent_to(centre) -> None:
    body = {
        "channel": "sms",
        "template": "thanks_visit",
        "lang": "en",
        "text": "Hi Sanne",
        "staff_id": LOTTE,
        "written_at": "2026-11-30T12:00:00+00:00",
    }
    with centre.client() as device:
        answer = device.post(f"/v1/customers/{SANNE}/messages", json=body, headers={"Idempotency-Key": new_key()})
        assert answer.status_code == 422
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["code"] == "no_consent"
        extra = device.post(
            f"/v1/customers/{SANNE}/messages",
            json={**body, "channel": "whatsapp", "colour": "navy"},
            headers={"Idempotency-Key": new_key()},
        )
        assert extra.status_code == 422 and extra.json()["code"] == "invalid_request"  # commands are strict


def test_only_an_administrator_reads_the_sink_and_only_a_conversations_writer_replies(centre) -> None:
    made = clienteling("central", "add-admin", "--label", "operator", "--db", str(centre.db))
    assert made.returncode == 0, made.stderr
    with centre.client(made.stdout.strip()) as admin:
        sent = admin.get("/v1/outreach/sent")
        assert sent.status_code == 200 and isinstance(sent.json(), list)
    with centre.client() as device:
        assert device.get("/v1/outreach/sent").status_code == 403
        reply = {"channel": "whatsapp", "text": "Hi", "sender": "+31683992408"}
        assert (
            device.post("/v1/outreach/inbound", json=reply, headers={"Idempotency-Key": new_key()}).status_code == 403
        )
    stock_only = clienteling("central", "add-integration", "--name", "erp-x", "--may", "stock", "--db", str(centre.db))
    with centre.client(stock_only.stdout.strip()) as erp:
        refused = erp.post("/v1/outreach/inbound", json=reply, headers={"Idempotency-Key": new_key()})
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"


def test_another_stores_device_sees_the_message_and_an_unreadable_chat_hides_nothing_else(centre, tmp_path) -> None:
    import json
    import sqlite3

    with synced(tmp_path / "ams", centre.url) as ams, synced(tmp_path / "utr", centre.url, "UTR01") as utr:
        # Sem in Utrecht writes to Sanne, an Amsterdam customer: fetched online there, then Utrecht serves her too
        assert not centre.rows("SELECT 1 FROM customer_scope WHERE customer_id = ? AND store = 'UTR01'", (SANNE,))
        assert utr.message_channels(SANNE)["email"] is None
        made = utr.send_message(
            SANNE, channel="email", template="thanks_visit", lang="en", text="Thank you for coming!", staff="S0004"
        )
        assert made.state == "sent", made.reason
        message = OutreachMessage.model_validate(made.answer)
        assert centre.rows("SELECT reason FROM customer_scope WHERE customer_id = ? AND store = 'UTR01'", (SANNE,)) == [
            ("outreach",)
        ]
        assert ams.sync_now().ok and utr.sync_now().ok
        for device in (ams, utr):
            chat = next(c for c in device.customer_picture(SANNE).conversations if c.id == message.conversation_id)
            said = chat.messages[-1]
            assert (chat.channel, said.staff_name, said.store, said.text) == (
                "email",
                "Sem de Boer",
                "UTR01",
                "Thank you for coming!",
            )

        # a chat this version cannot read (a channel a newer centre added) leaves the rest of her picture as it was
        before = ams.customer_picture(SANNE)
        odd = {**chat.model_dump(mode="json"), "id": "CV9999999", "channel": "carrier_pigeon"}
        with sqlite3.connect(ams.settings.cache_path) as cache:
            cache.execute(
                "INSERT INTO conversations (id, customer_id, updated_at, doc, gen) VALUES (?, ?, ?, ?, 0)",
                ("CV9999999", SANNE, odd["updated_at"], json.dumps(odd)),
            )
        after = ams.customer_picture(SANNE)
        assert [c.id for c in after.conversations] == [c.id for c in before.conversations]
        assert after.customer == before.customer and after.orders == before.orders
