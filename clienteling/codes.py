"""Codes that staff scan: loyalty cards, product barcodes, order numbers, and what a scanner types.

- A loyalty card number is 13 digits in the GS1 restricted-circulation range (first digit
  2) whose last digit is the EAN-13 check digit. It is accepted bare, with spaces or
  dashes, as the QR payload `CLT1:<number>`, or as a URL whose last path segment is it.
- A product code is a GTIN-8, 12, 13 or 14 with its check digit, a GS1 Digital Link URI
  (`https://<host>/01/<gtin>[/22/…][/10/…][/21/…][?<AI>=…]`) or a GS1 element string
  (`(01)…(10)…` or the raw form a GS1 scanner sends); each is normalised to a GTIN-14.
- `classify` says what a scanner's raw text is, so that one field takes them all.
- `card_png` / `card_svg` draw a card's QR code with the number under it, and
  `decode_image` reads QR and EAN codes from a photo or camera frame (zxing-cpp, or
  OpenCV where zxing-cpp cannot be installed).

Every refusal is a `CodeError` whose message says what was scanned and why it is not
what was expected (in English, for scripts and logs), with a `code` and `params` that a
screen words in its own language; nothing else is ever raised for bad input.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote, urlsplit

if TYPE_CHECKING:
    from PIL import Image

CARD_QR_PREFIX = "CLT1:"
ORDER_PATTERN = re.compile(r"^ORD-?(?:([A-Z][0-9A-Z]{3})-?)?([0-9]{8,12})$", re.IGNORECASE)
"""An order number as a person types it or a code holds it: `ORD-K7QM-00001080` (the series of the centre's epoch
that gave it, see clienteling.central.epochs) or, from before series, `ORD-00001080`; dashes and case are optional."""
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
GTIN_LENGTHS = (8, 12, 13, 14)

# AIM symbology identifiers a scanner may put before the data: "]Q1" (QR), "]E0" (EAN-13) …
_AIM_PREFIX = re.compile(r"^\][A-Za-z][0-9A-Za-z]")
_GS1_AIM_PREFIXES = ("]C1", "]d2", "]Q3", "]e0", "]J1")  # the payload is a GS1 element string
_GS = "\x1d"  # FNC1 as a group separator in GS1 element strings
_SEPARATORS = re.compile(r"[\s-]+")
# GS1 application identifiers with a fixed length (digits after the AI), as far as a store needs them.
_FIXED_AIS = {"00": 18, "01": 14, "02": 14, "11": 6, "12": 6, "13": 6, "15": 6, "16": 6, "17": 6, "20": 2}
_VARIABLE_AIS = {"10", "21", "22", "235", "240", "241", "30", "37", "90"}
_PATH_QUALIFIERS = ("22", "10", "21", "235")  # GTIN key qualifiers, in the standard's order


class CodeError(ValueError):
    """A scanned or typed code that is not what it claims to be; the message says why, in English.

    `code` names the reason (`card_check_digit`, `gtin_length` …) and `params` its details (`text`: the scan as
    quoted, `found`, `expected`, `digits` …), for a screen to say in its own language.
    """

    def __init__(self, message: str, code: str = "invalid_code", **params: object) -> None:
        super().__init__(message)
        self.code, self.params = code, params


def _said(text: str, limit: int = 40) -> str:
    """The scanned text as a message quotes it: printable, and cut short when long."""
    printable = "".join(ch if ch.isprintable() else "�" for ch in text)
    return printable if len(printable) <= limit else printable[: limit - 1] + "…"


def _shown(text: str, limit: int = 40) -> str:
    """`_said`, in quotes."""
    return repr(_said(text, limit))


# --------------------------------------------------------------------------- check digits


def gs1_check_digit(body: str) -> int:
    """The GS1 (EAN/UPC/GTIN) check digit for the digits in `body`.

    From the right, digits are weighted 3, 1, 3, 1, …; the check digit brings the weighted
    sum up to a multiple of ten.
    """
    if not body or not (body.isascii() and body.isdigit()):
        raise CodeError(f"{_shown(body)} is not a string of digits", "not_digits", text=_said(body))
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def has_valid_check_digit(digits: str) -> bool:
    return (
        len(digits) >= 2 and digits.isascii() and digits.isdigit() and gs1_check_digit(digits[:-1]) == int(digits[-1])
    )


# --------------------------------------------------------------------------- cleaning


def clean_scan(raw: str) -> str:
    """What a scanner typed, without what it adds: AIM prefix, control characters, Enter.

    Full-width and other compatibility characters are folded (NFKC), so digits typed on a
    tablet's IME read as digits. The GS1 group separator is kept: it delimits fields.
    """
    if not isinstance(raw, str):
        raise CodeError(f"a scan is text, not {type(raw).__name__}", "not_text")
    text = unicodedata.normalize("NFKC", raw).strip()
    if _AIM_PREFIX.match(text) and not text.startswith(_GS1_AIM_PREFIXES):
        text = text[3:]
    return "".join(ch for ch in text if ch == _GS or unicodedata.category(ch)[0] != "C").strip()


# --------------------------------------------------------------------------- loyalty cards


def make_card_number(serial: int) -> str:
    """The card number for a serial (0 <= serial < 10**10): `27`, ten digits, check digit."""
    if not 0 <= serial < 10**10:
        raise CodeError(f"card serial {serial} is out of range", "card_serial_range", serial=serial)
    body = f"27{serial:010d}"
    return body + str(gs1_check_digit(body))


def parse_card_number(text: str) -> str:
    """The 13-digit card number in `text` (spaces and dashes allowed), or a `CodeError` saying why not."""
    shown = text.strip()
    digits = _SEPARATORS.sub("", shown)
    if not digits:
        raise CodeError("no card number was given", "empty_scan")
    if not (digits.isdigit() and digits.isascii()):
        raise CodeError(
            f"{_shown(shown)} is not a card number: a card number has only digits", "card_not_digits", text=_said(shown)
        )
    if len(digits) != 13:
        raise CodeError(
            f"{_shown(shown)} is not a card number: it has {len(digits)} digits, a card number has 13",
            "card_length",
            text=_said(shown),
            digits=len(digits),
        )
    if digits[0] != "2":
        raise CodeError(
            f"{_shown(shown)} is not a loyalty card number: loyalty card numbers start with 2",
            "card_not_loyalty",
            text=_said(shown),
        )
    expected = gs1_check_digit(digits[:12])
    if int(digits[12]) != expected:
        raise CodeError(
            f"{_shown(shown)} is not a valid card number: the check digit is {digits[12]}, "
            f"it should be {expected}; the number may have been mistyped",
            "card_check_digit",
            text=_said(shown),
            found=int(digits[12]),
            expected=expected,
        )
    return digits


def card_payload(number: str) -> str:
    """What a card's QR code holds: `CLT1:` and the number."""
    return CARD_QR_PREFIX + parse_card_number(number)


