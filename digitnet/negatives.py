"""Images of what people write or draw that is no digit, for a "not a digit" output to learn from.

Five kinds (``KINDS``), each drawn from a random stream of its own:

- ``letters``: Latin, Greek and Cyrillic letters, typeset in the fonts matplotlib ships (DejaVu
  Sans, Serif and Mono in their styles, STIX, Computer Modern) and drawn as pen strokes;
- ``symbols``: punctuation, signs and marks (+ # * & @ % ? = < > arrows, ticks, hearts, stars,
  currency...), typeset and drawn;
- ``doodles``: shapes and little drawings (polygons, stars, hearts, houses, suns, flowers,
  spirals, waves, faces...) drawn as pen strokes;
- ``noise``: every pixel uniform at random, and ``scribbles``: random chains of strokes (noise.py).

Letters, symbols and doodles are drawn light on a dark canvas, as the web page's canvas is, and
go through ``images.to_mnist``, the path a drawing or a photo takes, so that they are centred and
scaled as the digits a network reads. Nothing a person would read as a digit is ever drawn
(``DIGIT_LIKE``). Only what ``pip install digitnet`` brings is used, so the same seed gives the
same images on any machine with the same fonts.
"""

import functools
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .errors import DigitnetError
from .noise import scribble_noise, uniform_noise
from .validation import MAX_NOT_A_DIGIT

KINDS = ("letters", "symbols", "doodles", "noise", "scribbles")
CANVAS = 64  # pixels a side to draw on: ample for a 20x20 box, and quick
# The spawn key of the streams the training images are drawn from: children of the run's seed, so
# never the stream np.random.default_rng(seed) gives, from which ``show noise`` draws what it tests.
TRAINING_STREAM = 10

# Characters a person could read as a digit, never drawn: a network must not learn to turn
# them away, nor be scored on turning them away. By the digit each looks like:
DIGIT_LIKE = {
    "0": "OoQDθΘφΦοΟøØ°ОоФф",        # rings, and rings with a bar through (a slashed zero)
    # a bar at any angle (a dash too), or with a hook, flag or dot (to_mnist may drop a dot as a speck)
    "1": "lIi|!¡/\\()[]{}jJΙιІіӀЈј-−_÷",
    "2": "ZzΖζ",
    "3": "ЗзЭэξ",                     # Cyrillic ze and e, Greek xi
    "4": "Чч",
    "5": "Ss$§Ѕѕς",
    "6": "bGбБδσЬьЪъ",                # a bowl with a rising stem
    "7": "TτТт",                      # a bar with a stem below it
    "8": "BβΒВв∞",                    # two bowls, and a lying eight
    "9": "gqдЮюЫы",                   # a bowl with a falling stem; Ю and Ы read as 10 and 61
}
FORBIDDEN = frozenset("".join(DIGIT_LIKE.values())) | frozenset("0123456789")

# What each kind draws from a font, where the font has it. Capitals and small letters of each
# alphabet, less those above.
ALPHABETS = {
    "Latin": "ACEFHKLMNPRUVWXY" "acdefhkmnprtuvwxy",
    "Greek": "ΑΓΔΕΗΚΛΜΝΞΠΡΣΥΧΨΩ" "αγεηκλμνπρυχψω",
    "Cyrillic": "АГДЕЖИЙКЛМНПРСУХЦШЩЯ" "агежийклмнпрсухцшщя",
}
LETTERS = "".join(ALPHABETS.values())
SYMBOLS = "+×=≠<>≤≥±#*&@%?~^→←↑↓↔✓✗♥★☆♦♣♠♪€£¥√"
COMPUTER_MODERN_SYMBOLS = "+#*@%?="  # the rest of those fonts' table is TeX's, not Unicode's


# ---- strokes: a unit box, y down; each shape a list of strokes, each a list of points ----------------

def arc(cx, cy, rx, ry, start, end, n=16):
    """Points along an ellipse from angle ``start`` to ``end`` in degrees (0 at 3 o'clock, 90 at
    6 o'clock: y points down)."""
    t = np.radians(np.linspace(start, end, n))
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in t]


def ring(cx, cy, r):
    return arc(cx, cy, r, r, 0, 360)


def dot(x, y):
    """A dot: a stroke too short to see its length."""
    return [(x, y), (x + 0.01, y + 0.01)]


def polygon(n, turn=0.0, r=0.5):
    return [(0.5 + r * math.sin(turn + 2 * math.pi * k / n), 0.5 - r * math.cos(turn + 2 * math.pi * k / n))
            for k in range(n + 1)]


def star(points=5, inner=0.4):
    """An outline star: its tips on a circle, its notches on one ``inner`` times as wide."""
    radii = [0.5 if k % 2 == 0 else 0.5 * inner for k in range(2 * points + 1)]
    return [(0.5 + r * math.sin(math.pi * k / points), 0.5 - r * math.cos(math.pi * k / points))
            for k, r in enumerate(radii)]


