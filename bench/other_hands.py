"""Digits written unlike MNIST's, to measure how well a network reads other hands.

    python bench/other_hands.py          # writes tests/data/other-hands-{images,labels}.idx.gz
    python bench/other_hands.py --seed 1 --out /tmp/validation   # another draw: a validation set

MNIST's digits were written by American Census Bureau employees and high-school
students in the early 1990s. The check set here is written otherwise, in two halves:

- strokes: each digit drawn as pen strokes, the way the web page's canvas draws, in
  shapes MNIST has few of (a 1 with a flag and a foot, a 7 with a bar, an open 4, a 2
  with a loop, a 9 with a straight stem, a flat-topped 3...), each slanted, turned,
  stretched and wobbled at random, with pens from a hairline to a felt-tip;
- fonts: the digits of the handwriting fonts Debian packages (fonts-bwht,
  fonts-dkg-handwriting, fonts-breip, fonts-femkeklaver, fonts-humor-sans, fonts-klee,
  fonts-kristi, fonts-rufscript, fonts-kaushanscript, fonts-dancingscript, fonts-comic-neue),
  each slightly turned, at a few sizes.

Both go through ``images.to_mnist``, as a photo or a drawing on the web page does. The
result is small (under 2,000 images) and kept in tests/data, so the tests and
bench/hands.py need neither the fonts nor this script; it is seeded, so running it again
gives the same images (given the same fonts).
"""

import argparse
import math
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digitnet.data import write_idx  # noqa: E402
from digitnet.images import to_mnist  # noqa: E402

OUT = ROOT / "tests" / "data"
FONT_PACKAGES = ("bwht", "fifthhorseman", "breip", "femkeklaver", "humor-sans", "klee", "kristi", "rufscript",
                 "kaushanscript", "dancingscript", "comic-neue")
CANVAS = 112  # the size the web page sends its drawings at


def arc(cx, cy, rx, ry, start, end, n=24):
    """Points along an ellipse from angle ``start`` to ``end`` (degrees, clockwise from 3 o'clock,
    y pointing down)."""
    t = np.radians(np.linspace(start, end, n))
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in t]


# Each digit's shapes: lists of strokes, each a list of (x, y) in a unit box, y down.
SHAPES = {
    0: [[arc(0.5, 0.5, 0.32, 0.45, -90, 270)],
        [arc(0.5, 0.5, 0.22, 0.46, -80, 285)],
        [arc(0.5, 0.5, 0.3, 0.45, -90, 270), [(0.72, 0.15), (0.28, 0.85)]]],  # a slashed zero
    1: [[[(0.5, 0.05), (0.5, 0.95)]],
        [[(0.3, 0.25), (0.55, 0.05), (0.55, 0.95)], [(0.3, 0.95), (0.8, 0.95)]],  # flag and foot
        [[(0.25, 0.3), (0.55, 0.05), (0.5, 0.95)]]],  # a long flag
    2: [[arc(0.5, 0.3, 0.3, 0.25, 200, 360) + [(0.2, 0.95), (0.85, 0.95)]],
        [arc(0.5, 0.3, 0.3, 0.25, 190, 380) + [(0.25, 0.85)] + arc(0.3, 0.85, 0.1, 0.1, 0, 360) + [(0.85, 0.9)]],
        [[(0.2, 0.1), (0.8, 0.1), (0.8, 0.45), (0.2, 0.95), (0.85, 0.95)]]],  # square-cornered
    3: [[arc(0.45, 0.28, 0.3, 0.23, 200, 450), arc(0.45, 0.72, 0.33, 0.24, 270, 510)],
        [[(0.2, 0.05), (0.8, 0.05), (0.4, 0.45)] + arc(0.45, 0.7, 0.35, 0.25, 270, 510)],  # flat top
        [arc(0.45, 0.28, 0.28, 0.23, 190, 440) + arc(0.45, 0.72, 0.33, 0.24, 280, 520)]],
    4: [[[(0.6, 0.05), (0.15, 0.65), (0.85, 0.65)], [(0.65, 0.3), (0.65, 0.95)]],
        [[(0.25, 0.05), (0.2, 0.55), (0.85, 0.55)], [(0.7, 0.05), (0.7, 0.95)]],  # open top
        [[(0.6, 0.05), (0.15, 0.65), (0.85, 0.65)], [(0.6, 0.05), (0.6, 0.95)], [(0.45, 0.95), (0.75, 0.95)]]],
    5: [[[(0.8, 0.05), (0.3, 0.05), (0.25, 0.45)] + arc(0.48, 0.68, 0.32, 0.27, 240, 510)],
        [[(0.3, 0.05), (0.25, 0.45)] + arc(0.48, 0.68, 0.32, 0.27, 240, 500), [(0.3, 0.05), (0.85, 0.05)]],
        [[(0.8, 0.05), (0.25, 0.05), (0.2, 0.5), (0.7, 0.45), (0.8, 0.75), (0.5, 0.95), (0.15, 0.85)]]],
    6: [[arc(0.75, 0.55, 0.5, 0.5, 250, 180)[::-1][:1] + arc(0.6, 0.6, 0.4, 0.55, 235, 180)
         + arc(0.5, 0.72, 0.28, 0.23, 180, 540)],
        [[(0.7, 0.05), (0.3, 0.45)] + arc(0.5, 0.72, 0.27, 0.23, 200, 560)],
        [[(0.65, 0.05), (0.25, 0.6)] + arc(0.48, 0.72, 0.25, 0.23, 180, 530)]],
    7: [[[(0.15, 0.08), (0.85, 0.08), (0.4, 0.95)]],
        [[(0.15, 0.08), (0.85, 0.08), (0.4, 0.95)], [(0.35, 0.5), (0.8, 0.5)]],  # crossed
        [[(0.1, 0.2), (0.2, 0.08), (0.85, 0.08)] + arc(0.9, 0.95, 0.45, 0.87, 270, 190, 10)]],
    8: [[arc(0.5, 0.27, 0.26, 0.22, 90, 450), arc(0.5, 0.71, 0.32, 0.24, -90, 270)],
        [arc(0.5, 0.27, 0.24, 0.22, 45, 270) + [(0.72, 0.6)] + arc(0.5, 0.72, 0.3, 0.23, -30, 200)
         + [(0.7, 0.22), (0.6, 0.08)]],
        [arc(0.5, 0.28, 0.3, 0.23, 0, 360), arc(0.5, 0.72, 0.3, 0.23, 0, 360)]],
    9: [[arc(0.48, 0.3, 0.28, 0.25, 0, 360), [(0.76, 0.3), (0.7, 0.95)]],
        [arc(0.48, 0.3, 0.28, 0.25, 20, 380), [(0.76, 0.35), (0.72, 0.7)] + arc(0.5, 0.7, 0.22, 0.25, 0, 120)],
        [arc(0.45, 0.3, 0.3, 0.25, 0, 360), [(0.75, 0.3), (0.45, 0.95)]]],
}


