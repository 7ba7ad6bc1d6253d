"""Things that are no digit, from sources the "not a digit" training never draws from, to measure
what a network turns away.

    python bench/not_digits.py      # writes tests/data/not-digits-{images,kinds}.idx.gz
    python bench/not_digits.py --seed 1 --out /tmp/validation   # another draw: a validation set

digitnet's negatives (digitnet/negatives.py) are typeset in matplotlib's fonts and drawn as pen
strokes from its own tables. A check made of the same would say little, so every image here comes
from elsewhere, in six parts (the kinds file gives each image's part, 0-5):

0. letters typeset in the handwriting fonts Debian packages (bench/other_hands.py's);
1. letters typeset in print fonts: Liberation, GNU FreeFont and URW's base 35;
2. letters drawn as pen strokes from the Hershey fonts (script, cursive, roman, italic, gothic,
   Greek, Cyrillic), with a pen of this script's own;
3. symbols typeset in those fonts, and the dingbats of FreeSerif (scissors, pencils, crosses,
   stars, flowers, snowflakes, arrows...);
4. symbols drawn as strokes from the Hershey fonts (signs, markers, zodiac, music);
5. doodles drawn from formulas: polygons, star polygons, the heart curve, roses, spirals, waves,
   arrows at any angle, faces, houses, clouds, suns, grids...

Letters are Latin, Greek and Cyrillic, less every character a person could read as a digit
(negatives.FORBIDDEN: the same list for the training images and for these); the symbols and
doodles were chosen by eye to leave out rings, bars and the like. Typeset images are drawn dark on
light paper and go through ``images.to_mnist`` as a photo does; strokes light on dark, as the web
page's canvas. Seeded: the same fonts give the same images. Needs (Debian):

    apt-get install fonts-liberation fonts-freefont-ttf fonts-urw-base35 hershey-fonts-data \\
        fonts-bwht fonts-dkg-handwriting fonts-breip fonts-femkeklaver fonts-humor-sans fonts-klee \\
        fonts-kristi fonts-rufscript fonts-kaushanscript fonts-dancingscript fonts-comic-neue

The tests and bench/not_a_digit.py read the files in tests/data and need none of these.
"""

import argparse
import math
import sys
from pathlib import Path

import numpy as np
from matplotlib.ft2font import FT2Font
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from other_hands import font_files as handwriting_fonts  # noqa: E402

from digitnet.data import write_idx  # noqa: E402
from digitnet.errors import DigitnetError  # noqa: E402
from digitnet.images import to_mnist  # noqa: E402
from digitnet.negatives import FORBIDDEN, LETTERS, SYMBOLS  # noqa: E402

OUT = ROOT / "tests" / "data"
CANVAS = 112
# Fonts that draw small letters as capitals (seen by eye): their d is a D and their t a T, both digit-like.
CAPITALS_ONLY = ("Humor-Sans", "BecauseWe")
PARTS = ("letters, handwriting fonts", "letters, print fonts", "letters, Hershey strokes",
         "symbols, fonts", "symbols, Hershey strokes", "doodles, formulas")
PER_PART = (450, 400, 450, 400, 300, 500)
PRINT_FONTS = [*sorted(Path("/usr/share/fonts/truetype/liberation").glob("*.ttf")),
               *sorted(Path("/usr/share/fonts/truetype/freefont").glob("*.ttf")),
               *[p for p in sorted(Path("/usr/share/fonts/opentype/urw-base35").glob("*.otf"))
                 if not p.stem.startswith(("D050000L", "StandardSymbols"))]]
DINGBAT_FONTS = sorted(Path("/usr/share/fonts/truetype/freefont").glob("FreeSerif*.ttf"))
# FreeSerif's dingbats, less rings, bars, quotes, brackets, emoji and the circled digits
DINGBATS = ("✁✂✃✄✆✈✉✌✍✎✏✐✑✒✓✔✕✖✗✘✙✚✛✜✝✞✟✠✡✢✣✤✥✦✧✩✫✬✭✮✯✰✱✲✳✴✵✶✷✸✹✺✻✼✽✾✿❀❁❃❄❅❆❇❈❉❊❋❏❐❑❒❖"
            "❤❥❦❧➔➘➙➚➛➜➝➞➟➠➡➢➣➤➥➦➧➨➩➪➫➬➭➮➯➱➲➳➴➵➶➷➸➹➺➻➼➽➾")

