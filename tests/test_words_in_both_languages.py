"""Dutch means Dutch, below the browser: every error code is worded in both languages (never the English text of the
error), every word the data carries has an entry, and numbers, money and dates read as each language writes them."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import get_args

import pytest
from conftest import free_port, start_central

import clienteling
from clienteling import codes
from clienteling.central import demo_vocab
from clienteling.central.problems import CATALOGUE
from clienteling.config import Settings
from clienteling.contract import Channel, ConversationChannel, Message, OrderStatus, Tier, utc_now
from clienteling.device import (
    CustomerNotFound,
    DeviceError,
    InvalidScan,
    OrderNotFound,
    OutOfStock,
    ProductNotFound,
    ReturnNotAllowed,
    UnknownStaff,
    WrongPin,
)
from clienteling.rules import RETURN_WINDOW
from clienteling.ui import i18n
from clienteling.ui.i18n import STRINGS

PACKAGE = Path(clienteling.__file__).parent
LANGS = ("en", "nl")


def worded(error: BaseException, *parts: str) -> dict[str, str]:
    """The error in both languages: each from its own entry (not the general sentence), each with `parts`."""
    said = {lang: i18n.explain(lang, error) for lang in LANGS}
    for lang, text in said.items():
        assert text != STRINGS[lang]["error_unknown"], (lang, getattr(error, "code", None))
        assert all(part in text for part in parts), (lang, text, parts)
    assert said["nl"] != said["en"]
    assert str(error) != said["nl"]
    return said


# ------------------------------------------------------------------ every code has words


def raised_codes(path: Path, exception: str) -> set[str]:
    """The codes a module gives its errors: `CodeError(message, "code")`, `code="…"`, `default_code = "…"`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == exception and len(node.args) > 1:
            found.add(getattr(node.args[1], "value", None))
        if isinstance(node, ast.keyword) and node.arg in ("code", "error_code"):
            found.add(getattr(node.value, "value", None))
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["default_code"]:
            found.add(node.value.value)
    found = {code for code in found if isinstance(code, str)}
    return found


@pytest.mark.parametrize(
    ("module", "exception"),
    [("codes.py", "CodeError"), ("device/facade.py", "DeviceError"), ("device/errors.py", "DeviceError")],
)
def test_every_code_an_error_is_given_has_words_in_both_languages(module, exception):
    found = raised_codes(PACKAGE / module, exception)
    assert len(found) >= 3, found  # the scan of the source works (codes made up at run time: tests below)
    missing = {lang: sorted(c for c in found if f"error_{c}" not in STRINGS[lang]) for lang in LANGS}
    assert missing == {"en": [], "nl": []}


def test_every_return_refusal_of_the_rules_has_words():
    from clienteling import rules

    documented = {line.split("`")[1] for line in rules.Refusal.__doc__.splitlines() if line.strip().startswith("- `")}
    assert documented >= {"bought_in_store", "window_closed", "too_many"}
    assert all(f"error_{code}" in STRINGS[lang] for code in documented for lang in LANGS)


def test_both_tables_have_the_same_keys_and_the_same_placeholders():
    import string

    assert set(STRINGS["nl"]) == set(STRINGS["en"])
    for key, english in STRINGS["en"].items():
        fields = {lang: {f for _, f, _, _ in string.Formatter().parse(STRINGS[lang][key]) if f} for lang in LANGS}
        assert fields["nl"] == fields["en"], (key, english)


# ------------------------------------------------------------------ code errors (what was scanned)


