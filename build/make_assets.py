"""Make the app's pictures: the icon, the splash, the browser icons and one small picture per demo style.

    python build/make_assets.py            # writes into assets/
    python build/make_assets.py --check    # exits 1 if a picture is missing (does not compare pixels)

Everything is drawn here with Pillow from rectangles, ellipses and polygons, so the pictures are ours
(CC0, see assets/LICENSES.md) and can be made again after a change to the demo catalogue. Drawing happens
at four times the size and is scaled down for smooth edges; the PNGs are stored with a small palette so
that all 56 product pictures stay well under 1 MB together.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clienteling.central import demo_vocab  # after the path is set, so a checkout needs no install

ASSETS = ROOT / "assets"
TEAL = (0, 121, 107)  # Material teal 700, the app's brand colour (ft.Colors.TEAL_700)
TEAL_DARK = (0, 77, 64)  # teal 900
WHITE = (255, 255, 255)
PAPER = (244, 241, 236)  # the product pictures' background
SCALE = 4  # draw at 4x, then scale down

# The demo vocabulary's colour codes as RGB.
RGB: dict[str, tuple[int, int, int]] = {
    "NVY": (31, 45, 77),
    "BLK": (33, 33, 36),
    "CML": (193, 145, 92),
    "OLV": (107, 112, 62),
    "GRY": (138, 141, 145),
    "WHT": (250, 250, 248),
    "ECR": (232, 224, 200),
    "BRG": (110, 28, 44),
    "SND": (214, 196, 160),
    "FST": (34, 84, 61),
    "RST": (168, 78, 42),
    "DNM": (67, 97, 140),
    "CHR": (64, 66, 72),
    "CRM": (243, 234, 210),
    "KHK": (160, 150, 100),
    "MST": (214, 166, 42),
}


def shade(colour: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    """Darker (factor < 1) or lighter (factor > 1, towards white) version of a colour."""
    if factor <= 1:
        return tuple(round(c * factor) for c in colour)
    return tuple(round(c + (255 - c) * (factor - 1)) for c in colour)


def outline_for(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    light = sum(colour) / 3 > 200
    return shade(colour, 0.72) if light else shade(colour, 0.55)


def detail_for(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    """Seams, buttons and ribs: darker on light cloth, lighter on dark cloth."""
    return shade(colour, 0.78) if sum(colour) / 3 > 90 else shade(colour, 1.35)


def scaled(points, s: int = SCALE):
    return [(x * s, y * s) for x, y in points]


# --- the product pictures (drawn on a 256 x 256 grid, times SCALE) -----------------------------------------


def draw_coat(d: ImageDraw.ImageDraw, name: str, colour) -> None:
    line, mark = outline_for(colour), detail_for(colour)
    w = 4 * SCALE
    long = any(k in name for k in ("overcoat", "trench", "wool coat", "duffle", "teddy", "car coat", "parka"))
    hem = 232 if long else 206
    body = [(84, 52), (172, 52), (196, 72), (222, 190), (200, 198), (184, 120), (182, hem), (74, hem), (72, 120)]
    body += [(56, 198), (34, 190), (60, 72)]
    d.polygon(scaled(body), fill=colour, outline=line, width=w)
    if any(k in name for k in ("parka", "duffle", "rain", "field")):  # a hood behind the collar
        d.ellipse(scaled([(98, 26), (158, 70)]), fill=shade(colour, 0.85), outline=line, width=w)
    if any(k in name for k in ("puffer", "quilted", "down")):  # quilting across body and sleeves
        for y in range(78, hem - 8, 22):
            d.line(scaled([(76, y), (180, y)]), fill=mark, width=w)
    # collar / lapels
    d.polygon(scaled([(104, 52), (128, 100), (152, 52), (140, 52), (128, 76), (116, 52)]), fill=mark)
    d.line(scaled([(128, 100), (128, hem)]), fill=line, width=w)
    double = any(k in name for k in ("peacoat", "trench", "car coat"))
    buttons = range(116, hem - 10, 30)
    for y in buttons:
        for x in (116, 140) if double else (136,):
            d.ellipse(scaled([(x - 4, y - 4), (x + 4, y + 4)]), fill=mark)
    if "trench" in name or "belt" in name:
        d.rectangle(scaled([(74, 140), (182, 150)]), fill=shade(colour, 0.85), outline=line, width=w)
    if "duffle" in name:  # toggles
        for y in buttons:
            d.rounded_rectangle(scaled([(122, y - 3), (146, y + 3)]), radius=3 * SCALE, fill=(236, 226, 200))
    # pockets
    d.line(scaled([(86, 164), (104, 164)]), fill=line, width=w)
    d.line(scaled([(152, 164), (170, 164)]), fill=line, width=w)


def draw_trousers(d: ImageDraw.ImageDraw, name: str, colour) -> None:
    line, mark = outline_for(colour), detail_for(colour)
    w = 4 * SCALE
    # the left leg's hem runs from `outer` to `inner`; the right leg mirrors it
    if any(k in name for k in ("wide", "barrel", "linen", "pleated")):
        outer, inner = 50, 124
    elif "bootcut" in name:
        outer, inner = 62, 122
    elif any(k in name for k in ("slim", "jogger", "tailored")):
        outer, inner = 84, 120
    else:
        outer, inner = 72, 122
    legs = [(84, 50), (172, 50), (256 - outer, 236), (256 - inner, 236), (128, 112), (inner, 236), (outer, 236)]
    d.polygon(scaled(legs), fill=colour, outline=line, width=w)
    d.rectangle(scaled([(84, 36), (172, 54)]), fill=shade(colour, 0.88), outline=line, width=w)
    for x in (96, 128, 160):  # belt loops
        d.line(scaled([(x, 36), (x, 56)]), fill=line, width=w)
    d.line(scaled([(128, 54), (128, 100)]), fill=line, width=w)  # fly
    stitch = (214, 166, 42) if "jeans" in name else mark
    d.arc(scaled([(80, 40), (116, 84)]), 0, 90, fill=stitch, width=w)  # front pockets
    d.arc(scaled([(140, 40), (176, 84)]), 90, 180, fill=stitch, width=w)
    if "cargo" in name or "workwear" in name:
        for x0 in (outer + 4, 256 - inner + 4):
            d.rectangle(scaled([(x0 + 2, 140), (x0 + 30, 172)]), fill=shade(colour, 0.9), outline=line, width=w)
    if "corduroy" in name:
        for x in range(94, 168, 10):
            d.line(scaled([(x, 62), (x + (10 if x > 128 else -10), 222)]), fill=mark, width=2 * SCALE)
    if "pleated" in name or "tailored" in name:  # creases
        d.line(scaled([((outer + inner) // 2 + 6, 60), ((outer + inner) // 2, 234)]), fill=mark, width=2 * SCALE)
        d.line(
            scaled([(256 - (outer + inner) // 2 - 6, 60), (256 - (outer + inner) // 2, 234)]),
            fill=mark,
            width=2 * SCALE,
        )
    if "jogger" in name:  # cuffs
        d.rectangle(scaled([(outer, 224), (inner, 236)]), fill=mark)
        d.rectangle(scaled([(256 - inner, 224), (256 - outer, 236)]), fill=mark)


def draw_knit(d: ImageDraw.ImageDraw, name: str, colour) -> None:
    line, mark = outline_for(colour), detail_for(colour)
    w = 4 * SCALE
    vest = "vest" in name
    body = [(82, 58), (174, 58), (188, 74), (186, 212), (70, 212), (68, 74)]
    if not vest:
        sleeve_l = [(82, 58), (68, 74), (40, 196), (62, 204), (86, 110)]
        sleeve_r = [(174, 58), (188, 74), (216, 196), (194, 204), (170, 110)]
        d.polygon(scaled(sleeve_l), fill=colour, outline=line, width=w)
        d.polygon(scaled(sleeve_r), fill=colour, outline=line, width=w)
        d.rectangle(scaled([(38, 190), (62, 206)]), fill=mark)  # cuffs
        d.rectangle(scaled([(194, 190), (218, 206)]), fill=mark)
    d.polygon(scaled(body), fill=colour, outline=line, width=w)
    d.rectangle(scaled([(70, 196), (186, 212)]), fill=mark)  # ribbed hem
    for x in range(76, 186, 8):
        d.line(scaled([(x, 198), (x, 210)]), fill=shade(mark, 0.85), width=SCALE)
    if "cable" in name or "fisherman" in name:
        for x in (104, 128, 152):
            for y in range(86, 190, 16):
                d.arc(scaled([(x - 8, y), (x + 8, y + 16)]), 270, 90, fill=mark, width=w)
                d.arc(scaled([(x - 8, y + 8), (x + 8, y + 24)]), 90, 270, fill=mark, width=w)
    if "ribbed" in name:
        for x in range(82, 180, 10):
            d.line(scaled([(x, 80), (x, 194)]), fill=mark, width=2 * SCALE)
    # necklines
    if "rollneck" in name:
        d.rounded_rectangle(scaled([(104, 30), (152, 66)]), radius=8 * SCALE, fill=mark, outline=line, width=w)
    elif "v-neck" in name or vest or "cardigan" in name:
        d.polygon(scaled([(108, 58), (128, 100), (148, 58)]), fill=PAPER, outline=line, width=w)
    elif "polo" in name:
        d.polygon(scaled([(104, 56), (128, 70), (116, 86)]), fill=mark, outline=line, width=w)
        d.polygon(scaled([(152, 56), (128, 70), (140, 86)]), fill=mark, outline=line, width=w)
    else:
        d.chord(scaled([(106, 44), (150, 76)]), 0, 180, fill=PAPER, outline=line, width=w)
        d.arc(scaled([(102, 40), (154, 82)]), 0, 180, fill=mark, width=2 * w)
    if "half-zip" in name:
        d.line(scaled([(128, 60), (128, 112)]), fill=(200, 200, 200), width=w)
    if "cardigan" in name:
        d.line(scaled([(128, 100), (128, 196)]), fill=line, width=w)
        for y in range(112, 194, 20):
            d.ellipse(scaled([(132, y - 4), (140, y + 4)]), fill=mark)


def draw_sneaker(d: ImageDraw.ImageDraw, name: str, colour) -> None:
    line, mark = outline_for(colour), detail_for(colour)
    w = 4 * SCALE
    high = "high-top" in name
    chunky = "chunky" in name or "trail" in name
    sole_top = 178 if chunky else 186
    dark = sum(colour) / 3 < 200
    sole_colour = (245, 245, 242) if dark else (58, 58, 60)
    collar = 70 if high else 108
    upper = [
        (28, sole_top),
        (30, collar + 8),
        (40, collar),
        (62, collar + 6),
        (80, collar + 20 if not high else collar),
    ]
    upper += [(98, 92 if not high else collar), (112, 96 if not high else collar + 8), (176, 136), (214, 148)]
    upper += [(234, 164), (236, sole_top)]
    d.polygon(scaled(upper), fill=colour, outline=line, width=w)
    # the heel counter in the detail colour
    d.polygon(scaled([(28, sole_top), (30, collar + 8), (44, collar + 2), (54, sole_top)]), fill=mark)
    d.rounded_rectangle(
        scaled([(22, sole_top), (240, 212 if chunky else 206)]),
        radius=9 * SCALE,
        fill=sole_colour,
        outline=line,
        width=w,
    )
    d.line(scaled([(22, sole_top + 12), (240, sole_top + 12)]), fill=line, width=2 * SCALE)
    if chunky:
        for x in range(34, 232, 14):
            d.line(scaled([(x, 204), (x + 7, 212)]), fill=line, width=2 * SCALE)
    if "slip-on" not in name:  # laces across the lace line from the tongue to the toe
        start, end = ((98, 78), (160, 128)) if high else ((112, 102), (168, 134))
        count = 6 if high else 5
        lace = WHITE if dark else line
        for i in range(count):
            t = i / (count - 1)
            x, y = start[0] + (end[0] - start[0]) * t, start[1] + (end[1] - start[1]) * t
            d.line(scaled([(x - 7, y + 9), (x + 7, y - 5)]), fill=lace, width=w)
    if any(k in name for k in ("runner", "running", "retro")):  # two stripes on the side
        d.line(scaled([(86, 176), (136, 128)]), fill=mark, width=3 * w)
        d.line(scaled([(110, 176), (154, 136)]), fill=mark, width=3 * w)
    if "high-top" in name:  # the ankle patch
        d.ellipse(scaled([(50, 110), (74, 134)]), fill=WHITE, outline=line, width=w)


DRAW = {"coats": draw_coat, "trousers": draw_trousers, "knitwear": draw_knit, "sneakers": draw_sneaker}


def product_picture(category: str, name: str, colour_code: str, size: int = 256) -> Image.Image:
    big = Image.new("RGB", (256 * SCALE, 256 * SCALE), PAPER)
    DRAW[category](ImageDraw.Draw(big), name.lower(), RGB[colour_code])
    return big.resize((size, size), Image.Resampling.LANCZOS)


# --- the icon and the splash ------------------------------------------------------------------------------


def draw_mark(d: ImageDraw.ImageDraw, box: tuple[int, int, int, int], card=WHITE, ink=TEAL) -> None:
    """The app's mark: a customer card with a person on it (a white card with a teal person and lines)."""
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    d.rounded_rectangle(box, radius=int(height * 0.14), fill=card)
    # the person: a head and round shoulders, cut off by the card's lower edge
    cx, cy = x0 + width * 0.3, y0 + height * 0.42
    head = height * 0.17
    d.ellipse([cx - head, cy - head, cx + head, cy + head], fill=ink)
    shoulders = height * 0.3
    top = cy + head * 1.25
    d.pieslice([cx - shoulders, top, cx + shoulders, top + shoulders * 2], 180, 360, fill=ink)
    # three lines of text
    lx0, lx1 = x0 + width * 0.56, x1 - width * 0.1
    thick = height * 0.085
    for i, length in enumerate((1.0, 0.8, 0.55)):
        ly = y0 + height * (0.3 + i * 0.2)
        d.rounded_rectangle([lx0, ly, lx0 + (lx1 - lx0) * length, ly + thick], radius=thick / 2, fill=ink)


