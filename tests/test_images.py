"""to_mnist on MNIST digits dressed up as real pictures: the network must read each
variant as it reads the original, and bad files must give one clear error."""

import io

import numpy as np
import pytest
from PIL import Image, ImageFilter

from digitnet.images import to_mnist

N_SAMPLES = 300
AGREEMENT = 0.97


# ---- rendering MNIST digits as photos and scans ---------------------------------

def big_ink(digit, rng, scale=10, pen=None):
    """The digit scaled up to a few hundred pixels, its strokes made up to 1.3 pixels
    thicker by a max filter (applied at 3x, where it is cheap)."""
    im = Image.fromarray(digit).resize((84, 84), Image.Resampling.BICUBIC)
    pen = pen if pen is not None else int(rng.choice([1, 3, 5]))
    if pen > 1:
        im = im.filter(ImageFilter.MaxFilter(pen))
    im = im.resize((28 * scale, 28 * scale), Image.Resampling.BICUBIC)
    return np.asarray(im, dtype=np.float64) / 255


def on_sheet(ink, rng, size=(360, 330)):
    """Ink placed off-centre on a larger sheet (0 = paper)."""
    sheet = np.zeros(size[::-1])
    h, w = ink.shape
    top, left = rng.integers(0, size[1] - h + 1), rng.integers(0, size[0] - w + 1)
    sheet[top:top + h, left:left + w] = ink
    return sheet


def grey_image(values, rng, noise=0.02):
    values = values + rng.normal(0, noise, values.shape)
    return Image.fromarray(np.clip(values * 255, 0, 255).round().astype(np.uint8))


def encoded(im, fmt, **options):
    """``im`` written to ``fmt`` in memory and read back, as if from a file."""
    buffer = io.BytesIO()
    im.save(buffer, fmt, **({"compress_level": 1} if fmt == "PNG" else {}), **options)
    buffer.seek(0)
    return Image.open(buffer)


def dark_on_white(digit, rng):
    return grey_image(0.95 - 0.85 * on_sheet(big_ink(digit, rng), rng), rng)


def coloured(digit, rng):
    ink = on_sheet(big_ink(digit, rng), rng)[..., None]
    paper, pen = np.array([0.96, 0.93, 0.85]), np.array([0.1, 0.15, 0.5])  # blue pen on cream paper
    rgb = paper * (1 - ink) + pen * ink + rng.normal(0, 0.02, ink.shape)
    return encoded(Image.fromarray(np.clip(rgb * 255, 0, 255).astype(np.uint8)), "PNG")


def transparent(digit, rng):
    alpha = on_sheet(big_ink(digit, rng), rng)
    rgba = np.zeros(alpha.shape + (4,), np.uint8)
    rgba[..., :3] = 20
    rgba[..., 3] = np.round(alpha * 255)
    return encoded(Image.fromarray(rgba), "PNG")


def jpeg(digit, rng):
    return encoded(dark_on_white(digit, rng), "JPEG", quality=60)


def rotated(digit, rng):
    return dark_on_white(digit, rng).rotate(rng.uniform(-10, 10), Image.Resampling.BILINEAR,
                                            expand=True, fillcolor=242)


def shaded(digit, rng):
    """A photo under a lamp: paper brightness falls from one corner to the other."""
    ink = on_sheet(big_ink(digit, rng), rng)
    y, x = np.mgrid[0:1:1j * ink.shape[0], 0:1:1j * ink.shape[1]]
    angle = rng.uniform(0, 2 * np.pi)
    paper = 0.95 - 0.45 * (np.cos(angle) * x + np.sin(angle) * y + 1) / 2
    return grey_image(paper * (1 - 0.85 * ink), rng)


def pencil(digit, rng):
    """A faint thin pencil line: ink only 35 % darker than the paper."""
    return grey_image(0.9 - 0.35 * on_sheet(big_ink(digit, rng, pen=1), rng), rng)


def chalk(digit, rng):
    """Light on dark, like chalk on a blackboard."""
    return grey_image(0.2 + 0.7 * on_sheet(big_ink(digit, rng), rng), rng, noise=0.03)


def as_file(digit, rng):
    """The MNIST image itself, 28x28 light ink on black."""
    return encoded(Image.fromarray(digit), "PNG")


VARIANTS = {f.__name__: f for f in (as_file, dark_on_white, coloured, transparent, jpeg, rotated, shaded,
                                    pencil, chalk)}


@pytest.fixture(scope="module")
def samples(mnist, trained_net):
    """Test digits with the network's answer on each original."""
    digits = mnist.test_images[:N_SAMPLES]
    return digits, trained_net.predict(digits)


@pytest.mark.parametrize("kind", VARIANTS)
def test_variant_read_as_the_original(kind, samples, trained_net, output_dir):
    digits, expected = samples
    rng = np.random.default_rng(sum(map(ord, kind)))
    pictures = [VARIANTS[kind](d, rng) for d in digits]
    pictures[0].save(output_dir / f"variant-{kind}.png")
    X = np.stack([to_mnist(p) for p in pictures])
    agreement = np.mean(trained_net.predict(X) == expected)
    print(f"{kind}: {agreement:.1%} agree with the original ({len(digits)} digits)")
    assert agreement >= AGREEMENT, f"{kind}: only {agreement:.1%} agree"