def parse_card(raw: str) -> str:
    """The card number in anything a scanner or a person gives for a card, or a `CodeError` saying why not."""
    text = clean_scan(raw)
    if not text:
        raise CodeError("nothing was scanned", "empty_scan")
    if text.upper().startswith(CARD_QR_PREFIX):
        return parse_card_number(text[len(CARD_QR_PREFIX) :])
    if _is_url(text):
        if _digital_link_key(text) is not None:
            raise CodeError(
                f"{_shown(text)} is a product's code, not a loyalty card", "card_is_product", text=_said(text)
            )
        segment = _last_segment(text)
        if not segment:
            raise CodeError(
                f"{_shown(text)} is a web address without a card number at its end",
                "card_url_no_number",
                text=_said(text),
            )
        try:
            return parse_card_number(segment)
        except CodeError as error:
            raise CodeError(
                f"{_shown(text)} is not a card: its last part {error}",
                error.code,
                **{**error.params, "text": _said(text)},
            ) from None
    return parse_card_number(text)


# --------------------------------------------------------------------------- product codes


@dataclass(frozen=True)
class ProductCode:
    """A product as a scan names it: its GTIN-14 and any batch, serial or variant that came with it."""

    gtin14: str
    lot: str | None = None
    serial: str | None = None
    variant: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)  # other application identifiers, e.g. {"17": "261231"}