HEART = [[(0.5, 1.0), (0.08, 0.45)] + arc(0.29, 0.3, 0.21, 0.21, 150, 360) + arc(0.71, 0.3, 0.21, 0.21, 180, 390)
         + [(0.5, 1.0)]]
ARROW_RIGHT = [[(0.0, 0.5), (1.0, 0.5)], [(0.65, 0.2), (1.0, 0.5), (0.65, 0.8)]]

# Capitals fill the box; small letters sit on y = 1 with their body from y = 0.4, ascenders
# rising to 0 and descenders falling to 1.4. Some letters have a second way of writing them.
STROKE_LETTERS = {
    "A": [[[(0.1, 1), (0.5, 0), (0.9, 1)], [(0.28, 0.6), (0.72, 0.6)]],
          [[(0.1, 1), (0.4, 0.05), (0.6, 0.05), (0.9, 1)], [(0.25, 0.55), (0.75, 0.55)]]],
    "C": [[arc(0.55, 0.5, 0.42, 0.5, 320, 40)]],
    "E": [[[(0.8, 0), (0.2, 0), (0.2, 1), (0.8, 1)], [(0.2, 0.5), (0.65, 0.5)]]],
    "F": [[[(0.8, 0), (0.2, 0), (0.2, 1)], [(0.2, 0.5), (0.65, 0.5)]]],
    "H": [[[(0.2, 0), (0.2, 1)], [(0.8, 0), (0.8, 1)], [(0.2, 0.5), (0.8, 0.5)]]],
    "K": [[[(0.2, 0), (0.2, 1)], [(0.8, 0), (0.2, 0.55)], [(0.38, 0.42), (0.85, 1)]],
          [[(0.2, 0), (0.2, 1)], [(0.8, 0), (0.2, 0.5), (0.85, 1)]]],
    "L": [[[(0.2, 0), (0.2, 1), (0.8, 1)]]],
    "M": [[[(0.1, 1), (0.15, 0), (0.5, 0.65), (0.85, 0), (0.9, 1)]],
          [[(0.1, 1), (0.1, 0), (0.5, 1), (0.9, 0), (0.9, 1)]]],
    "N": [[[(0.2, 1), (0.2, 0), (0.8, 1), (0.8, 0)]]],
    "P": [[[(0.2, 1), (0.2, 0), (0.55, 0)] + arc(0.55, 0.25, 0.3, 0.25, 270, 450) + [(0.2, 0.5)]]],
    "R": [[[(0.2, 1), (0.2, 0), (0.55, 0)] + arc(0.55, 0.25, 0.3, 0.25, 270, 450) + [(0.2, 0.5)],
           [(0.45, 0.5), (0.85, 1)]]],
    "U": [[[(0.2, 0), (0.2, 0.65)] + arc(0.5, 0.65, 0.3, 0.35, 180, 0) + [(0.8, 0)]]],
    "V": [[[(0.1, 0), (0.5, 1), (0.9, 0)]]],
    "W": [[[(0.05, 0), (0.28, 1), (0.5, 0.35), (0.72, 1), (0.95, 0)]]],
    "X": [[[(0.15, 0), (0.85, 1)], [(0.85, 0), (0.15, 1)]]],
    "Y": [[[(0.1, 0), (0.5, 0.5), (0.9, 0)], [(0.5, 0.5), (0.5, 1)]]],
    "a": [[arc(0.45, 0.72, 0.27, 0.28, 330, -30), [(0.72, 0.45), (0.74, 1)]],
          [arc(0.45, 0.55, 0.25, 0.15, 200, 360) + [(0.7, 1)], arc(0.45, 0.8, 0.25, 0.2, 300, -30)]],
    "c": [[arc(0.5, 0.72, 0.3, 0.28, 320, 40)]],
    "d": [[arc(0.45, 0.72, 0.27, 0.28, 0, 360), [(0.72, 0), (0.72, 1)]]],
    "e": [[[(0.21, 0.72), (0.79, 0.72)] + arc(0.5, 0.72, 0.29, 0.28, 360, 40)]],
    "f": [[arc(0.62, 0.18, 0.18, 0.16, 315, 180) + [(0.44, 1)], [(0.25, 0.45), (0.7, 0.45)]]],
    "h": [[[(0.25, 0), (0.25, 1)], [(0.25, 0.65)] + arc(0.5, 0.65, 0.25, 0.22, 180, 360) + [(0.75, 1)]]],
    "k": [[[(0.25, 0), (0.25, 1)], [(0.7, 0.4), (0.25, 0.72), (0.75, 1)]]],
    "m": [[[(0.1, 1), (0.1, 0.45)], [(0.1, 0.6)] + arc(0.3, 0.6, 0.2, 0.18, 180, 360) + [(0.5, 1)],
           [(0.5, 0.6)] + arc(0.7, 0.6, 0.2, 0.18, 180, 360) + [(0.9, 1)]]],
    "n": [[[(0.2, 1), (0.2, 0.45)], [(0.2, 0.65)] + arc(0.5, 0.65, 0.3, 0.22, 180, 360) + [(0.8, 1)]]],
    "p": [[[(0.22, 0.4), (0.22, 1.4)], arc(0.48, 0.7, 0.27, 0.28, 0, 360)]],
    "r": [[[(0.25, 0.4), (0.25, 1)], [(0.25, 0.7)] + arc(0.55, 0.65, 0.3, 0.22, 190, 320)]],
    "t": [[[(0.42, 0.1), (0.42, 0.85)] + arc(0.6, 0.85, 0.18, 0.15, 180, 60), [(0.2, 0.4), (0.7, 0.4)]]],
    "u": [[[(0.2, 0.4), (0.2, 0.75)] + arc(0.48, 0.75, 0.28, 0.25, 180, 0), [(0.76, 0.4), (0.76, 1)]]],
    "v": [[[(0.15, 0.4), (0.5, 1), (0.85, 0.4)]]],
    "w": [[[(0.05, 0.4), (0.28, 1), (0.5, 0.55), (0.72, 1), (0.95, 0.4)]]],
    "x": [[[(0.2, 0.4), (0.8, 1)], [(0.8, 0.4), (0.2, 1)]]],
    "y": [[[(0.15, 0.4), (0.5, 0.95)], [(0.85, 0.4), (0.35, 1.4)]]],
    "Γ": [[[(0.2, 1), (0.2, 0), (0.8, 0)]]],
    "Δ": [[[(0.5, 0), (0.1, 1), (0.9, 1), (0.5, 0)]]],
    "Λ": [[[(0.1, 1), (0.5, 0), (0.9, 1)]]],
    "Ξ": [[[(0.15, 0), (0.85, 0)], [(0.25, 0.5), (0.75, 0.5)], [(0.15, 1), (0.85, 1)]]],
    "Π": [[[(0.2, 1), (0.2, 0), (0.8, 0), (0.8, 1)]]],
    "Σ": [[[(0.8, 0), (0.2, 0), (0.55, 0.5), (0.2, 1), (0.8, 1)]]],
    "Ψ": [[arc(0.5, 0.25, 0.35, 0.35, 180, 0), [(0.5, 0), (0.5, 1)]]],
    "Ω": [[[(0.1, 1), (0.33, 1)] + arc(0.5, 0.5, 0.35, 0.42, 120, 420) + [(0.67, 1), (0.9, 1)]]],
    "α": [[[(0.85, 0.42)] + arc(0.45, 0.72, 0.3, 0.28, 330, 30) + [(0.88, 1.0)]]],
    "γ": [[[(0.12, 0.5), (0.3, 0.42), (0.5, 0.95), (0.52, 1.35)], [(0.5, 0.95), (0.85, 0.4)]]],
    "ε": [[arc(0.55, 0.56, 0.3, 0.15, 330, 110) + arc(0.55, 0.85, 0.32, 0.15, 250, 30)]],
    "η": [[[(0.2, 0.4), (0.2, 1)], [(0.2, 0.65)] + arc(0.5, 0.65, 0.3, 0.22, 180, 360) + [(0.8, 1.4)]]],
    "λ": [[[(0.2, 0), (0.85, 1)], [(0.5, 0.5), (0.15, 1)]]],
    "μ": [[[(0.2, 0.4), (0.2, 1.4)], [(0.2, 0.75)] + arc(0.48, 0.75, 0.28, 0.25, 180, 0), [(0.76, 0.4), (0.8, 1)]]],
    "π": [[[(0.1, 0.45), (0.9, 0.42)], [(0.32, 0.45), (0.3, 1)], [(0.68, 0.45), (0.72, 1)]]],
    "ω": [[[(0.15, 0.45)] + arc(0.33, 0.72, 0.18, 0.28, 180, 0) + arc(0.67, 0.72, 0.18, 0.28, 180, 0)
           + [(0.85, 0.45)]]],
    "Ж": [[[(0.5, 0), (0.5, 1)], [(0.1, 0), (0.5, 0.5), (0.9, 0)], [(0.1, 1), (0.5, 0.5), (0.9, 1)]]],
    "И": [[[(0.2, 0), (0.2, 1), (0.8, 0), (0.8, 1)]]],
    "Л": [[[(0.08, 1), (0.3, 0), (0.8, 0), (0.8, 1)]]],
    "Д": [[[(0.05, 1.15), (0.05, 1), (0.95, 1), (0.95, 1.15)], [(0.15, 1), (0.35, 0), (0.75, 0), (0.75, 1)]]],
    "Ц": [[[(0.2, 0), (0.2, 1), (0.8, 1), (0.8, 0)], [(0.8, 1), (0.95, 1), (0.95, 1.2)]]],
    "Ш": [[[(0.1, 0), (0.1, 1), (0.9, 1), (0.9, 0)], [(0.5, 0), (0.5, 1)]]],
    "Я": [[[(0.8, 1), (0.8, 0), (0.45, 0)] + arc(0.45, 0.25, 0.3, 0.25, 270, 90) + [(0.8, 0.5)],
           [(0.55, 0.5), (0.15, 1)]]],
}

