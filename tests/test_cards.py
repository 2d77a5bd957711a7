"""Loyalty cards drawn by `clienteling card` and read back from images, as a camera would see them."""

from __future__ import annotations

import io
import random
import re

import numpy
import pytest
import zxingcpp
from conftest import clienteling
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from clienteling.codes import (
    CodeError,
    ScanKind,
    available_decoders,
    card_font_path,
    card_image,
    card_svg,
    classify,
    decode_image,
    make_card_number,
)

SANNE = "2700000000014"


def read_card(image: Image.Image, decoder: str | None = None) -> str | None:
    """The card number that a scan of `image` gives, through the same classifier the app's scan field uses."""
    for found in decode_image(image, decoder=decoder):
        scan = classify(found.text)
        if scan.kind is ScanKind.CARD and scan.ok:
            return scan.value
    return None


def as_photo(card: Image.Image, *, scale: float, angle: float, noise: float, glare: bool, seed: int) -> Image.Image:
    """The card as a camera frame: scaled, turned, on a cluttered background, with sensor noise, glare and JPEG."""
    rng = random.Random(seed)
    picture = card.convert("RGB")
    picture = picture.resize((max(1, int(picture.width * scale)), max(1, int(picture.height * scale))), Image.BILINEAR)
    picture = picture.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=(200, 190, 170))
    frame = Image.new("RGB", (picture.width + 160, picture.height + 120), (120, 110, 100))
    draw = ImageDraw.Draw(frame)
    for _ in range(40):  # a shop counter: shapes in the background
        x, y = rng.randrange(frame.width), rng.randrange(frame.height)
        draw.rectangle(
            (x, y, x + rng.randint(5, 60), y + rng.randint(5, 60)), fill=tuple(rng.randrange(256) for _ in range(3))
        )
    frame.paste(picture, (80 + rng.randint(-20, 20), 60 + rng.randint(-20, 20)))
    if glare:  # a bright reflection from a phone screen or laminated card
        light = Image.new("L", frame.size, 0)
        ImageDraw.Draw(light).ellipse(
            (frame.width * 0.35, frame.height * 0.3, frame.width * 0.6, frame.height * 0.55), fill=140
        )
        frame = Image.composite(
            Image.new("RGB", frame.size, (255, 255, 255)), frame, light.filter(ImageFilter.GaussianBlur(12))
        )
    if noise:
        grain = Image.effect_noise(frame.size, noise).convert("RGB")
        frame = Image.blend(frame, grain, 0.25)
    buffer = io.BytesIO()
    frame.save(buffer, format="JPEG", quality=rng.randint(35, 80))
    return Image.open(io.BytesIO(buffer.getvalue()))


def test_a_card_is_read_back_by_every_installed_decoder():
    assert set(available_decoders()) == {"zxing-cpp", "opencv"}  # both are test dependencies
    card = card_image(SANNE, name="Sanne de Vries")
    for decoder in available_decoders():
        assert read_card(card, decoder) == SANNE, decoder


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    serial=st.integers(0, 10**10 - 1),
    scale=st.floats(0.3, 1.0),
    angle=st.floats(0, 360),
    noise=st.floats(0, 40),
    glare=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_cards_survive_scaling_rotation_noise_and_glare(serial, scale, angle, noise, glare, seed):
    number = make_card_number(serial)
    photo = as_photo(card_image(number), scale=scale, angle=angle, noise=noise, glare=glare, seed=seed)
    assert read_card(photo) == number


@pytest.mark.parametrize(("scale", "angle"), [(0.5, 0), (1.0, 90), (0.7, 180)])
def test_the_opencv_fallback_reads_cards_too(scale, angle):
    photo = as_photo(card_image(SANNE), scale=scale, angle=angle, noise=10, glare=False, seed=1)
    assert read_card(photo, "opencv") == SANNE