@pytest.mark.parametrize(
    ("attempt", "code", "dutch"),
    [
        (lambda: codes.parse_card("2700000000015"), "card_check_digit", "'2700000000015' is geen geldig pasnummer"),
        (lambda: codes.parse_card(""), "empty_scan", "Er is niets gescand."),
        (lambda: codes.parse_card("27000000000a4"), "card_not_digits", "alleen cijfers"),
        (lambda: codes.parse_card("270000000001"), "card_length", "het heeft 12 cijfers, een pasnummer heeft er 13"),
        (lambda: codes.parse_card("4006381333931"), "card_not_loyalty", "beginnen met 2"),
        (lambda: codes.parse_card("CLT1:"), "empty_scan", "niets gescand"),
        (lambda: codes.parse_card("https://loyalty.example.nl/"), "card_url_no_number", "zonder pasnummer"),
        (lambda: codes.parse_card("https://loyalty.example.nl/card/hello"), "card_not_digits", "card/hello"),
        (lambda: codes.parse_card("https://id.gs1.org/01/09506000134352"), "card_is_product", "code van een product"),
        (lambda: codes.normalise_gtin("95060001343"), "gtin_length", "het heeft 11 cijfers"),
        (lambda: codes.normalise_gtin("09506000134353"), "gtin_check_digit", "het controlecijfer is 3, dat moet 2"),
        (lambda: codes.normalise_gtin("0950600013435x"), "gtin_not_digits", "alleen cijfers"),
        (lambda: codes.parse_digital_link("hello"), "link_not_url", "geen webadres"),
        (lambda: codes.parse_digital_link("https://x.example/p/1"), "link_no_gtin", "geen /01/"),
        (lambda: codes.parse_digital_link("https://x.example/01/09506000134352/10"), "link_dangling", "'10'"),
        (lambda: codes.parse_digital_link("https://x.example/01/09506000134352/99/a"), "link_bad_qualifier", "/99/"),
        (lambda: codes.parse_element_string("(01"), "element_string_bad", "GS1-elementstring"),
        (lambda: codes.parse_element_string("(10)ABC"), "element_string_no_gtin", "geen GTIN"),
        (lambda: codes.gs1_check_digit("12a"), "not_digits", "niet alleen uit cijfers"),
        (lambda: codes.make_card_number(-1), "card_serial_range", "-1"),
        (lambda: codes.clean_scan(5), "not_text", "geen tekst"),
        (lambda: codes.write_card("2700000000014", "card.txt"), "card_file_type", "card.txt"),
        (lambda: codes.decode_image(b"not an image"), "image_unreadable", "afbeelding"),
    ],
)
def test_a_code_error_is_worded_in_both_languages(attempt, code, dutch):
    with pytest.raises(codes.CodeError) as refused:
        attempt()
    assert refused.value.code == code
    assert dutch in worded(refused.value)["nl"]


def test_a_scan_that_is_wrong_keeps_its_code_for_the_screen():
    scan = codes.classify("https://example.nl/hello")
    assert (scan.error_code, scan.error_params) == ("url_not_a_code", {"text": "https://example.nl/hello"})
    assert codes.classify("ORD-12").error_code is None  # not an order number: a name search, not an error
    wrong = codes.classify("2700000000015")
    assert wrong.error_code == "card_check_digit" and wrong.error_params["expected"] == 4


# ------------------------------------------------------------------ device errors


@pytest.fixture(scope="module")
def centre(tmp_path_factory):
    server = start_central(tmp_path_factory.mktemp("words-centre") / "central.db", "--demo", "--customers", "100")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def device(centre, tmp_path_factory):
    from clienteling.device import Device

    settings = Settings.load(
        tmp_path_factory.mktemp("words-device"), central_url=centre.url, device_token="demo-AMS01", store="AMS01"
    )
    with Device(settings) as device:
        assert device.sync_now().ok
        yield device


def test_look_up_errors_are_worded_with_their_details(device):
    with pytest.raises(InvalidScan) as wrong_card:
        device.lookup("2700000000015")
    assert wrong_card.value.code == "card_check_digit" and "check digit" in str(wrong_card.value)
    said = worded(wrong_card.value, "2700000000015")
    assert "controlecijfer" in said["nl"] and "check digit" not in said["nl"]

    with pytest.raises(CustomerNotFound) as nobody:
        device.lookup("nobody@example.com")
    assert nobody.value.code == "customer_not_found_email"
    assert worded(nobody.value)["nl"] == "Geen klant heeft het e-mailadres nobody@example.com."

    with pytest.raises(CustomerNotFound) as no_card:
        device.lookup("2799999999997")
    assert no_card.value.code == "customer_not_found_card"
    assert worded(no_card.value)["nl"] == "Geen klant heeft pasnummer 2799999999997."

    with pytest.raises(ProductNotFound) as no_product:
        device.product("NO-SUCH-SKU")
    assert worded(no_product.value)["nl"] == "Geen product heeft de code NO-SUCH-SKU."

    with pytest.raises(OrderNotFound) as no_order:
        device.lookup("ORD-99999999")
    assert worded(no_order.value)["nl"] == "Er is geen order ORD-99999999."


def test_sign_in_errors_are_worded(device):
    lotte = next(m for m in device.staff_list() if m.name == "Lotte Visser")
    with pytest.raises(WrongPin) as wrong:
        device.sign_in(lotte.id, "999999")
    assert worded(wrong.value, "4")["nl"].startswith("Die pincode klopt niet. Nog 4 pogingen")
    device.sign_in(lotte.id, "112233")  # the count starts afresh
    with pytest.raises(UnknownStaff) as stranger:
        device.sign_in("S9999", "112233")
    assert worded(stranger.value)["nl"] == STRINGS["nl"]["error_unknown_staff"]
    one_left = WrongPin("…", staff_id=lotte.id, tries_left=1)
    assert worded(one_left)["nl"].startswith("Die pincode klopt niet. Nog 1 poging ")