STROKE_SYMBOLS = {
    "+": [[[(0.5, 0), (0.5, 1)], [(0, 0.5), (1, 0.5)]]],
    "×": [[[(0.1, 0.1), (0.9, 0.9)], [(0.9, 0.1), (0.1, 0.9)]]],
    "&": [[[(0.9, 1.0), (0.35, 0.4), (0.25, 0.2), (0.35, 0.05), (0.5, 0.03), (0.6, 0.13), (0.55, 0.3), (0.2, 0.6),
            (0.12, 0.8), (0.25, 0.97), (0.5, 0.98), (0.75, 0.75), (0.85, 0.55)]]],
    "=": [[[(0, 0.3), (1, 0.3)], [(0, 0.7), (1, 0.7)]]],
    "≠": [[[(0, 0.3), (1, 0.3)], [(0, 0.7), (1, 0.7)], [(0.75, 0), (0.25, 1)]]],
    "<": [[[(0.9, 0), (0.1, 0.5), (0.9, 1)]]],
    ">": [[[(0.1, 0), (0.9, 0.5), (0.1, 1)]]],
    "±": [[[(0.5, 0), (0.5, 0.7)], [(0, 0.35), (1, 0.35)], [(0, 1), (1, 1)]]],
    "#": [[[(0.35, 0), (0.25, 1)], [(0.75, 0), (0.65, 1)], [(0, 0.33), (1, 0.33)], [(0, 0.67), (1, 0.67)]]],
    "*": [[[(0.5, 0), (0.5, 1)], [(0.07, 0.25), (0.93, 0.75)], [(0.93, 0.25), (0.07, 0.75)]],
          [[(0.5, 0), (0.5, 1)], [(0, 0.5), (1, 0.5)], [(0.15, 0.15), (0.85, 0.85)], [(0.85, 0.15), (0.15, 0.85)]]],
    "@": [[ring(0.5, 0.5, 0.18), [(0.68, 0.3), (0.68, 0.62)] + arc(0.78, 0.62, 0.1, 0.1, 180, 0)
           + arc(0.5, 0.5, 0.45, 0.47, 0, -330)]],
    "%": [[[(0.85, 0), (0.15, 1)], ring(0.22, 0.2, 0.15), ring(0.78, 0.8, 0.15)]],
    "?": [[arc(0.5, 0.25, 0.28, 0.22, 190, 420) + [(0.5, 0.6), (0.5, 0.72)], dot(0.5, 0.95)]],
    "~": [[[(x, 0.5 - 0.2 * math.sin(2 * math.pi * x)) for x in np.linspace(0, 1, 16)]]],
    "^": [[[(0.1, 0.8), (0.5, 0.1), (0.9, 0.8)]]],
    "→": [ARROW_RIGHT],
    "←": [[[(1 - x, y) for x, y in stroke] for stroke in ARROW_RIGHT]],
    "↑": [[[(y, 1 - x) for x, y in stroke] for stroke in ARROW_RIGHT]],
    "↓": [[[(y, x) for x, y in stroke] for stroke in ARROW_RIGHT]],
    "↔": [[[(0, 0.5), (1, 0.5)], [(0.3, 0.2), (0, 0.5), (0.3, 0.8)], [(0.7, 0.2), (1, 0.5), (0.7, 0.8)]]],
    "✓": [[[(0.05, 0.55), (0.35, 0.95), (0.95, 0.05)]], [[(0.1, 0.6), (0.3, 0.9), (0.7, 0.3), (0.95, 0.1)]]],
    "✗": [[[(0.1, 0.05), (0.9, 0.95)], [(0.9, 0.05), (0.05, 0.95)]]],
    "♥": [HEART],
    "★": [[star()], [[(0.5, 0), (0.2, 1), (0.95, 0.35), (0.05, 0.35), (0.8, 1), (0.5, 0)]]],
    "♪": [[arc(0.3, 0.85, 0.17, 0.12, 0, 360), [(0.47, 0.85), (0.47, 0), (0.8, 0.25)]]],
    "€": [[arc(0.6, 0.5, 0.4, 0.5, 320, 40), [(0.05, 0.4), (0.6, 0.4)], [(0.05, 0.6), (0.6, 0.6)]]],
    "£": [[arc(0.55, 0.2, 0.2, 0.2, 340, 180) + [(0.35, 0.8), (0.2, 1), (0.85, 1)], [(0.15, 0.5), (0.65, 0.5)]]],
    "¥": [[[(0.1, 0), (0.5, 0.45), (0.9, 0)], [(0.5, 0.45), (0.5, 1)], [(0.2, 0.6), (0.8, 0.6)],
           [(0.2, 0.8), (0.8, 0.8)]]],
    "√": [[[(0.05, 0.6), (0.2, 0.5), (0.4, 1), (0.6, 0), (1, 0)]]],
}