@pytest.mark.parametrize("decoder", ["zxing-cpp", "opencv"])
def test_product_barcodes_are_read_as_products(decoder):
    gtin = "8712340000016"
    barcode = zxingcpp.create_barcode(gtin, zxingcpp.BarcodeFormat.EAN13)
    image = Image.fromarray(numpy.asarray(barcode.to_image(scale=4))).convert("L")
    photo = as_photo(image, scale=1.0, angle=3, noise=5, glare=False, seed=2)
    scans = [classify(found.text) for found in decode_image(photo, decoder=decoder)]
    assert [(s.kind, s.value) for s in scans] == [(ScanKind.PRODUCT, "0" + gtin)]


def test_svg_card_holds_the_same_code():
    svg = card_svg(SANNE, name="Sanne & co")
    assert "2700 0000 0001 4" in svg and "Sanne &amp; co" in svg
    size = int(re.search(r'viewBox="0 0 (\d+) ', svg).group(1))
    header = 3
    module = 8
    raster = Image.new("L", (size * module, (size + header + 3) * module), 255)
    draw = ImageDraw.Draw(raster)
    for x, y, width in re.findall(r"M(\d+) (\d+)h(\d+)v1", svg):
        x, y, width = int(x), int(y), int(width)
        draw.rectangle((x * module, y * module, (x + width) * module - 1, (y + 1) * module - 1), fill=0)
    assert read_card(raster) == SANNE


def test_card_command_draws_png_and_svg(tmp_path):
    for name in ("card.png", "card.svg"):
        result = clienteling("card", "2700 0000 0002 1", "-o", str(tmp_path / name), "--name", "Daan Jansen")
        assert result.returncode == 0, result.stderr
        assert "2700000000021" in result.stdout
    assert read_card(Image.open(tmp_path / "card.png")) == "2700000000021"
    assert (tmp_path / "card.svg").read_text().startswith("<svg")


@pytest.mark.parametrize(
    ("number", "output", "message"),
    [
        ("2700000000015", "x.png", "check digit is 5, it should be 4"),
        ("hello", "x.png", "only digits"),
        (SANNE, "x.jpg", "must end in .png or .svg"),
        (SANNE, "missing/folder/x.png", "cannot write"),
    ],
)
def test_card_command_refuses_clearly_and_writes_nothing(tmp_path, number, output, message):
    result = clienteling("card", number, "-o", str(tmp_path / output))
    assert result.returncode != 0
    assert message in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.rglob("*")) == []


def test_an_image_without_codes_gives_nothing_and_a_broken_file_says_so():
    assert decode_image(Image.new("RGB", (200, 200), (255, 255, 255))) == []
    with pytest.raises(CodeError, match="could not be read"):
        decode_image(b"not a picture")


LACKING = "\ue000"  # a private-use character no font we ship has: it is drawn as the font's missing-glyph box


@pytest.mark.parametrize("letter", list("ëÇçéèêïöüáàåäøæœßñãõłŁńśźżčšžřěůőűăşţğıİ"))
def test_the_card_font_draws_the_letters_of_european_names(letter):
    font = ImageFont.truetype(str(card_font_path()), 28)
    drawn = font.getmask(letter)
    assert drawn.getbbox() is not None, f"{letter!r} is drawn as nothing"
    missing = font.getmask(LACKING)
    assert (drawn.size, bytes(drawn)) != (missing.size, bytes(missing)), f"{letter!r} is drawn as the missing box"


def test_a_card_prints_an_accented_name_with_its_accents(tmp_path):
    """The name above the code: with boxes for ë and Ç the card would equal the one drawn with boxes on purpose."""
    result = clienteling("card", SANNE, "-o", str(tmp_path / "zoe.png"), "--name", "Zoë Çelik")
    assert result.returncode == 0, result.stderr
    printed = Image.open(tmp_path / "zoe.png").convert("L")
    boxes = card_image(SANNE, name=f"Zo{LACKING} {LACKING}elik")
    plain = card_image(SANNE, name="Zoe Celik")
    assert printed.size == boxes.size
    assert ImageChops.difference(printed, boxes).getbbox() is not None
    assert ImageChops.difference(printed, plain).getbbox() is not None  # the accents are on the card
    assert read_card(printed) == SANNE