def normalise_gtin(text: str) -> str:
    """A GTIN-8, 12, 13 or 14 as a GTIN-14 (zeros in front), or a `CodeError` saying why not."""
    digits = text.strip().replace(" ", "")
    if not (digits.isascii() and digits.isdigit()):
        raise CodeError(
            f"{_shown(text)} is not a product code: a GTIN has only digits", "gtin_not_digits", text=_said(text)
        )
    if len(digits) not in GTIN_LENGTHS:
        raise CodeError(
            f"{_shown(text)} is not a product code: it has {len(digits)} digits, a GTIN has 8, 12, 13 or 14",
            "gtin_length",
            text=_said(text),
            digits=len(digits),
        )
    expected = gs1_check_digit(digits[:-1])
    if int(digits[-1]) != expected:
        raise CodeError(
            f"{_shown(text)} is not a valid product code: the check digit is {digits[-1]}, it should be {expected}",
            "gtin_check_digit",
            text=_said(text),
            found=int(digits[-1]),
            expected=expected,
        )
    return digits.zfill(14)


def _is_url(text: str) -> bool:
    return bool(re.match(r"^https?://", text, re.IGNORECASE))


def _path_segments(text: str) -> list[str]:
    try:
        parts = urlsplit(text)
    except ValueError:
        raise CodeError(f"{_shown(text)} is not a valid web address", "bad_url", text=_said(text)) from None
    return [unquote(segment) for segment in parts.path.split("/") if segment]


def _last_segment(text: str) -> str | None:
    segments = _path_segments(text)
    return segments[-1] if segments else None


def _digital_link_key(text: str) -> int | None:
    """Where the GTIN key `01` stands among the URI's path segments, if it is a Digital Link."""
    segments = _path_segments(text)
    for index in range(len(segments) - 1):
        if segments[index] == "01" and segments[index + 1].isascii() and segments[index + 1].isdigit():
            return index
    return None


def parse_digital_link(uri: str) -> ProductCode:
    """A GS1 Digital Link URI (`https://<any host>[/<path>]/01/<gtin>[/22/…][/10/…][/21/…][?17=…]`)."""
    text = uri.strip()
    if not _is_url(text):
        raise CodeError(
            f"{_shown(text)} is not a GS1 Digital Link: it is not a web address", "link_not_url", text=_said(text)
        )
    key = _digital_link_key(text)
    if key is None:
        raise CodeError(
            f"{_shown(text)} is not a GS1 Digital Link: it has no /01/ followed by a GTIN",
            "link_no_gtin",
            text=_said(text),
        )
    segments = _path_segments(text)
    gtin14 = normalise_gtin(segments[key + 1])
    qualifiers: dict[str, str] = {}
    rest = segments[key + 2 :]
    if len(rest) % 2:
        raise CodeError(
            f"{_shown(text)} is not a valid GS1 Digital Link: {rest[-1]!r} has no value after it",
            "link_dangling",
            text=_said(text),
            segment=rest[-1],
        )
    for ai, value in zip(rest[::2], rest[1::2], strict=True):
        if ai not in _PATH_QUALIFIERS:
            raise CodeError(
                f"{_shown(text)} is not a valid GS1 Digital Link: /{ai}/ cannot qualify a GTIN",
                "link_bad_qualifier",
                text=_said(text),
                ai=ai,
            )
        qualifiers[ai] = value
    try:
        query = parse_qsl(urlsplit(text).query, keep_blank_values=True)
    except ValueError:
        query = []
    attributes = {ai: value for ai, value in query if ai.isascii() and ai.isdigit() and 2 <= len(ai) <= 4}
    return ProductCode(
        gtin14,
        lot=qualifiers.get("10"),
        serial=qualifiers.get("21"),
        variant=qualifiers.get("22"),
        attributes=attributes,
    )