def spiral(turns):
    t = np.linspace(0, turns * 2 * np.pi, int(24 * turns))
    r = 0.05 + 0.45 * t / t[-1]
    return [list(zip(0.5 + r * np.cos(t), 0.5 + r * np.sin(t), strict=True))]


def house():
    return [[(0.15, 0.45), (0.15, 1), (0.85, 1), (0.85, 0.45), (0.15, 0.45), (0.5, 0.05), (0.85, 0.45)],
            [(0.42, 1), (0.42, 0.72), (0.58, 0.72), (0.58, 1)]]


def smiley(mood):
    """A face: smiling (mood 1), straight (0) or frowning (-1)."""
    mouth = arc(0.5, 0.75 - 0.15 * mood, 0.25, 0.15 * abs(mood) + 0.001, 20, 160) if mood >= 0 else \
        arc(0.5, 0.8, 0.25, 0.15, 200, 340)
    return [ring(0.5, 0.5, 0.48), dot(0.35, 0.38), dot(0.65, 0.38), mouth]


def heart(roundness):
    """A heart whose lobes are ``roundness`` (0.15 to 0.3) of its width across."""
    r = roundness
    return [[(0.5, 1.0), (0.5 - 2 * r - 0.02, 0.3 + r)] + arc(0.5 - r, 0.3, r, r, 150, 360)
            + arc(0.5 + r, 0.3, r, r, 180, 390) + [(0.5, 1.0)]]