# ---- the Hershey fonts: strokes on a grid, one glyph a line (ASCII's order from the space on) ----------

HERSHEY = Path("/usr/share/hershey-fonts")
LATIN_HERSHEY = ("scripts", "scriptc", "cursive", "futural", "futuram", "rowmans", "rowmand", "timesr", "timesi",
                 "timesib", "gothiceng", "gothicita")
ASCII = "".join(chr(c) for c in range(32, 128))
# greek.jhf and cyrillic.jhf put their letters in the Latin letters' places
GREEK = dict(zip("ABCDEFGHIKLMNOPQRSTUWXYZabcdefghiklmnopqrstuwxyz",
                 "ΑΒΧΔΕΦΓΗΙΚΛΜΝΟΠΘΡΣΤΥΩΞΨΖαβχδεφγηικλμνοπϑρστυωξψζ", strict=True))
CYRILLIC = dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                    "АБЭДИФГЖЙЧКЛМНОПШРСТЮВЩХУЗабэдифгжйчклмнопшрстювщхуз", strict=True))
# Chosen by eye from the symbol fonts' tables (glyph numbers): no rings, bars, hooks or digit-like signs.
HERSHEY_SYMBOLS = {"symbolic": (37, 38, 39, 41, 42, 43, 44, 45, 46, 47, 49, 50, 51, 52, 53, 56, 58, 59, 62, 64, 65, 70,
                                71, 78, 79, 94, 95),
                   "astrology": (1, 14, 15, 27, 28, 29, 30, 32, 61, 63, 64, 91, 92, 94),
                   "meteorology": (3, 4, 5, 6, 8, 9, 10, 14),
                   "music": (7, 12)}


def hershey_glyphs(name):
    """The glyphs of a Hershey font, each a list of strokes of (x, y) points, y down."""
    lines = (HERSHEY / f"{name}.jhf").read_text(encoding="latin-1").split("\n")
    glyphs, i = [], 0
    while i < len(lines):
        line, i = lines[i], i + 1
        if not line.strip():
            continue
        n, data = int(line[5:8]), line[8:]
        while len(data) < 2 * n and i < len(lines):  # a long glyph goes on over the next line
            data, i = data + lines[i], i + 1
        strokes = [[]]
        for k in range(2, 2 * n, 2):  # the first pair is the glyph's margins
            pair = data[k:k + 2]
            if pair == " R":  # pen up
                strokes.append([])
            else:
                strokes[-1].append((ord(pair[0]) - ord("R"), ord(pair[1]) - ord("R")))
        glyphs.append([s if len(s) > 1 else s * 2 for s in strokes if s])  # a lone point is a dot
    return glyphs


def hershey_letters():
    """(character, strokes) of every letter the Hershey fonts draw that LETTERS holds."""
    found = []
    for name in LATIN_HERSHEY:
        glyphs = hershey_glyphs(name)
        found += [(c, glyphs[ASCII.index(c)]) for c in LETTERS if c in ASCII]
    for name, places in (("greek", GREEK), ("cyrillic", CYRILLIC)):
        glyphs = hershey_glyphs(name)
        found += [(c, glyphs[ASCII.index(latin)]) for latin, c in places.items() if c in LETTERS]
    return found


def hershey_symbols():
    found = []
    for name in LATIN_HERSHEY:
        glyphs = hershey_glyphs(name)
        found += [(c, glyphs[ASCII.index(c)]) for c in SYMBOLS if c in ASCII]
    for name, numbers in HERSHEY_SYMBOLS.items():
        glyphs = hershey_glyphs(name)
        found += [(f"{name} {k}", glyphs[k]) for k in numbers]
    return found


# ---- a pen of this script's own ----------------------------------------------------------------------