def parse_element_string(text: str) -> ProductCode:
    """A GS1 element string with a GTIN: `(01)09506000134352(10)ABC` or raw `0109506000134352` + `10ABC<GS>…`."""
    raw = text.strip()
    fields: dict[str, str] = {}
    if raw.startswith("("):
        pairs = re.findall(r"\(([0-9]{2,4})\)([^(]*)", raw)
        if not pairs or "".join(f"({ai}){value}" for ai, value in pairs) != raw:
            raise CodeError(f"{_shown(text)} is not a GS1 element string", "element_string_bad", text=_said(text))
        fields = dict(pairs)
    else:
        rest = raw[3:] if raw.startswith(_GS1_AIM_PREFIXES) else raw
        rest = rest.lstrip(_GS)
        while rest:
            ai = next((a for a in (*_FIXED_AIS, *_VARIABLE_AIS) if rest.startswith(a)), None)
            if ai is None:
                break  # an identifier a store does not need: what came before is kept
            if ai in _FIXED_AIS:
                fields[ai], rest = rest[len(ai) : len(ai) + _FIXED_AIS[ai]], rest[len(ai) + _FIXED_AIS[ai] :]
            else:
                value, _, rest = rest[len(ai) :].partition(_GS)
                fields[ai] = value
            rest = rest.lstrip(_GS)
    if "01" not in fields:
        raise CodeError(
            f"{_shown(text)} has no GTIN (application identifier 01)", "element_string_no_gtin", text=_said(text)
        )
    return ProductCode(
        normalise_gtin(fields["01"]),
        lot=fields.get("10"),
        serial=fields.get("21"),
        variant=fields.get("22"),
        attributes={ai: v for ai, v in fields.items() if ai not in ("01", "10", "21", "22")},
    )


def parse_product_code(raw: str) -> ProductCode:
    """A product in anything a scanner gives for one: GTIN digits, a Digital Link, or an element string."""
    text = clean_scan(raw)
    if not text:
        raise CodeError("nothing was scanned", "empty_scan")
    if _is_url(text):
        return parse_digital_link(text)
    if text.startswith(("(", *_GS1_AIM_PREFIXES)) or _GS in text:
        return parse_element_string(text)
    if len(text) > 14 and text.startswith("01") and text.isdigit():
        return parse_element_string(text)
    return ProductCode(normalise_gtin(text))


# --------------------------------------------------------------------------- the scan field


class ScanKind(StrEnum):
    CARD = "card"
    PRODUCT = "product"
    ORDER = "order"
    EMAIL = "email"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Scan:
    """What one scan or typed entry is.

    `value` is the normalised key to look up (card number, GTIN-14, order number, email in
    lower case; for `unknown`, the cleaned text, for a name search). `error` is set when
    the text looks like a card, product or order but is not a valid one, and says why.
    """

    kind: ScanKind
    value: str
    raw: str
    error: str | None = None
    product: ProductCode | None = None
    error_code: str | None = None  # the `CodeError`'s code and params, for a screen to word
    error_params: dict[str, object] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None and self.kind is not ScanKind.UNKNOWN


def _attempt(kind: ScanKind, raw: str, text: str, parse) -> Scan:
    try:
        result = parse(text)
    except CodeError as error:
        return Scan(kind, text, raw, error=str(error), error_code=error.code, error_params=error.params)
    if isinstance(result, ProductCode):
        return Scan(kind, result.gtin14, raw, product=result)
    return Scan(kind, result, raw)


def _order_number(text: str) -> str:
    match = ORDER_PATTERN.match(text)
    if match is None:
        raise CodeError(
            f"{_shown(text)} is not an order number (such as ORD-K7QM-00001080)", "order_number_bad", text=_said(text)
        )
    series, digits = match.group(1), match.group(2)
    return f"ORD-{series.upper()}-{digits}" if series else f"ORD-{digits}"