def icon(size: int = 1024) -> Image.Image:
    big = Image.new("RGB", (size * SCALE // 2, size * SCALE // 2), TEAL)
    s = big.width
    d = ImageDraw.Draw(big)
    draw_mark(d, (int(s * 0.16), int(s * 0.27), int(s * 0.84), int(s * 0.73)))
    return big.resize((size, size), Image.Resampling.LANCZOS)


def splash(size: int = 768) -> Image.Image:
    """The mark alone on a transparent ground; the splash colour (teal) is set in pyproject.toml."""
    big = Image.new("RGBA", (size * 2, size * 2), (0, 0, 0, 0))
    s = big.width
    draw_mark(ImageDraw.Draw(big), (int(s * 0.1), int(s * 0.27), int(s * 0.9), int(s * 0.73)))
    return big.resize((size, size), Image.Resampling.LANCZOS)


def save_png(image: Image.Image, path: Path, colours: int = 48) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if image.mode == "RGB":
        image = image.quantize(colors=colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    image.save(path, optimize=True)


def expected_files() -> list[Path]:
    files = [ASSETS / name for name in ("icon.png", "splash.png", "favicon.png")]
    files += [ASSETS / "icons" / f"{name}.png" for name in WEB_ICONS]
    files += [ASSETS / "products" / f"{style}.png" for style, *_ in demo_vocab.STYLES]
    return files


WEB_ICONS = {
    "icon-192": 192,
    "icon-512": 512,
    "icon-maskable-192": 192,
    "icon-maskable-512": 512,
    "apple-touch-icon-192": 192,
}


def make_all() -> list[Path]:
    written = []
    main_icon = icon(1024)
    save_png(main_icon, ASSETS / "icon.png", colours=64)
    written.append(ASSETS / "icon.png")
    splash_image = splash(768)
    save_png(splash_image, ASSETS / "splash.png")
    written.append(ASSETS / "splash.png")
    # The browser deployment (`clienteling --web`) serves these from assets/ in place of Flet's own.
    save_png(main_icon.resize((32, 32), Image.Resampling.LANCZOS), ASSETS / "favicon.png", colours=32)
    written.append(ASSETS / "favicon.png")
    for name, size in WEB_ICONS.items():
        path = ASSETS / "icons" / f"{name}.png"
        save_png(main_icon.resize((size, size), Image.Resampling.LANCZOS), path, colours=64)
        written.append(path)
    for style, name, category, _description, _price, colours in demo_vocab.STYLES:
        path = ASSETS / "products" / f"{style}.png"
        save_png(product_picture(category, name, colours[0]), path)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that every picture exists")
    args = parser.parse_args(argv)
    if args.check:
        missing = [str(p.relative_to(ROOT)) for p in expected_files() if not p.is_file()]
        for path in missing:
            print(f"missing: {path}")
        return 1 if missing else 0
    written = make_all()
    total = sum(p.stat().st_size for p in written)
    products = sum(p.stat().st_size for p in written if p.parent.name == "products")
    print(f"wrote {len(written)} pictures, {total / 1024:.0f} KiB (products {products / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