def pen_strokes(strokes, rng):
    """Strokes (lists of points, any scale, y down) drawn light on a dark CANVAS the way a mouse or
    a finger draws: a random affine map (turn, shear, stretch), a pen that drifts as a random walk
    along each stroke, and a width from 2 to 11 pixels."""
    points = np.concatenate([np.asarray(s, float) for s in strokes])
    centre, size = (points.min(axis=0) + points.max(axis=0)) / 2, np.ptp(points, axis=0).max() or 1.0
    angle = math.radians(rng.uniform(-12, 12))
    shear = rng.uniform(-0.2, 0.2, 2)
    affine = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]]) @ \
        np.array([[rng.uniform(0.7, 1.2), shear[0]], [shear[1], rng.uniform(0.8, 1.1)]])
    width = int(rng.integers(2, 12))
    image = Image.new("L", (CANVAS, CANVAS), 0)
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        p = (np.asarray(stroke, float) - centre) / size
        p = densified(p)
        p = p + np.cumsum(rng.normal(0, 0.006, p.shape), axis=0)  # the hand drifts
        xy = (p @ affine.T) * 0.6 * CANVAS + CANVAS / 2
        line = [tuple(q) for q in xy]
        if len(line) == 1:
            line = line * 2
        draw.line(line, fill=255, width=width, joint="curve")
        for x, y in (line[0], line[-1]):
            draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    return to_mnist(np.asarray(image), invert=False, even=True)


def densified(p, step=0.03):
    """Points at most ``step`` apart along the polyline p (so the drift bends long segments too)."""
    out = [p[0]]
    for a, b in zip(p[:-1], p[1:], strict=True):
        k = max(1, int(np.linalg.norm(b - a) / step))
        out += [a + (b - a) * t for t in np.linspace(0, 1, k + 1)[1:]]
    return np.array(out)


def typeset(character, font_file, rng):
    """The character in the font, dark on light paper, slightly turned, read as a photo is."""
    size = int(rng.uniform(0.45, 0.75) * CANVAS)
    image = Image.new("L", (CANVAS, CANVAS), 255)
    ImageDraw.Draw(image).text((CANVAS / 2, CANVAS / 2), character, fill=0, anchor="mm",
                               font=ImageFont.truetype(str(font_file), size))
    image = image.rotate(rng.uniform(-8, 8), fillcolor=255, resample=Image.Resampling.BICUBIC)
    return to_mnist(np.asarray(image), invert=True)


def characters_of(font_file, wanted):
    """The characters of ``wanted`` the font has, less small letters it draws as a digit-like capital."""
    has = FT2Font(str(font_file)).get_charmap()
    capitals = Path(font_file).stem.startswith(CAPITALS_ONLY)
    return "".join(c for c in wanted if ord(c) in has and not (capitals and c.upper() in FORBIDDEN))


# ---- doodles from formulas ---------------------------------------------------------------------------------

def curve(f, t0, t1, n=120):
    t = np.linspace(t0, t1, n)
    x, y = f(t)
    return list(zip(x, y, strict=True))


def regular(n, turn, r=1.0, cx=0.0, cy=0.0):
    t = turn + np.linspace(0, 2 * np.pi, n + 1)
    return list(zip(cx + r * np.cos(t), cy + r * np.sin(t), strict=True))


def doodle(rng):
    """A doodle chosen at random, as strokes, and its name."""
    kind = DOODLE_NAMES[rng.integers(len(DOODLE_NAMES))]
    return DOODLE_FORMULAS[kind](rng), kind


def star_polygon(rng):
    n = int(rng.integers(5, 10))
    k = int(rng.integers(2, (n - 1) // 2 + 1))
    t = rng.uniform(0, 2 * np.pi) + 2 * np.pi * k * np.arange(n + 1) / n
    return [list(zip(np.cos(t), np.sin(t), strict=True))]


def heart_curve(rng):
    return [curve(lambda t: (16 * np.sin(t) ** 3, -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t)
                                                     - np.cos(4 * t))), 0, 2 * np.pi)]


def rose(rng):
    k = int(rng.choice([2, 3, 4, 5]))
    return [curve(lambda t: (np.cos(k * t) * np.cos(t), np.cos(k * t) * np.sin(t)), 0, 2 * np.pi, 240)]