def arrow(angle):
    """An arrow pointing any way: a shaft, and a head open or closed."""
    c, s = math.cos(angle), math.sin(angle)
    return [[(0.5 + (x - 0.5) * c - (y - 0.5) * s, 0.5 + (x - 0.5) * s + (y - 0.5) * c) for x, y in stroke]
            for stroke in ARROW_RIGHT]


def tick(arm):
    """A tick whose long arm is ``arm`` times its short one."""
    return [[(0.0, 0.6), (0.3, 1.0), (0.3 + 0.4 * arm, 1.0 - 0.5 * arm)]]


def sun(rays):
    spokes = [[(0.5 + 0.3 * math.cos(a), 0.5 + 0.3 * math.sin(a)), (0.5 + 0.5 * math.cos(a), 0.5 + 0.5 * math.sin(a))]
              for a in np.linspace(0, 2 * np.pi, rays, endpoint=False)]
    return [ring(0.5, 0.5, 0.2), *spokes]


def flower(petals):
    loops = []
    for a in np.linspace(0, 360, petals, endpoint=False):
        c, s = math.cos(math.radians(a)), math.sin(math.radians(a))
        loops.append([(0.5 + 0.32 * c + x * c - y * s, 0.5 + 0.32 * s + x * s + y * c)
                      for x, y in arc(0, 0, 0.18, 0.09, 0, 360, 12)])
    return [ring(0.5, 0.5, 0.12), *loops]


def cloud():
    bumps = [(0.25, 0.55, 0.2), (0.45, 0.35, 0.22), (0.7, 0.4, 0.2), (0.8, 0.62, 0.16)]
    outline = []
    for cx, cy, r in bumps:
        outline += arc(cx, cy, r, r, 150, 350, 8)
    return [outline + [(0.9, 0.75), (0.15, 0.75), outline[0]]]


def zigzag(teeth):
    return [[(k / teeth, 0.2 if k % 2 else 0.8) for k in range(teeth + 1)]]


def wave(periods):
    x = np.linspace(0, 1, 12 * periods)
    return [list(zip(x, 0.5 + 0.3 * np.sin(2 * np.pi * periods * x), strict=True))]


def moon():
    return [arc(0.5, 0.5, 0.5, 0.5, 60, 300) + arc(0.75, 0.5, 0.45, 0.5, 240, 120)]


def stick_figure():
    return [ring(0.5, 0.15, 0.15), [(0.5, 0.3), (0.5, 0.7)], [(0.15, 0.45), (0.85, 0.45)],
            [(0.2, 1), (0.5, 0.7), (0.8, 1)]]


def tree():
    return [[(0.45, 1), (0.45, 0.65)], [(0.55, 1), (0.55, 0.65)], [(0.1, 0.65), (0.5, 0), (0.9, 0.65), (0.1, 0.65)]]


def fish():
    return [arc(0.4, 0.5, 0.35, 0.25, 0, 360), [(0.75, 0.5), (1, 0.25), (1, 0.75), (0.75, 0.5)], dot(0.25, 0.42)]