def test_stock_and_return_errors_are_worded(device):
    sku = "CT01-NVY-M"
    with pytest.raises(OutOfStock) as short:
        device.place_ship_to_home("C0000001", [(sku, 100_000)], fulfilling_store="AMS01", send_now=False)
    said = worded(short.value, sku)
    assert "100.000 gevraagd" in said["nl"] and "100,000 wanted" in said["en"]

    orders = device.customer_picture("C0000001").orders
    old = next(
        o
        for o in orders
        if o.fulfilment == "delivery" and o.delivered_at and utc_now() - o.delivered_at > RETURN_WINDOW
    )
    with pytest.raises(ReturnNotAllowed) as late:
        device.register_return(
            old.number,
            [{"line_no": 1, "quantity": 1, "reason": "too_small", "condition": "resellable"}],
            send_now=False,
        )
    closed = old.delivered_at + RETURN_WINDOW
    said = worded(late.value)
    assert (
        said["nl"] == f"De retourtermijn van 30 dagen is verlopen op {i18n.local(closed, lang='nl', with_time=False)}."
    )
    assert i18n.local(closed, lang="en", with_time=False) in said["en"]


def test_a_customer_looked_up_while_the_centre_is_away_says_so_in_dutch(tmp_path):
    from clienteling.device import Device

    away = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with (
        Device(Settings.load(tmp_path, central_url=away, device_token="t", store="AMS01")) as lonely,
        pytest.raises(CustomerNotFound) as nobody,
    ):
        lonely.lookup("nobody@example.com")
    assert nobody.value.code == "customer_not_found_email_offline"
    assert "de centrale is niet bereikbaar" in worded(nobody.value, "nobody@example.com")["nl"]


def test_an_unknown_code_or_a_missing_detail_reads_as_a_general_sentence_in_the_screen_language():
    odd = DeviceError("The flux capacitor is empty.", code="flux_capacitor_empty")
    assert i18n.explain("nl", odd) == STRINGS["nl"]["error_unknown"]
    assert i18n.explain("en", odd) == STRINGS["en"]["error_unknown"]
    assert i18n.explain("nl", ProductNotFound("No product has the code X.")) == STRINGS["nl"]["error_unknown"]
    assert i18n.explain("nl", RuntimeError("boom")) == STRINGS["nl"]["error_unknown"]


def test_the_screen_session_never_shows_the_english_text_of_a_device_error():
    from types import SimpleNamespace

    from clienteling.ui.session import Session

    session = Session(SimpleNamespace(), "nl", None, [], print, print, print)
    refused = ProductNotFound("No product has the code X1.", params={"code": "X1"})
    assert session.explain(refused) == "Geen product heeft de code X1."
    assert session.explain(OSError("disk full")) == STRINGS["nl"]["error_unknown"]
    assert session.explain(ValueError(session.t("fill_address"))) == STRINGS["nl"]["fill_address"]  # its own words


# ------------------------------------------------------------------ the centre's refusals (Needs attention)


@pytest.mark.parametrize(
    ("document", "dutch"),
    [
        (
            {
                "code": "out_of_stock",
                "store": "AMS01",
                "lines": [{"sku": "CT01-NVY-M", "requested": 2, "available": 0}],
            },
            "Niet genoeg voorraad in AMS01 voor CT01-NVY-M.",
        ),
        ({"code": "unknown_sku", "sku": "ZZ"}, "De centrale kent product ZZ niet."),
        ({"code": "return_window_closed", "window_closed_at": "2025-01-31T23:30:00+00:00"}, "verlopen op 01-02-2025."),
        ({"code": "return_quantity_exceeded", "line_no": 2, "returnable": 1}, "Regel 2: er kan nog maar 1 retour."),
        ({"code": "order_not_delivered"}, "De order is nog niet bezorgd."),
        ({"code": "something_new"}, "De centrale weigerde dit (reden: something_new)."),
        (None, "De centrale weigerde dit (reden: ?)."),
    ],
)
def test_a_refusal_of_the_centre_is_worded_from_its_code(document, dutch):
    assert dutch in i18n.refusal_text("nl", document)
    assert i18n.refusal_text("en", document) != i18n.refusal_text("nl", document)