def archimedes(rng):
    turns = rng.uniform(2.5, 4)
    return [curve(lambda t: (t * np.cos(t), t * np.sin(t)), 0.3, 2 * np.pi * turns, 200)]


def waveform(rng):
    periods, shape = int(rng.integers(2, 6)), rng.integers(3)
    t = np.linspace(0, periods, 40 * periods)
    y = [np.sin(2 * np.pi * t), 2 * np.abs(2 * (t % 1) - 1) - 1, np.sign(np.sin(2 * np.pi * t))][shape]
    return [list(zip(t / periods * 3, y * rng.uniform(0.3, 1), strict=True))]


def arrow(rng):
    a = rng.uniform(0, 2 * np.pi)
    tip, tail = np.array([np.cos(a), np.sin(a)]), -np.array([np.cos(a), np.sin(a)])
    left, right = [tip - 0.5 * np.array([np.cos(a + s), np.sin(a + s)]) for s in (-0.5, 0.5)]
    head = [tuple(left), tuple(tip), tuple(right)] + ([tuple(left)] if rng.random() < 0.4 else [])
    return [[tuple(tail), tuple(tip)], head]


def face(rng):
    eyes = [regular(12, 0, 0.12, x, -0.3) for x in (-0.35, 0.35)]
    mouth = curve(lambda t: (0.5 * np.cos(t), 0.2 + rng.uniform(-0.3, 0.3) * np.sin(t)), 0.2, np.pi - 0.2, 30)
    return [regular(40, 0), *eyes, mouth]


def house_shape(rng):
    roof = rng.uniform(0.4, 1.0)
    walls = [(-1, 0), (-1, 1.2), (1, 1.2), (1, 0), (-1, 0), (0, -roof), (1, 0)]
    window = regular(4, np.pi / 4, 0.25, 0.5, 0.5)
    return [walls, [(-0.5, 1.2), (-0.5, 0.6), (-0.1, 0.6), (-0.1, 1.2)], window]


def cloud_shape(rng):
    n = int(rng.integers(5, 9))
    t = np.linspace(0, 2 * np.pi, 60 * n)
    r = 1 + 0.35 * np.abs(np.sin(n * t / 2))  # bumps that meet in notches: a cloud, not an oval
    return [list(zip(1.4 * r * np.cos(t), 0.8 * r * np.sin(t), strict=True))]


def sun_shape(rng):
    rays = int(rng.integers(6, 13))
    spokes = [[(0.55 * np.cos(a), 0.55 * np.sin(a)), (np.cos(a), np.sin(a))]
              for a in np.linspace(0, 2 * np.pi, rays, endpoint=False)]
    return [regular(int(rng.integers(5, 7)), rng.uniform(0, 1), 0.4), *spokes]


def grid(rng):
    rows, cols = int(rng.integers(2, 5)), int(rng.integers(2, 5))
    return [[(0, y), (cols, y)] for y in range(rows + 1)] + [[(x, 0), (x, rows)] for x in range(cols + 1)]


def nested_squares(rng):
    return [regular(4, np.pi / 4 + rng.uniform(-0.2, 0.2), r) for r in (1.0, 0.6, 0.25)[: rng.integers(2, 4)]]


def hatched_box(rng):
    lines = [[(x, 0), (x + 0.8, 0.8)] for x in np.linspace(-0.8, 0.8, int(rng.integers(3, 7)))]
    return [[(-1, 0), (1, 0), (1, 0.8), (-1, 0.8), (-1, 0)], *[[(max(-1, a), b), (min(1, c), d)]
                                                               for (a, b), (c, d) in lines]]


def tick_or_cross(rng):
    if rng.random() < 0.5:
        return [[(0, 0.5), (0.35, 1), (1.2, -0.3)]]
    return [[(0, 0), (1, 1)], [(1, 0), (0, 1)]]


def triangle_in_triangle(rng):
    return [regular(3, -np.pi / 2, 1.0), regular(3, np.pi / 2, 0.5)]