def crossed_box():
    return [[(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)], [(0, 0), (1, 1)], [(1, 0), (0, 1)]]


def envelope():
    return [[(0, 0.2), (1, 0.2), (1, 0.8), (0, 0.8), (0, 0.2)], [(0, 0.2), (0.5, 0.55), (1, 0.2)]]


def ladder(rungs):
    return [[(0.2, 0), (0.2, 1)], [(0.8, 0), (0.8, 1)], *[[(0.2, y), (0.8, y)] for y in np.linspace(0.1, 0.9, rungs)]]


def loops(n):
    """A row of cursive loops, as a pen doodles in a margin."""
    t = np.linspace(0, 2 * np.pi * n, 20 * n)
    return [list(zip(t / t[-1] * 0.8 + 0.1 + 0.12 * np.cos(t + np.pi), 0.5 - 0.35 * np.sin(t), strict=True))]


def eye():
    return [arc(0.5, 0.9, 0.5, 0.6, 200, 340), arc(0.5, 0.1, 0.5, 0.6, 20, 160), ring(0.5, 0.5, 0.14)]


def block_arrow():
    return [[(0, 0.35), (0.6, 0.35), (0.6, 0.1), (1, 0.5), (0.6, 0.9), (0.6, 0.65), (0, 0.65), (0, 0.35)]]


def cat_face():
    return [ring(0.5, 0.55, 0.4), [(0.15, 0.35), (0.2, 0.02), (0.4, 0.17)], [(0.6, 0.17), (0.8, 0.02), (0.85, 0.35)],
            dot(0.37, 0.5), dot(0.63, 0.5), [(0.05, 0.65), (0.35, 0.68)], [(0.65, 0.68), (0.95, 0.65)]]


# Each doodle: a function of the random generator giving its strokes. No rings (a zero), nor shapes
# that a hand makes into one: a pentagon or a hexagon, drawn quickly, is round.
DOODLES = {
    "polygon": lambda rng: [polygon(int(rng.integers(3, 5)), rng.uniform(0, math.pi))],
    "square": lambda rng: [[(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)]],
    "star": lambda rng: [star(int(rng.integers(4, 8)), rng.uniform(0.3, 0.6))],
    "heart": lambda rng: heart(rng.uniform(0.15, 0.3)),
    "house": lambda rng: house(),
    "smiley": lambda rng: smiley(int(rng.integers(-1, 2))),
    "arrow": lambda rng: arrow(rng.uniform(0, 2 * math.pi)),
    "tick": lambda rng: tick(rng.uniform(1.2, 2.5)),
    "sun": lambda rng: sun(int(rng.integers(6, 12))),
    "flower": lambda rng: flower(int(rng.integers(4, 8))),
    "cloud": lambda rng: cloud(),
    "spiral": lambda rng: spiral(rng.uniform(2, 3.5)),
    "zigzag": lambda rng: zigzag(int(rng.integers(4, 9))),
    "wave": lambda rng: wave(int(rng.integers(2, 4))),
    "moon": lambda rng: moon(),
    "stick figure": lambda rng: stick_figure(),
    "tree": lambda rng: tree(),
    "fish": lambda rng: fish(),
    "crossed box": lambda rng: crossed_box(),
    "envelope": lambda rng: envelope(),
    "ladder": lambda rng: ladder(int(rng.integers(3, 6))),
    "loops": lambda rng: loops(int(rng.integers(3, 6))),
    "eye": lambda rng: eye(),
    "block arrow": lambda rng: block_arrow(),
    "cat": lambda rng: cat_face(),
}


# ---- drawing ---------------------------------------------------------------------------------------

def draw_strokes(strokes, rng):
    """The strokes as a hand draws them on a CANVAS-sized dark square: the shape slanted, turned,
    stretched and wobbled at random, with a pen from a hairline to a felt-tip."""
    points = np.concatenate([np.asarray(s, float) for s in strokes])
    low, high = points.min(axis=0), points.max(axis=0)
    centre, size = (low + high) / 2, max(high - low)
    slant, turn = rng.uniform(-0.35, 0.35), math.radians(rng.uniform(-15, 15))
    stretch = np.array([rng.uniform(0.65, 1.25), rng.uniform(0.8, 1.1)])
    c, s = math.cos(turn), math.sin(turn)
    pen = rng.uniform(0.035, 0.12) * CANVAS
    image = Image.new("L", (CANVAS, CANVAS), 0)
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        p = (wobble(np.asarray(stroke, float), rng, 0.03 * size) - centre) / size * stretch
        x, y = p[:, 0] - slant * p[:, 1], p[:, 1]
        x, y = c * x - s * y, s * x + c * y
        line = list(zip((0.5 + 0.62 * x) * CANVAS, (0.5 + 0.62 * y) * CANVAS, strict=True))
        draw.line(line, fill=255, width=max(1, round(pen)), joint="curve")
        for px, py in (line[0], line[-1]):  # a pen's ends are round
            draw.ellipse((px - pen / 2, py - pen / 2, px + pen / 2, py + pen / 2), fill=255)
    return np.asarray(image)


