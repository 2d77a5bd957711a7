"""Scanned codes: check digits, loyalty cards, GTINs, GS1 Digital Link, and the scan classifier."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from clienteling.codes import (
    CodeError,
    ProductCode,
    ScanKind,
    classify,
    gs1_check_digit,
    make_card_number,
    normalise_gtin,
    parse_card,
    parse_card_number,
    parse_digital_link,
    parse_product_code,
)

serials = st.integers(min_value=0, max_value=10**10 - 1)
cards = serials.map(make_card_number)


@st.composite
def gtins(draw, lengths=(8, 12, 13, 14)) -> str:
    length = draw(st.sampled_from(lengths))
    body = draw(st.text("0123456789", min_size=length - 1, max_size=length - 1))
    if length in (12, 13) and body[0] == "2":  # the company's own range: cards (12: a card with a digit missed)
        body = "8" + body[1:]
    return body + str(gs1_check_digit(body))


# --------------------------------------------------------------------------- check digits


@pytest.mark.parametrize(
    ("body", "check"),
    [("400638133393", 1), ("501234567890", 0), ("03600029145", 2), ("950600013435", 2), ("9638507", 4)],
)
def test_known_check_digits(body, check):
    # EAN-13 4006381333931, 5012345678900, UPC-A 036000291452, GS1's example GTIN 09506000134352, EAN-8 96385074
    assert gs1_check_digit(body) == check


@given(gtins(), st.data())
def test_every_single_digit_error_is_caught(gtin, data):
    position = data.draw(st.integers(0, len(gtin) - 1))
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != gtin[position]]))
    assert gs1_check_digit((gtin[:position] + wrong + gtin[position + 1 :])[:-1]) != int(
        (gtin[:position] + wrong + gtin[position + 1 :])[-1]
    )


@given(gtins(), st.data())
def test_swapped_neighbours_are_caught_unless_they_differ_by_five(gtin, data):
    i = data.draw(st.integers(0, len(gtin) - 2))
    swapped = gtin[:i] + gtin[i + 1] + gtin[i] + gtin[i + 2 :]
    caught = gs1_check_digit(swapped[:-1]) != int(swapped[-1])
    assert caught == (abs(int(gtin[i]) - int(gtin[i + 1])) not in (0, 5))


# --------------------------------------------------------------------------- loyalty cards


@given(cards, st.sampled_from(["{}", " {} ", "{}\r\n", "{}\t"]), st.sampled_from(["", "]Q1", "]E0"]))
def test_card_numbers_are_read_in_every_form(number, spacing, aim):
    forms = [
        number,
        f"{number[:4]} {number[4:8]} {number[8:12]} {number[12]}",
        f"{number[:3]}-{number[3:7]}-{number[7:]}",
        f"CLT1:{number}",
        f"clt1:{number}",
        f"https://loyalty.example.nl/card/{number}",
        f"https://loyalty.example.nl/c/{number}/",
        f"HTTP://LOYALTY.EXAMPLE.NL/{number}?utm_source=app",
    ]
    for form in forms:
        scanned = aim + spacing.format(form)
        assert parse_card(scanned) == number, scanned
        scan = classify(scanned)
        assert (scan.kind, scan.value, scan.error) == (ScanKind.CARD, number, None), scanned


@given(cards, st.integers(1, 9))
def test_a_wrong_check_digit_is_refused_and_says_so(number, change):
    wrong = number[:12] + str((int(number[12]) + change) % 10)
    with pytest.raises(CodeError, match=f"'{wrong}' is not a valid card number: the check digit is"):
        parse_card(wrong)
    scan = classify(wrong)
    assert scan.kind is ScanKind.CARD and not scan.ok and "check digit" in scan.error


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "nothing was scanned"),
        ("27000000000a4", "only digits"),
        ("270000000001", "it has 12 digits, a card number has 13"),
        ("4006381333931", "start with 2"),
        ("CLT1:", "no card number"),
        ("https://loyalty.example.nl/", "without a card number"),
        ("https://loyalty.example.nl/card/hello", "only digits"),
        ("https://id.gs1.org/01/09506000134352", "a product's code, not a loyalty card"),
    ],
)
def test_card_refusals_quote_the_scan_and_say_why(text, reason):
    with pytest.raises(CodeError, match=reason):
        parse_card(text)


def test_a_missed_digit_on_a_card_is_reported_as_a_card_problem():
    scan = classify("270000000001")
    assert scan.kind is ScanKind.CARD and "12 digits" in scan.error


def test_card_number_check_is_the_centres_check():
    assert parse_card_number("2700 0000 0001 4") == "2700000000014"


# --------------------------------------------------------------------------- product codes


@given(gtins())
def test_gtins_of_every_length_normalise_to_gtin14(gtin):
    assert normalise_gtin(gtin) == gtin.zfill(14)
    assert parse_product_code(gtin) == ProductCode(gtin.zfill(14))
    scan = classify(gtin)
    assert (scan.kind, scan.value) == (ScanKind.PRODUCT, gtin.zfill(14))


@given(gtins(), st.integers(1, 9))
def test_a_gtin_with_a_wrong_check_digit_is_refused(gtin, change):
    wrong = gtin[:-1] + str((int(gtin[-1]) + change) % 10)
    with pytest.raises(CodeError, match="check digit"):
        normalise_gtin(wrong)


# Examples in the form of the GS1 Digital Link Standard: URI Syntax (release 1.2, section 4 and its
# worked examples), with GS1's own example GTINs 09506000134352 and 09520123456788.
GS1_EXAMPLES = [
    ("https://id.gs1.org/01/09506000134352", ProductCode("09506000134352")),
    ("https://id.gs1.org/01/09520123456788", ProductCode("09520123456788")),
    ("https://example.com/01/9520123456788", ProductCode("09520123456788")),  # GTIN-13, no leading zero
    ("https://id.gs1.org/01/09506000134352/10/ABC123", ProductCode("09506000134352", lot="ABC123")),
    (
        "https://id.gs1.org/01/09506000134352/10/ABC123/21/456789?17=261231",
        ProductCode("09506000134352", lot="ABC123", serial="456789", attributes={"17": "261231"}),
    ),
    (
        "https://id.gs1.org/01/09520123456788/21/12345",
        ProductCode("09520123456788", serial="12345"),
    ),
    (
        "https://example.com/01/09520123456788/22/2A/10/ABC123/21/12345?17=201225&3103=000195&3922=0299",
        ProductCode(
            "09520123456788",
            variant="2A",
            lot="ABC123",
            serial="12345",
            attributes={"17": "201225", "3103": "000195", "3922": "0299"},
        ),
    ),
    (
        "https://brand.example.com/some-extra/pathinfo/01/09520123456788/10/ABC%2F123?custom=123",
        ProductCode("09520123456788", lot="ABC/123"),  # percent-encoded lot; non-AI query ignored
    ),
    ("https://id.gs1.org/01/09506000134352?3103=000195", ProductCode("09506000134352", attributes={"3103": "000195"})),
    ("HTTPS://ID.GS1.ORG/01/09506000134352", ProductCode("09506000134352")),
    ("http://example.com/01/00012345600012", ProductCode("00012345600012")),
]


@pytest.mark.parametrize(("uri", "expected"), GS1_EXAMPLES)
def test_gs1_digital_link_examples(uri, expected):
    assert parse_digital_link(uri) == expected
    scan = classify(uri)
    assert (scan.kind, scan.value, scan.product) == (ScanKind.PRODUCT, expected.gtin14, expected)


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("https://id.gs1.org/01/09506000134353", "check digit"),
        ("https://id.gs1.org/01/0950600013", "it has 10 digits"),
        ("https://id.gs1.org/gtin/09506000134352", "no /01/"),
        ("https://id.gs1.org/01/09506000134352/10", "no value"),
        ("https://id.gs1.org/01/09506000134352/99/X", "cannot qualify"),
        ("ftp://id.gs1.org/01/09506000134352", "not a web address"),
    ],
)
def test_broken_digital_links_are_refused(uri, reason):
    with pytest.raises(CodeError, match=reason):
        parse_digital_link(uri)


@given(gtins(), st.text("ABCXYZ0123-", min_size=1, max_size=10), st.text("0123456789", min_size=1, max_size=8))
def test_digital_link_and_element_strings_carry_the_same_product(gtin, lot, serial):
    expected = ProductCode(gtin.zfill(14), lot=lot, serial=serial)
    assert parse_product_code(f"https://shop.example.nl/01/{gtin}/10/{lot}/21/{serial}") == expected
    assert parse_product_code(f"(01){gtin.zfill(14)}(10){lot}(21){serial}") == expected
    assert parse_product_code(f"]C101{gtin.zfill(14)}10{lot}\x1d21{serial}") == expected


# --------------------------------------------------------------------------- the classifier

FULL_WIDTH_SANNE = "".join(chr(ord(digit) + 0xFEE0) for digit in "2700000000014")


@pytest.mark.parametrize(
    ("raw", "kind", "value"),
    [
        ("ORD-00001234", ScanKind.ORDER, "ORD-00001234"),
        ("ord00001234\n", ScanKind.ORDER, "ORD-00001234"),
        ("https://shop.example.nl/orders/ORD-00001234", ScanKind.ORDER, "ORD-00001234"),
        (" Sanne.DeVries@Example.COM ", ScanKind.EMAIL, "sanne.devries@example.com"),
        ("sanne de vr", ScanKind.UNKNOWN, "sanne de vr"),
        ("0612", ScanKind.UNKNOWN, "0612"),  # the start of a phone number, for the name search
        ("]E08712340000016", ScanKind.PRODUCT, "08712340000016"),
        (FULL_WIDTH_SANNE, ScanKind.CARD, "2700000000014"),  # full-width digits from a tablet keyboard
    ],
)
def test_classifier_tells_kinds_apart(raw, kind, value):
    scan = classify(raw)
    assert (scan.kind, scan.value, scan.error) == (kind, value, None)


@pytest.mark.parametrize("raw", ["", "   ", "\r\n", "https://example.com/about", "http://[::1"])
def test_classifier_explains_what_it_cannot_use(raw):
    scan = classify(raw)
    assert scan.kind is ScanKind.UNKNOWN and scan.error


scanner_noise = st.one_of(
    st.text(),
    st.binary().map(lambda b: b.decode("latin-1")),
    st.builds(
        lambda prefix, body, suffix: prefix + body + suffix,
        st.sampled_from(["", "]Q1", "]C1", "]d2", "CLT1:", "(01)", "https://x.example/01/", "ORD-", "01", "\x1d"]),
        st.text(st.characters(codec="utf-8"), max_size=40) | st.text("0123456789 -()\x1d/?=&%", max_size=40),
        st.sampled_from(["", "\r", "\n", "\r\n", "\t", "\x00", "\x1d"]),
    ),
)


@given(scanner_noise)
@example("https://[")
@example("(01)")
@example("]C1")
@example("%%%")
@example("https://x.example/01/%ZZ")
def test_fuzzed_scanner_input_never_raises_anything_but_code_error(raw):
    scan = classify(raw)
    assert isinstance(scan.kind, ScanKind)
    for parse in (parse_card, parse_product_code):
        try:
            parse(raw)
        except CodeError as error:
            assert str(error)