def wobble(points, rng, size):
    """The points moved by a smooth random wobble of about ``size``: a hand is never exact."""
    offsets = rng.normal(0, size, (3, 2))
    t = np.linspace(0, 1, len(points))[:, None]
    smooth = offsets[0] * (1 - t) ** 2 + offsets[1] * 2 * t * (1 - t) + offsets[2] * t ** 2
    return np.asarray(points) + smooth + rng.normal(0, size / 4, (len(points), 2))


def draw_strokes(digit, rng):
    """One digit drawn as pen strokes on a CANVAS-sized black square, as the web page draws."""
    strokes = SHAPES[digit][rng.integers(len(SHAPES[digit]))]
    slant, turn = rng.uniform(-0.4, 0.4), math.radians(rng.uniform(-12, 12))
    width, height = rng.uniform(0.5, 1.1), rng.uniform(0.8, 1.0)
    c, s = math.cos(turn), math.sin(turn)
    pen = rng.uniform(0.03, 0.12) * CANVAS
    image = Image.new("L", (CANVAS, CANVAS), 0)
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        p = wobble(stroke, rng, 0.025) - 0.5
        x, y = p[:, 0] * width - slant * p[:, 1], p[:, 1] * height
        x, y = c * x - s * y, s * x + c * y
        points = list(zip((0.5 + 0.7 * x) * CANVAS, (0.5 + 0.7 * y) * CANVAS, strict=True))
        draw.line(points, fill=255, width=max(1, round(pen)), joint="curve")
        for px, py in (points[0], points[-1]):  # round ends, as a pen makes
            draw.ellipse((px - pen / 2, py - pen / 2, px + pen / 2, py + pen / 2), fill=255)
    return np.asarray(image)


def draw_font(digit, font_file, rng):
    """One digit in the font, dark on light paper, slightly turned."""
    size = int(rng.uniform(0.5, 0.8) * CANVAS)
    image = Image.new("L", (CANVAS, CANVAS), 255)
    ImageDraw.Draw(image).text((CANVAS / 2, CANVAS / 2), str(digit), fill=0, anchor="mm",
                               font=ImageFont.truetype(str(font_file), size))
    return np.asarray(image.rotate(rng.uniform(-8, 8), fillcolor=255, resample=Image.BICUBIC))


def font_files():
    found = []
    for folder in (Path("/usr/share/fonts/truetype"), Path("/usr/share/fonts/opentype")):
        for package in FONT_PACKAGES:
            found += sorted((folder / package).glob("*.[ot]tf"))
    return found


def make(seed=2026, strokes_per_digit=90, per_font_and_digit=3):
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for digit in range(10):
        for _ in range(strokes_per_digit):
            images.append(to_mnist(draw_strokes(digit, rng), invert=False))
            labels.append(digit)
    fonts = font_files()
    if not fonts:
        raise SystemExit("no handwriting fonts found: apt-get install " + " ".join(
            "fonts-" + p.replace("fifthhorseman", "dkg-handwriting") for p in FONT_PACKAGES))
    for font_file in fonts:
        for digit in range(10):
            for _ in range(per_font_and_digit):
                images.append(to_mnist(draw_font(digit, font_file, rng), invert=True))
                labels.append(digit)
    pixels = np.rint(np.stack(images) * 255).astype(np.uint8)
    return pixels, np.array(labels, np.uint8), len(fonts)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", default=str(OUT), help="the folder to write to")
    args = parser.parse_args(argv)
    pixels, labels, n_fonts = make(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_idx(out / "other-hands-images.idx.gz", pixels)
    write_idx(out / "other-hands-labels.idx.gz", labels)
    print(f"{len(pixels)} digits ({np.sum(np.arange(len(labels)) < 900)} drawn as strokes, the rest in "
          f"{n_fonts} handwriting fonts) written to {out}")


if __name__ == "__main__":
    main()