def wobble(points, rng, size):
    """The points moved by a smooth random wobble of about ``size``, and a little jitter: a hand
    is never exact."""
    ends = rng.normal(0, size, (3, 2))
    t = np.linspace(0, 1, len(points))[:, None]
    smooth = ends[0] * (1 - t) ** 2 + ends[1] * 2 * t * (1 - t) + ends[2] * t ** 2
    return points + smooth + rng.normal(0, size / 4, points.shape)


def draw_character(character, font_file, rng):
    """The character in the font, light on a CANVAS-sized dark square, at a random size and
    weight, slanted and turned a little."""
    size = int(rng.uniform(0.4, 0.62) * CANVAS)
    image = Image.new("L", (CANVAS, CANVAS), 0)
    ImageDraw.Draw(image).text((CANVAS / 2, CANVAS / 2), character, fill=255, anchor="mm",
                               font=font(font_file, size), stroke_width=int(rng.integers(0, 3)), stroke_fill=255)
    slant = rng.uniform(-0.25, 0.25)
    image = image.transform(image.size, Image.Transform.AFFINE, (1, slant, -slant * CANVAS / 2, 0, 1, 0),
                            resample=Image.Resampling.BILINEAR)
    return np.asarray(image.rotate(rng.uniform(-10, 10), resample=Image.Resampling.BILINEAR))


@functools.lru_cache(maxsize=1024)
def font(font_file, size):
    return ImageFont.truetype(str(font_file), size)


# ---- fonts -------------------------------------------------------------------------------------------

def font_folder():
    import matplotlib  # only for where its fonts are: imported when letters are first drawn

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@functools.cache
def fonts():
    """matplotlib's text fonts, each with the letters and symbols it has: {file: (letters, symbols)}.
    Left out: its display, size-variant and symbol-only fonts, and the last-resort font (boxes)."""
    from matplotlib.ft2font import FT2Font

    found = {}
    for path in sorted(font_folder().glob("*.ttf")):
        name = path.stem
        if "Display" in name or name.startswith(("STIXNonUni", "STIXSiz", "LastResort", "cmex", "cmsy", "cmmi")):
            continue
        if name.startswith("cm"):  # Computer Modern: ASCII letters where Unicode has them, signs in TeX's places
            found[path] = (ALPHABETS["Latin"], COMPUTER_MODERN_SYMBOLS)
            continue
        has = FT2Font(str(path)).get_charmap()
        found[path] = ("".join(c for c in LETTERS if ord(c) in has), "".join(c for c in SYMBOLS if ord(c) in has))
    return found


def family(font_file):
    """A font file's family, the name before its style: DejaVuSerif-BoldItalic is DejaVuSerif,
    STIXGeneralBol is STIXGeneral, cmr10 is cm."""
    name = Path(font_file).stem.split("-")[0]
    return "cm" if name.startswith("cm") else name.removesuffix("BolIta").removesuffix("Bol").removesuffix("Italic")


# ---- the kinds ----------------------------------------------------------------------------------------

def typed_or_drawn(rng, n, characters_of, strokes, typed_share, leave_out=()):
    """``n`` images, each a character typeset in one of the fonts (a ``typed_share`` of them) or
    drawn as strokes, with what each is. ``characters_of``: a font's characters from fonts();
    ``leave_out``: font families not to use."""
    usable = [(f, characters_of(chars)) for f, chars in fonts().items() if family(f) not in leave_out]
    usable = [(f, chars) for f, chars in usable if chars]
    images, drawn = [], []
    for _ in range(n):
        if usable and rng.random() < typed_share:
            font_file, characters = usable[rng.integers(len(usable))]
            character = characters[rng.integers(len(characters))]
            images.append(mnist_form(draw_character, character, font_file, rng))
        else:
            names = list(strokes)
            character = names[rng.integers(len(names))]
            images.append(mnist_form(draw_one_way, strokes[character], rng))
        drawn.append(character)
    return images, drawn


def letters(rng, n, leave_out=()):
    """``n`` letters, half typeset and half drawn, and the letter each is."""
    return typed_or_drawn(rng, n, lambda chars: chars[0], STROKE_LETTERS, 0.5, leave_out)


def symbols(rng, n, leave_out=()):
    """``n`` signs and marks, half typeset and half drawn, and the sign each is."""
    return typed_or_drawn(rng, n, lambda chars: chars[1], STROKE_SYMBOLS, 0.5, leave_out)


def doodles(rng, n, leave_out=()):
    """``n`` little drawings, and the name of each."""
    names = list(DOODLES)
    drawn = [names[i] for i in rng.integers(len(names), size=n)]
    return [mnist_form(draw_doodle, name, rng) for name in drawn], drawn