def test_every_refusal_a_command_can_get_has_words():
    command_codes = set(CATALOGUE) - {
        "bad_request",
        "unauthorized",
        "forbidden",
        "not_found",
        "method_not_allowed",
        "collection_not_found",
        "reset_required",
        "internal_error",
        "invalid_card_number",
        "product_not_found",
        "too_many_profile_reads",  # only profile reads get it, never a command; and a 429 is retried, not shown
        "payload_too_large",  # only the retailer's systems get it, on an ingest batch; a device never sends one
        "touchpoint_not_found",  # these three only a customer's phone gets, on the rating page (in its own words)
        "already_answered",
        "feedback_closed",
    }
    assert all(f"error_centre_{code}" in STRINGS[lang] for code in command_codes for lang in LANGS)


# ------------------------------------------------------------------ words the data carries


def test_every_catalogue_colour_chat_author_channel_tier_and_status_has_words():
    for lang in LANGS:
        for name in demo_vocab.COLOURS.values():
            assert f"colour_{name.replace(' ', '_')}" in STRINGS[lang], name
        assert all(f"author_{a}" in STRINGS[lang] for a in get_args(Message.model_fields["author"].annotation))
        assert all(f"chat_channel_{c}" in STRINGS[lang] for c in get_args(ConversationChannel))
        assert all(f"channel_{c}" in STRINGS[lang] for c in get_args(Channel))
        assert all(f"tier_{t}" in STRINGS[lang] for t in get_args(Tier))
        assert set(i18n.STATUS[lang]) == set(get_args(OrderStatus))
    assert i18n.colour("nl", "navy") == "marineblauw" and i18n.colour("nl", "forest green") == "bosgroen"
    assert i18n.colour("en", "burgundy") == "burgundy" and i18n.colour("nl", "burgundy") == "bordeauxrood"
    assert i18n.author("nl", "customer") == "Klant" and i18n.chat_channel("nl", "web_chat") == "webchat"


@pytest.mark.parametrize(
    ("first", "last", "shown"),
    [
        ("Sanne", "de Vries", "SV"),
        ("Daan", "van der Meer", "DM"),
        ("Fatima", "El Amrani", "FE"),
        ("Zoë", "Çelik", "ZÇ"),
    ],
)
def test_initials_leave_out_the_small_words_of_a_dutch_name(first, last, shown):
    assert i18n.initials(first, last) == shown


# ------------------------------------------------------------------ Babel's formats


def test_numbers_and_points_are_grouped_as_each_language_writes_them():
    assert (i18n.number(6220, "nl"), i18n.number(6220, "en")) == ("6.220", "6,220")
    assert i18n.tr("nl", "points", points=i18n.number(6220, "nl")) == "6.220 punten"
    assert (i18n.decimal(12.34, "nl"), i18n.decimal(12.34, "en")) == ("12,3", "12.3")


def test_money_is_written_as_each_language_writes_it():
    assert i18n.money(6995, "nl") == "€\xa069,95"  # a space that never breaks the amount from its sign
    assert i18n.money(6995, "en") == "€69.95"
    assert i18n.money(1, "nl") == "€\xa00,01"


@pytest.mark.parametrize(
    ("moment", "nl", "en"),
    [
        (datetime(2025, 7, 1, 10, 5, tzinfo=UTC), "01-07-2025, 12:05", "01/07/2025, 12:05"),  # summer time: UTC+2
        (datetime(2025, 1, 15, 23, 30, tzinfo=UTC), "16-01-2025, 00:30", "16/01/2025, 00:30"),  # winter: UTC+1
    ],
)
def test_dates_and_times_are_the_stores_in_each_language(moment, nl, en):
    assert (i18n.local(moment, lang="nl"), i18n.local(moment, lang="en")) == (nl, en)
    assert i18n.local(moment, lang="nl", with_time=False) == nl.split(",")[0]


@pytest.mark.parametrize(
    ("before", "nl", "en"),
    [
        (timedelta(seconds=20), "zojuist", "just now"),
        (timedelta(seconds=-30), "zojuist", "just now"),  # a clock a little ahead
        (timedelta(minutes=5), "5 minuten geleden", "5 minutes ago"),
        (timedelta(hours=3), "3 uur geleden", "3 hours ago"),
        (timedelta(days=3), "3 dagen geleden", "3 days ago"),
    ],
)
def test_ago_phrases_are_each_languages_own(before, nl, en):
    now = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)
    assert (i18n.ago("nl", now - before, now), i18n.ago("en", now - before, now)) == (nl, en)
    assert i18n.tr("nl", "last_sync", ago=i18n.ago("nl", now - before, now)).startswith("gesynchroniseerd ")