def classify(raw: str) -> Scan:
    """Say what a scanner's (or a person's) text is: card, product, order, email or unknown.

    Never raises for any text. Numbers starting with 2 are the company's own (restricted
    circulation) range, so 13 of them (or 12, a card with a digit missed) are a loyalty card;
    other GTIN lengths are products. Other digits are left `unknown`: a phone number, perhaps.
    """
    try:
        text = clean_scan(raw)
    except CodeError as error:
        return Scan(ScanKind.UNKNOWN, "", str(raw), error=str(error), error_code=error.code, error_params=error.params)
    if not text:
        return Scan(ScanKind.UNKNOWN, "", raw, error="nothing was scanned", error_code="empty_scan")
    if text.upper().startswith(CARD_QR_PREFIX):
        return _attempt(ScanKind.CARD, raw, text, parse_card)
    if _is_url(text):
        try:
            if _digital_link_key(text) is not None:
                return _attempt(ScanKind.PRODUCT, raw, text, parse_digital_link)
            last = _last_segment(text) or ""
        except CodeError as error:
            return Scan(ScanKind.UNKNOWN, text, raw, error=str(error), error_code=error.code, error_params=error.params)
        if ORDER_PATTERN.match(last):
            return _attempt(ScanKind.ORDER, raw, last, _order_number)
        if _SEPARATORS.sub("", last).isdigit():
            return _attempt(ScanKind.CARD, raw, text, parse_card)
        return Scan(
            ScanKind.UNKNOWN,
            text,
            raw,
            error=f"{_shown(text)} is a web address, not a card, product or order",
            error_code="url_not_a_code",
            error_params={"text": _said(text)},
        )
    if text.startswith(("(", *_GS1_AIM_PREFIXES)) or _GS in text:
        return _attempt(ScanKind.PRODUCT, raw, text, parse_element_string)
    if EMAIL_PATTERN.match(text):
        return Scan(ScanKind.EMAIL, text.lower(), raw)
    if ORDER_PATTERN.match(text):
        return _attempt(ScanKind.ORDER, raw, text, _order_number)
    digits = _SEPARATORS.sub("", text)
    if digits.isascii() and digits.isdigit():
        if digits[0] == "2" and len(digits) in (12, 13):  # a card, perhaps with a digit missed
            return _attempt(ScanKind.CARD, raw, text, parse_card_number)
        if len(digits) in GTIN_LENGTHS or (len(digits) > 14 and digits.startswith("01")):
            return _attempt(ScanKind.PRODUCT, raw, digits, parse_product_code)
        return Scan(ScanKind.UNKNOWN, digits, raw)  # perhaps the start of a phone number
    return Scan(ScanKind.UNKNOWN, text, raw)


# --------------------------------------------------------------------------- drawing cards


def _card_matrix(number: str) -> list[list[bool]]:
    import qrcode
    from qrcode.constants import ERROR_CORRECT_Q

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, border=4)  # Q: reads through glare and scratches
    code.add_data(card_payload(number))
    code.make(fit=True)
    return code.get_matrix()


def grouped(number: str) -> str:
    """A card number as printed: `2700 0000 0001 4`."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def card_font_path() -> Path:
    """The font cards are printed in: DejaVu Sans, shipped with the app (assets/fonts/), because Pillow's own
    font has no accents and a European customer base's names need them (Zoë, Çelik, Łukasz, Øvergård)."""
    from clienteling.config import assets_dir

    return assets_dir() / "fonts" / CARD_FONT


CARD_FONT = "DejaVuSans.ttf"


def card_image(number: str, *, module_px: int = 12, name: str | None = None) -> Image.Image:
    """A card's QR code with its number printed under it (and a name above, if given), as a PIL image."""
    from PIL import Image, ImageDraw, ImageFont

    number = parse_card_number(number)
    matrix = _card_matrix(number)
    side = len(matrix) * module_px
    text_px = max(module_px * 2, 14)
    header = text_px * 2 if name else 0
    image = Image.new("L", (side, header + side + text_px * 2), 255)
    draw = ImageDraw.Draw(image)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                left, top = x * module_px, header + y * module_px
                draw.rectangle((left, top, left + module_px - 1, top + module_px - 1), fill=0)
    font = ImageFont.truetype(str(card_font_path()), text_px)
    if name:
        draw.text((side / 2, header * 0.6), name, fill=0, font=font, anchor="mm")
    draw.text((side / 2, header + side + text_px * 0.6), grouped(number), fill=0, font=font, anchor="mm")
    return image