def pinwheel(rng):
    blades = int(rng.integers(3, 6))
    out = []
    for a in np.linspace(0, 2 * np.pi, blades, endpoint=False):
        out.append([(0, 0), (np.cos(a), np.sin(a)), (0.6 * np.cos(a + 0.6), 0.6 * np.sin(a + 0.6)), (0, 0)])
    return out


# Triangles and squares only: a pentagon or more, drawn by hand, is a ring, which reads as a zero.
DOODLE_FORMULAS = {"polygon": lambda rng: [regular(int(rng.integers(3, 5)), rng.uniform(0, 2 * np.pi))],
                   "star polygon": star_polygon, "heart": heart_curve, "rose": rose, "spiral": archimedes,
                   "wave": waveform, "arrow": arrow, "face": face, "house": house_shape, "cloud": cloud_shape,
                   "sun": sun_shape, "grid": grid, "nested squares": nested_squares, "hatched box": hatched_box,
                   "tick or cross": tick_or_cross, "triangles": triangle_in_triangle, "pinwheel": pinwheel}
DOODLE_NAMES = list(DOODLE_FORMULAS)


# ---- the set ------------------------------------------------------------------------------------------------

def typeset_part(fonts, wanted, n, rng):
    usable = [(f, characters_of(f, wanted)) for f in fonts]
    usable = [(f, chars) for f, chars in usable if chars]
    images, shown = [], []
    while len(images) < n:
        font_file, chars = usable[rng.integers(len(usable))]
        c = chars[rng.integers(len(chars))]
        try:
            images.append(typeset(c, font_file, rng))
        except DigitnetError:  # a glyph the font leaves empty, or a solid one that fills its paper: another
            continue
        shown.append(c)
    return images, shown


def stroke_part(glyphs, n, rng):
    images, shown = [], []
    for _ in range(n):
        name, strokes = glyphs[rng.integers(len(glyphs))]
        images.append(pen_strokes(strokes, rng))
        shown.append(name)
    return images, shown


def doodle_part(n, rng):
    images, shown = [], []
    for _ in range(n):
        strokes, name = doodle(rng)
        images.append(pen_strokes(strokes, rng))
        shown.append(name)
    return images, shown


def add(*parts):
    """Parts of (images, names) as one."""
    return [x for images, _ in parts for x in images], [x for _, names in parts for x in names]


def make(seed=2027):
    rng = np.random.default_rng(seed)
    hands = handwriting_fonts()
    if not hands or not all(Path(f).is_file() for f in PRINT_FONTS[:1]) or not HERSHEY.is_dir():
        raise SystemExit("fonts missing: see this script's docstring for the Debian packages it needs")
    parts = [lambda n: typeset_part(hands, LETTERS, n, rng),
             lambda n: typeset_part(PRINT_FONTS, LETTERS, n, rng),
             lambda n: stroke_part(hershey_letters(), n, rng),
             lambda n: add(typeset_part(hands + PRINT_FONTS, SYMBOLS, n - n * 3 // 8, rng),
                           typeset_part(DINGBAT_FONTS, DINGBATS, n * 3 // 8, rng)),
             lambda n: stroke_part(hershey_symbols(), n, rng),
             lambda n: doodle_part(n, rng)]
    images, kinds, shown = [], [], []
    for kind, (part, n) in enumerate(zip(parts, PER_PART, strict=True)):
        drawn, names = part(n)
        images += drawn
        kinds += [kind] * n
        shown += names
    assert not FORBIDDEN & set(c for c in shown if len(c) == 1), "a digit-like character was drawn"
    pixels = np.rint(np.stack(images) * 255).astype(np.uint8)
    return pixels, np.array(kinds, np.uint8), shown


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--out", default=str(OUT), help="the folder to write to")
    args = parser.parse_args(argv)
    pixels, kinds, shown = make(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_idx(out / "not-digits-images.idx.gz", pixels)
    write_idx(out / "not-digits-kinds.idx.gz", kinds)
    for kind, name in enumerate(PARTS):
        print(f"{kind}: {np.sum(kinds == kind):4d} {name}: {len(set(np.array(shown)[kinds == kind]))} different")
    print(f"{len(pixels)} images written to {out}")


if __name__ == "__main__":
    main()