DRAW = {"letters": letters, "symbols": symbols, "doodles": doodles}
NOISE = {"noise": (uniform_noise, "uniform noise"), "scribbles": (scribble_noise, "scribble")}


def draw_one_way(ways, rng):
    """One of the ways of writing a character (lists of strokes), drawn."""
    return draw_strokes(ways[rng.integers(len(ways))], rng)


def draw_doodle(name, rng):
    return draw_strokes(DOODLES[name](rng), rng)


def mnist_form(draw, *args):
    """What ``draw(*args)`` draws, as a network reads it: through images.to_mnist, as the web
    page's drawings go. Drawn again (anew) in the rare case to_mnist finds no ink: a shape so bold
    that it covers more of the canvas than the dark does looks like paper to it."""
    from .images import to_mnist  # SciPy's image filters: a third of a second to load, for drawing alone

    for _ in range(9):
        try:
            return to_mnist(draw(*args), invert=False, even=True)
        except DigitnetError:
            pass
    return to_mnist(draw(*args), invert=False, even=True)


def draw(kind, n, rng, side=28, leave_out=()):
    """``n`` images of ``kind`` as rows of side² floats in [0, 1], and what each shows (a character,
    a doodle's name, "uniform noise", "scribble"). ``leave_out``: font families not to typeset in."""
    if kind in NOISE:
        make, name = NOISE[kind]
        return make(rng, n, side), [name] * n
    images, drawn = DRAW[kind](rng, n, leave_out)
    return resized(np.array(images, np.float32).reshape(n, 28, 28), side), drawn


# ---- how many of each: --not-a-digit's value ------------------------------------------------------------

def mix(spec, default):
    """How many images of each kind to learn "not a digit" from, as {kind: count} in KINDS' order
    (empty for none). ``spec``: None or 0 for none; N, N images in ``default``'s proportions; a
    dict; or text: "N", "none", or kinds and counts like "letters=4000,noise=500"."""
    if isinstance(spec, str):
        text = spec.strip()
        spec = None if text.lower() in ("", "none") else int(text) if text.lstrip("-").isdigit() else \
            dict(part.partition("=")[::2] for part in text.split(","))
    if spec is None:
        return {}
    if isinstance(spec, dict):
        counts = {str(kind).strip(): count_of(kind, count) for kind, count in spec.items()}
    elif isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        counts = {None: int(spec)}  # shared out below, once checked
    else:
        raise DigitnetError(f"not_a_digit must be a whole number of images, or kinds and counts like "
                            f"letters=4000,noise=500; got {spec!r}")
    if min(counts.values(), default=0) < 0 or sum(counts.values()) > MAX_NOT_A_DIGIT:
        raise DigitnetError(f"not_a_digit must be 0 to {MAX_NOT_A_DIGIT:,} images in all, got {spec!r}")
    if None in counts:
        counts = shared_out(counts[None], default)
    unknown = [kind for kind in counts if kind not in KINDS]
    if unknown:
        raise DigitnetError(f"no kind of 'not a digit' image {unknown[0]!r}: choose from {', '.join(KINDS)}")
    return {kind: counts[kind] for kind in KINDS if counts.get(kind)}


def count_of(kind, count):
    """One kind's count, a whole number, from text or a number."""
    try:
        if isinstance(count, bool) or isinstance(count, float) and not count.is_integer():
            raise ValueError
        return int(count)
    except (TypeError, ValueError):
        raise DigitnetError(f"not_a_digit {kind}={count}: the count must be a whole number") from None


def shared_out(n, default):
    """``n`` images shared among the kinds in ``default``'s proportions (the remainder to the first)."""
    total = sum(default.values())
    counts = {kind: n * count // total for kind, count in default.items()}
    first = next(iter(counts))
    counts[first] += n - sum(counts.values())
    return counts


def describe(counts):
    """The kinds and counts as --not-a-digit takes them."""
    return ",".join(f"{kind}={count}" for kind, count in counts.items()) or "none"


def training_images(counts, seed, side=28):
    """The images a network learns to call "not a digit": ``counts`` ({kind: count}) of each kind,
    as uint8 pixels, n x side², each kind drawn from a stream of its own (so more of one kind
    changes none of the others), and none from the streams ``show noise`` tests with."""
    parts = []
    for k, kind in enumerate(KINDS):
        if counts.get(kind):
            rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(TRAINING_STREAM, k)))
            parts.append(draw(kind, counts[kind], rng, side)[0])
    images = np.concatenate(parts) if parts else np.zeros((0, side * side))
    return np.round(images * 255).astype(np.uint8)


def resized(images, side):
    """28x28 images as rows of side² pixels (for a network of another image size)."""
    if side != 28:
        images = np.array([np.asarray(Image.fromarray(image).resize((side, side), Image.Resampling.BOX))
                           for image in images])
    return images.reshape(len(images), side * side)
