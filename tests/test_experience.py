"""How it went (issue 15): a store touchpoint made on a device (offline too) carries a link that a phone opens without
an account; one answer per touchpoint, in Dutch or English; the answers by week per type, store and associate, the
worst with their comments, as JSON and CSV; the staff pulse shown only where it tells no one's answer. Real centre,
real device, on both backends."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from conftest import Central, clienteling, demo_centre, free_port, new_key

from clienteling import rules
from clienteling.config import Settings
from clienteling.contract import FEEDBACK_TOKEN, Experience
from clienteling.device import Device
from clienteling.device.journal import new_feedback_token

pytestmark = pytest.mark.both_backends


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[Central]:
    with demo_centre(backend, tmp_path_factory.mktemp("experience"), 80) as server:
        yield server


@pytest.fixture(scope="module")
def admin(centre):
    made = clienteling("central", "add-admin", "--label", "cx team", "--db", str(centre.db))
    assert made.returncode == 0, made.stderr
    with centre.client(made.stdout.strip()) as client:
        yield client


def open_device(folder, url: str, store: str = "AMS01") -> Device:
    return Device(Settings.load(folder, central_url=url, device_token=f"demo-{store}", store=store))


def page(centre: Central, path: str, **kwargs) -> httpx.Response:
    with httpx.Client(base_url=centre.url, timeout=10) as phone:  # no token: a customer's phone
        return phone.request(kwargs.pop("method", "GET"), path, **kwargs)


def answer(centre: Central, url: str, **form) -> httpx.Response:
    return page(centre, url.split(centre.url, 1)[1] if url.startswith(centre.url) else url, method="POST", data=form)


def touchpoint(centre: Central, customer: str, kind: str = "return", staff: str | None = "S0002", **more) -> str:
    token = new_feedback_token()
    with centre.client() as amsterdam:
        made = amsterdam.post(
            f"/v1/customers/{customer}/touchpoints",
            json={"token": token, "type": kind, "staff_id": staff, "at": datetime.now(UTC).isoformat(), **more},
            headers={"Idempotency-Key": new_key()},
        )
    assert made.status_code == 201, made.text
    return token


def report(client: httpx.Client, **params) -> Experience:
    got = client.get("/v1/experience", params=params)
    assert got.status_code == 200, got.text
    return Experience.model_validate(got.json())


def test_a_return_taken_offline_is_rated_from_a_phone_once_and_lands_in_the_right_place(centre, tmp_path) -> None:
    folder = tmp_path / "ams"
    with open_device(folder, centre.url) as device:
        assert device.sync_now().ok
    with open_device(folder, f"http://127.0.0.1:{free_port()}") as cut_off:
        link = cut_off.ask_how_it_went("C0000003", "return", staff="S0002", reference="RET-00000001")
    assert re.fullmatch(FEEDBACK_TOKEN, link.token) and link.url.endswith(f"/r/{link.token}")
    assert page(centre, f"/r/{link.token}").status_code == 404  # not at the centre yet: the page says try later
    with open_device(folder, centre.url) as device:
        assert device.sync_now().ok and device.command(link.command_id).state == "sent"
        assert device.needs_attention() == [] and device.sync_state().waiting == 0  # nobody's work to wait for
    form = page(centre, f"/r/{link.token}", headers={"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"})
    assert form.status_code == 200 and form.headers["cache-control"] == "no-store"
    assert "Hoe ging het terugbrengen van je artikel bij Clienteling Amsterdam Kalverstraat?" in form.text
    assert "Je werd geholpen door Ruben." in form.text and 'name="score"' in form.text
    english = page(centre, f"/r/{link.token}?lang=en")
    assert "How was bringing your item back at Clienteling Amsterdam Kalverstraat?" in english.text

    before = report(httpx.Client(base_url=centre.url, headers={"Authorization": "Bearer demo-AMS01"}))
    done = answer(centre, f"/r/{link.token}?lang=en", score="2", comment="Waited 20 minutes at the desk")
    assert done.status_code == 200 and "Thank you!" in done.text and "will get back to you" in done.text
    again = answer(centre, f"/r/{link.token}?lang=en", score="5", comment="")
    assert again.status_code == 409 and "You have answered already" in again.text
    assert "You have answered already" in page(centre, f"/r/{link.token}?lang=en").text

    with centre.client() as amsterdam:
        after = report(amsterdam)
    week = rules.week_of(rules.store_day(datetime.now(UTC)))
    assert after.weeks[-1] == week and after.store == "AMS01"
    returns = next(line for line in after.by_type if line.key == "return")
    assert returns.weeks[-1].answers == 1 + next(
        (line.weeks[-1].answers for line in before.by_type if line.key == "return"), 0
    )
    ruben = next(line for line in after.by_staff if line.key == "S0002")
    assert ruben.name == "Ruben Smit" and ruben.weeks[-1].low >= 1
    worst = next(a for a in after.lowest if a.token == link.token)
    assert (worst.score, worst.comment, worst.lang, worst.type) == (2, "Waited 20 minutes at the desk", "en", "return")
    events = centre.rows("SELECT type FROM events WHERE subject = 'customer:C0000003' AND type = 'feedback.received'")
    assert len(events) == 1


def test_the_form_says_what_is_wrong_and_keeps_what_was_typed(centre) -> None:
    token = touchpoint(centre, "C0000001", "consult", staff="S0001")
    missing = answer(centre, f"/r/{token}?lang=en", comment="Lovely <b>help</b>")
    assert missing.status_code == 400 and "Choose a score from 1 to 5." in missing.text
    assert "Lovely &lt;b&gt;help&lt;/b&gt;" in missing.text  # kept, and never markup
    for bad in ("0", "6", "five", "3.5"):
        assert answer(centre, f"/r/{token}", score=bad).status_code == 400
    too_long = answer(centre, f"/r/{token}?lang=nl", score="4", comment="x" * 1001)
    assert too_long.status_code == 400 and "korter dan 1000 tekens" in too_long.text
    assert page(centre, f"/r/{token}", method="POST", content=b"score=4&comment=" + b"x" * 20_000).status_code == 413
    assert answer(centre, f"/r/{token}", score="5", comment="Top\x00 service").status_code == 200


def test_a_link_that_names_no_visit_or_an_old_one_is_said_plainly(centre) -> None:
    for path in ("/r/aaaaaaaaaaaa", "/r/NOT-A-TOKEN", "/r/" + "a" * 200):
        got = page(centre, path + "?lang=en")
        assert got.status_code == 404 and "We cannot find this visit" in got.text and "Traceback" not in got.text
    old = touchpoint(centre, "C0000001", "ship_to_home", at=(datetime.now(UTC) - timedelta(days=40)).isoformat())
    closed = page(centre, f"/r/{old}?lang=en")
    assert closed.status_code == 410 and "This question has closed" in closed.text
    assert answer(centre, f"/r/{old}", score="5").status_code == 410


def test_a_token_names_one_touchpoint_and_only_staff_of_the_store_serve(centre) -> None:
    token = touchpoint(centre, "C0000001", "consult", staff="S0001")
    with centre.client() as amsterdam:
        taken = amsterdam.post(
            "/v1/customers/C0000001/touchpoints",
            json={"token": token, "type": "return", "at": datetime.now(UTC).isoformat()},
            headers={"Idempotency-Key": new_key()},
        )
        assert taken.status_code == 409 and taken.json()["code"] == "token_taken"
        stranger = amsterdam.post(
            "/v1/customers/C0000001/touchpoints",
            json={
                "token": new_feedback_token(),
                "type": "consult",
                "staff_id": "S0004",
                "at": datetime.now(UTC).isoformat(),
            },
            headers={"Idempotency-Key": new_key()},
        )
        assert stranger.status_code == 422 and stranger.json()["code"] == "unknown_staff"


def test_the_staff_pulse_tells_no_one_s_answer(centre, tmp_path, admin) -> None:
    with open_device(tmp_path / "utr", centre.url, "UTR01") as utrecht:
        first = utrecht.rate_shift(2)
        utrecht.rate_shift(4)
        assert utrecht.sync_now().ok and utrecht.command(first.command_id).state == "sent"
        assert utrecht.command(first.command_id).staff is None  # not kept with a name here either
        hidden = report(admin, store="UTR01").pulse.weeks[-1]
        assert (hidden.answers, hidden.average) == (2, None)  # two answers would tell each other's
        utrecht.rate_shift(3)
        assert utrecht.sync_now().ok
    shown = report(admin, store="UTR01").pulse.weeks[-1]
    assert (shown.answers, shown.average) == (3, 3.0)
    kept = centre.rows("SELECT * FROM pulse WHERE store = 'UTR01'")
    assert len(kept[0]) == 4  # a random id, the store, the day, the score: nothing that names who
    assert sorted(row[3] for row in kept) == [2, 3, 4]


def test_the_csv_has_every_answer_without_customer_ids_and_runs_no_formula(centre, admin) -> None:
    token = touchpoint(centre, "C0000002", "enrolment", staff="S0001")
    assert answer(centre, f"/r/{token}?lang=nl", score="1", comment='=HYPERLINK("http://x")').status_code == 200
    got = admin.get("/v1/experience/answers.csv", params={"store": "AMS01"})
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(got.text)))
    mine = next(r for r in rows if r["token"] == token)
    assert mine["comment"].startswith("'=HYPERLINK") and mine["score"] == "1" and mine["staff_name"] == "Lotte Visser"
    assert "C0000002" not in got.text and "customer_id" not in rows[0]
    with centre.client("demo-UTR01") as utrecht:
        theirs = utrecht.get("/v1/experience/answers.csv")
        assert theirs.status_code == 200 and token not in theirs.text  # a device reads its own store's only
        assert utrecht.get("/v1/experience", params={"store": "AMS01"}).json()["store"] == "UTR01"


def test_a_manager_s_device_keeps_the_report_for_when_the_centre_is_away(centre, tmp_path) -> None:
    folder = tmp_path / "ams"
    with open_device(folder, centre.url) as device:
        fetched = device.experience()
    assert fetched.offline is None and fetched.dashboard.store == "AMS01"
    with open_device(folder, f"http://127.0.0.1:{free_port()}") as cut_off:
        kept = cut_off.experience()
    assert kept.offline == "centre_unreachable" and kept.dashboard == fetched.dashboard


# ------------------------------------------------------------------ service recovery (issue 15)


def recovery_tasks(centre: Central, customer: str, reason: str) -> list[dict]:
    docs = [json.loads(d) for (d,) in centre.rows("SELECT doc FROM follow_ups WHERE customer_id = ?", (customer,))]
    return [d for d in docs if d.get("reason") == reason]


def test_a_low_rating_that_says_why_puts_her_on_the_store_s_list(centre) -> None:
    assert recovery_tasks(centre, "C0000011", "service_recovery_feedback") == []
    quiet = touchpoint(centre, "C0000011", "consult", staff="S0001")
    assert answer(centre, f"/r/{quiet}", score="1", comment="").status_code == 200  # low, but says nothing: no task
    assert recovery_tasks(centre, "C0000011", "service_recovery_feedback") == []
    said = touchpoint(centre, "C0000011", "return", staff="S0002")
    assert answer(centre, f"/r/{said}", score="2", comment="Nobody at the desk for ages").status_code == 200
    (task,) = recovery_tasks(centre, "C0000011", "service_recovery_feedback")
    assert (task["store"], task["assignee"], task["origin"], task["state"]) == ("AMS01", None, "centre", "open")
    assert task["about"] == {"touchpoint": "return", "score": 2, "quote": "Nobody at the desk for ages"}
    again = touchpoint(centre, "C0000011", "consult", staff="S0001")
    assert answer(centre, f"/r/{again}", score="1", comment="Still cross").status_code == 200
    assert len(recovery_tasks(centre, "C0000011", "service_recovery_feedback")) == 1  # she is on the list already


def test_a_negative_chat_from_a_known_customer_is_a_follow_up_for_her_home_store(centre) -> None:
    made = clienteling("central", "add-integration", "--name", "care", "--may", "conversations", "--db", str(centre.db))
    assert made.returncode == 0, made.stderr
    now = datetime.now(UTC).replace(microsecond=0)

    def chat(cid: str, texts: list[str]) -> dict:
        return {
            "id": cid,
            "customer_id": "C0000002",  # Daan: Utrecht's
            "channel": "social",
            "subject": "DM",
            "status": "open",
            "messages": [
                {"author": "customer", "text": t, "at": (now + timedelta(seconds=i)).isoformat()}
                for i, t in enumerate(texts)
            ],
            "started_at": now.isoformat(),
            "updated_at": (now + timedelta(seconds=len(texts))).isoformat(),
        }

    with centre.client(made.stdout.strip()) as care:

        def send(doc: dict, version: int) -> None:
            sent = care.post("/v1/ingest/conversations", json=[{"version": version, "data": doc}])
            assert sent.status_code == 200 and sent.json()["accepted"] == 1, sent.text

        send(chat("CV0900000001", ["Hoe laat gaat de winkel in Utrecht zaterdag open?"]), 1)
        assert recovery_tasks(centre, "C0000002", "service_recovery_chat") == []  # a question is not a complaint
        angry = "Drie weken gewacht en nog steeds geen geld terug. Echt waardeloze service."
        send(chat("CV0900000001", ["Hoe laat gaat de winkel in Utrecht zaterdag open?", angry]), 2)
        (task,) = recovery_tasks(centre, "C0000002", "service_recovery_chat")
        assert task["store"] == "UTR01" and task["about"] == {"channel": "social", "quote": angry}
        send(chat("CV0900000001", ["Hoe laat gaat de winkel in Utrecht zaterdag open?", angry]), 3)  # sent again
        assert len(recovery_tasks(centre, "C0000002", "service_recovery_chat")) == 1
    with centre.client("demo-UTR01") as utrecht:
        feed = utrecht.get("/v1/sync/follow_ups", params={"after": "0", "limit": 1000}).json()["items"]
    assert task["id"] in {item["id"] for item in feed}  # Utrecht's devices get it