def card_png(number: str, *, module_px: int = 12, name: str | None = None) -> bytes:
    buffer = io.BytesIO()
    card_image(number, module_px=module_px, name=name).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def card_svg(number: str, *, name: str | None = None) -> str:
    """The same card as SVG: one path for the dark modules (1 unit each), the number as text."""
    from xml.sax.saxutils import escape

    number = parse_card_number(number)
    matrix = _card_matrix(number)
    size = len(matrix)
    header = 3 if name else 0
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < size:
            if row[x]:
                start = x
                while x < size and row[x]:
                    x += 1
                runs.append(f"M{start} {y + header}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    height = header + size + 3
    title = (
        f'<text x="{size / 2}" y="{header - 0.8}" font-size="1.6" text-anchor="middle" '
        f'font-family="sans-serif">{escape(name)}</text>'
        if name
        else ""
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {height}" width="{size * 10}" height="{height * 10}">'
        f'<rect width="{size}" height="{height}" fill="#fff"/>{title}'
        f'<path fill="#000" d="{"".join(runs)}"/>'
        f'<text x="{size / 2}" y="{header + size + 1.6}" font-size="1.6" text-anchor="middle" '
        f'font-family="monospace">{grouped(number)}</text></svg>\n'
    )


def write_card(number: str, output: str | Path, *, name: str | None = None) -> Path:
    """Draw the card into `output` (.png or .svg). Nothing is written when the number or the name of the file is wrong."""
    path = Path(output)
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise CodeError(
            f"cannot draw a card as {path.name!r}: the file must end in .png or .svg", "card_file_type", name=path.name
        )
    content: bytes = card_png(number, name=name) if suffix == ".png" else card_svg(number, name=name).encode()
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(content)
    partial.replace(path)
    return path


# --------------------------------------------------------------------------- reading images


@dataclass(frozen=True)
class Decoded:
    """One code found in an image: its text and its symbology (`QRCode`, `EAN13`, …)."""

    text: str
    symbology: str


def _open_image(image) -> Image.Image:
    from PIL import Image, UnidentifiedImageError

    if isinstance(image, Image.Image):
        return image
    try:
        if isinstance(image, bytes | bytearray):
            return Image.open(io.BytesIO(image))
        return Image.open(image)
    except (OSError, UnidentifiedImageError, ValueError) as error:
        raise CodeError(f"the image could not be read: {error}", "image_unreadable", detail=str(error)) from None


def _decode_zxing(image: Image.Image) -> list[Decoded]:
    import zxingcpp

    return [Decoded(b.text, b.format.name) for b in zxingcpp.read_barcodes(image) if b.valid]


def _decode_opencv(image: Image.Image) -> list[Decoded]:
    import cv2
    import numpy

    grey = numpy.asarray(image.convert("L"))
    found: list[Decoded] = []
    ok, texts, _, _ = cv2.QRCodeDetector().detectAndDecodeMulti(grey)
    if ok:
        found += [Decoded(t, "QRCode") for t in texts if t]
    if not found:
        text, _, _ = cv2.QRCodeDetector().detectAndDecode(grey)
        if text:
            found.append(Decoded(text, "QRCode"))
    if hasattr(cv2, "barcode"):
        result = cv2.barcode.BarcodeDetector().detectAndDecodeWithType(grey)
        if result[0]:
            found += [Decoded(t, kind.replace("_", "")) for t, kind in zip(result[1], result[2], strict=False) if t]
    return found


DECODERS = {"zxing-cpp": _decode_zxing, "opencv": _decode_opencv}


def available_decoders() -> list[str]:
    """The image decoders this installation has, best first (packaged mobile builds carry OpenCV only)."""
    import importlib.util

    modules = {"zxing-cpp": "zxingcpp", "opencv": "cv2"}
    return [name for name, module in modules.items() if importlib.util.find_spec(module) is not None]


def decode_image(image, *, decoder: str | None = None) -> list[Decoded]:
    """Every QR and EAN/UPC code found in a photo or camera frame (a PIL image, a path or encoded bytes)."""
    names = [decoder] if decoder else available_decoders()
    if not names:
        raise CodeError("no barcode decoder is installed (zxing-cpp or OpenCV)", "no_decoder")
    picture = _open_image(image)
    if picture.mode not in ("L", "RGB"):
        picture = picture.convert("RGB")
    for name in names:
        found = DECODERS[name](picture)
        if found:
            return found
    return []
