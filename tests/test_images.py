"""to_mnist on MNIST digits dressed up as real pictures: the network must read each
variant as it reads the original, and bad files must give one clear error."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from digitnet.errors import DigitnetError
from digitnet.images import MAX_PIXELS, to_mnist

N_SAMPLES = 300
# This 13,002-parameter network is fragile near its decision boundaries: scaling a clean
# digit up 8x and back already changes 1-2 % of its answers, and a pen 2/3 pixel bolder or
# paper grain about 1 % more. The pictures agree 97-98 % of the time (see the printed
# rates); below 96 % the preprocessing has got worse. Plain MNIST input must barely change.
AGREEMENT = 0.96
AGREEMENT_MNIST_FORM = 0.99
# A ±10° turn alone, applied to the 28x28 originals, already changes 2-4 % of this
# network's answers; the turned pictures, on paper, may lose no more than the others on top.


# ---- rendering MNIST digits as photos and scans ---------------------------------

def big_ink(digit, rng, scale=8, pen=None):
    """The digit scaled up to a few hundred pixels, its strokes made (for pen 3) about
    2/3 of an MNIST pixel thicker by a max filter, applied at 3x where it is cheap."""
    im = Image.fromarray(digit).resize((84, 84), Image.Resampling.BICUBIC)
    pen = pen if pen is not None else int(rng.choice([1, 3]))
    if pen > 1:
        im = im.filter(ImageFilter.MaxFilter(pen))
    im = im.resize((28 * scale, 28 * scale), Image.Resampling.BICUBIC)
    return np.asarray(im, dtype=np.float64) / 255


def on_sheet(ink, rng, size=(300, 260)):
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
    im.save(buffer, fmt, **({"compress_level": 0} if fmt == "PNG" else {}), **options)
    buffer.seek(0)
    return Image.open(buffer)


def dark_on_white(digit, rng):
    return grey_image(0.95 - 0.85 * on_sheet(big_ink(digit, rng), rng), rng)


def coloured(digit, rng):
    ink = on_sheet(big_ink(digit, rng), rng).astype(np.float32)[..., None]
    paper, pen = np.float32([245, 237, 217]), np.float32([25, 38, 128])  # blue pen on cream paper
    rgb = paper + (pen - paper) * (ink + rng.normal(0, 0.02, ink.shape).astype(np.float32))
    return encoded(Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)), "PNG")


def transparent(digit, rng):
    alpha = on_sheet(big_ink(digit, rng), rng)
    rgba = np.zeros(alpha.shape + (4,), np.uint8)
    rgba[..., :3] = 20
    rgba[..., 3] = np.round(alpha * 255)
    return encoded(Image.fromarray(rgba), "PNG")


def jpeg(digit, rng):
    return encoded(dark_on_white(digit, rng), "JPEG", quality=60)


def rotated(digit, rng, angle=None):
    angle = rng.uniform(-10, 10) if angle is None else angle
    return dark_on_white(digit, rng).rotate(angle, Image.Resampling.BILINEAR, expand=True, fillcolor=242)


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


def read_all(pictures):
    return np.stack([to_mnist(p) for p in pictures])


@pytest.fixture(scope="module")
def drawn(mnist, trained_net):
    """N_SAMPLES test digits drawn as each kind of picture, every one a different digit (the kinds
    take turns): each picture's kind, the network's answer on its original and on the picture read
    back, and the first picture of each kind."""
    digits = mnist.test_images[:N_SAMPLES * len(VARIANTS)]
    names = list(VARIANTS)
    kinds = [names[i % len(names)] for i in range(len(digits))]
    rng = np.random.default_rng(97)
    pictures = [VARIANTS[kind](d, rng) for kind, d in zip(kinds, digits, strict=True)]
    first = {kind: pictures[kinds.index(kind)] for kind in VARIANTS}
    return np.array(kinds), trained_net.predict(digits), trained_net.predict(read_all(pictures)), first


@pytest.mark.parametrize("kind", [k for k in VARIANTS if k != "rotated"])
def test_variant_read_as_the_original(kind, drawn, output_dir):
    kinds, expected, read, first = drawn
    first[kind].save(output_dir / f"variant-{kind}.png")
    agreement = np.mean(read[kinds == kind] == expected[kinds == kind])
    print(f"{kind}: {agreement:.1%} of {np.sum(kinds == kind)} read as the original")
    least = AGREEMENT_MNIST_FORM if kind == "as_file" else AGREEMENT
    assert agreement >= least, f"{kind}: only {agreement:.1%} read as the original"


def test_rotated_costs_no_more_than_the_rotation(samples, trained_net, output_dir):
    digits, expected = samples
    angles = np.random.default_rng(0).uniform(-10, 10, len(digits))
    rng = np.random.default_rng(1)
    pictures = [rotated(d, rng, a) for d, a in zip(digits, angles, strict=True)]
    pictures[0].save(output_dir / "variant-rotated.png")
    agreement = np.mean(trained_net.predict(read_all(pictures)) == expected)
    turned = np.stack([np.asarray(Image.fromarray(d).rotate(a, Image.Resampling.BILINEAR))
                       for d, a in zip(digits, angles, strict=True)])
    reference = np.mean(trained_net.predict(turned) == expected)
    print(f"rotated: {agreement:.1%} read as the original; the 28x28 digits turned alike: {reference:.1%}")
    assert agreement >= reference - (1 - AGREEMENT)


def test_realistic_pictures_read_as_the_originals_97_percent(drawn):
    """The figure users see: over a few thousand digits, each drawn as one of the
    realistic pictures in turn (rotated ones too), >= 97 % read as the original."""
    kinds, expected, read, _ = drawn
    real = kinds != "as_file"
    agreement = np.mean(read[real] == expected[real])
    print(f"all realistic variants: {agreement:.1%} of {np.sum(real)} read as the original")
    assert agreement >= 0.97, f"only {agreement:.1%} read as the original"


# ---- the other kinds of input to_mnist takes ----------------------------------------

@pytest.fixture(scope="module")
def clear_digits(samples, trained_net):
    """Digits the network reads with confidence, to check answers one by one."""
    digits, expected = samples
    sure = np.flatnonzero(trained_net.predict_proba(digits).max(axis=1) > 0.99)[:10]
    return digits[sure], expected[sure]


def test_output_is_mnist_form(clear_digits):
    for picture in (clear_digits[0][0], dark_on_white(clear_digits[0][0], np.random.default_rng(0))):
        x = to_mnist(picture)
        assert x.shape == (28, 28) and x.dtype == np.float32
        assert x.min() == 0 and x.max() == 1
        assert x[:, :4].max() == 0 and x[:4].max() == 0  # the digit sits inside the 20x20 box, with a margin


def test_arrays_floats_and_colour_agree(clear_digits, trained_net):
    digits, expected = clear_digits
    rng = np.random.default_rng(0)
    for d, e in zip(digits, expected, strict=True):
        paper = np.asarray(dark_on_white(d, rng))
        rgb = np.repeat(paper[..., None], 3, axis=2)
        rgba = np.dstack([np.zeros_like(d)] * 3 + [d])  # black ink, alpha = ink, on nothing
        for form in (d, d / 255.0, paper, paper / 255.0, rgb, rgb / 255.0, rgba, d.astype(np.int64)):
            assert trained_net.predict_image(form) == e


def test_light_strokes_on_transparent_canvas(clear_digits, trained_net):
    digits, expected = clear_digits
    for d, e in zip(digits, expected, strict=True):
        rgba = np.dstack([np.full_like(d, 255)] * 3 + [d])  # white ink, alpha = ink
        assert trained_net.predict_image(Image.fromarray(rgba)) == e


def test_forced_polarity(clear_digits):
    d = clear_digits[0][0]
    paper = dark_on_white(d, np.random.default_rng(0))
    np.testing.assert_array_equal(to_mnist(paper, invert=True), to_mnist(paper))
    np.testing.assert_array_equal(to_mnist(d, invert=False), to_mnist(d))
    assert not np.array_equal(to_mnist(d, invert=True), to_mnist(d))  # the black paper read as ink


def test_polarity_of_a_sheet_on_a_table(clear_digits):
    """The border of a photo may be the table, darker than the ink's paper: the paper is
    what most of the picture is, so this is still dark ink on light paper."""
    sheet = np.asarray(dark_on_white(clear_digits[0][0], np.random.default_rng(0)))
    photo = np.full((sheet.shape[0] + 80, sheet.shape[1] + 60), 70, np.uint8)
    photo[50:50 + sheet.shape[0], 20:20 + sheet.shape[1]] = sheet
    np.testing.assert_array_equal(to_mnist(photo), to_mnist(photo, invert=True))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP"])
def test_file_formats(fmt, clear_digits, trained_net, tmp_path):
    digits, expected = clear_digits
    rng = np.random.default_rng(0)
    for i, (d, e) in enumerate(zip(digits[:3], expected[:3], strict=True)):
        path = tmp_path / f"{i}.{fmt.lower()}"
        coloured(d, rng).save(path, fmt)
        assert trained_net.predict_image(path) == e
        assert trained_net.predict_image(str(path)) == e


def test_phone_photo_stored_sideways(clear_digits, trained_net, tmp_path):
    """Phones store the pixels as the sensor saw them and an EXIF tag saying how to turn them."""
    d, e = clear_digits[0][0], clear_digits[1][0]
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: turn 90° clockwise to display
    dark_on_white(d, np.random.default_rng(0)).rotate(90, expand=True).save(tmp_path / "phone.jpg", exif=exif)
    assert trained_net.predict_image(tmp_path / "phone.jpg") == e
    seen, upright = to_mnist(tmp_path / "phone.jpg").ravel(), to_mnist(d).ravel()
    assert np.corrcoef(seen, upright)[0, 1] > 0.75  # sideways, it would be near 0


def test_image_modes(clear_digits, trained_net):
    d, e = clear_digits[0][0], clear_digits[1][0]
    paper = dark_on_white(d, np.random.default_rng(0))
    sixteen = Image.fromarray(np.asarray(paper).astype(np.uint16) * 257)  # a 16-bit scan
    for im in (paper, paper.convert("P"), paper.convert("1"), paper.convert("RGB"), paper.convert("CMYK"), sixteen):
        assert trained_net.predict_image(im) == e, im.mode


def test_hairlines_thickened_to_mnist_strokes():
    """A 7 drawn with a 2-pixel line on a 400-pixel page would shrink to a tenth of a
    pixel: it must come out about as bold as the same 7 drawn with a marker of MNIST's width."""
    def seven(width):
        page = Image.new("L", (300, 400), 255)
        ImageDraw.Draw(page).line([(40, 40), (260, 40), (120, 370)], fill=0, width=width, joint="curve")
        return to_mnist(page)
    hairline, marker = seven(2), seven(36)
    assert hairline.sum() >= 0.8 * marker.sum()
    assert np.count_nonzero(hairline > 0.5) >= 0.8 * np.count_nonzero(marker > 0.5)


# ---- bad input: one clear error, naming the file --------------------------------------

def png_header(width, height):
    """The start of a PNG that claims ``width`` x ``height`` pixels (cheap to make at any size)."""
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


def picture_bytes(fmt, digit):
    buffer = io.BytesIO()
    dark_on_white(digit, np.random.default_rng(0)).save(buffer, fmt)
    return buffer.getvalue()


def bad_files(tmp_path, digit):
    blank = np.full((200, 300), 240, np.uint8)
    shaded_blank = (np.linspace(250, 150, 300)[None, :] + np.random.default_rng(0).normal(0, 3, (200, 300)))
    files = {
        "text.png": (b"this is not an image\n", "not an image"),
        "empty.jpg": (b"", "not an image"),
        "cut.png": (picture_bytes("PNG", digit)[:2000], "damaged or truncated"),
        "cut.jpg": (picture_bytes("JPEG", digit)[:1500], "damaged or truncated"),
        "huge.png": (png_header(10_000, 8_000), "limit of 50,000,000 pixels"),
        "bomb.png": (png_header(30_000, 30_000), "limit of 50,000,000 pixels"),
        "zero.png": (png_header(0, 10), None),
    }
    for name, pixels in (("blank.png", blank), ("shaded-blank.png", shaded_blank)):
        buffer = io.BytesIO()
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(buffer, "PNG")
        files[name] = (buffer.getvalue(), "no ink found")
    for name, (content, _) in files.items():
        (tmp_path / name).write_bytes(content)
    return {tmp_path / name: expected for name, (_, expected) in files.items()}


def test_bad_files_give_one_line_errors(tmp_path, mnist):
    cases = bad_files(tmp_path, mnist.test_images[0])
    cases[tmp_path / "missing.png"] = "no such file"
    cases[tmp_path] = "directory"
    for path, expected in cases.items():
        with pytest.raises(DigitnetError) as e:
            to_mnist(path)
        message = str(e.value)
        assert message.startswith(f"{path}: ") and "\n" not in message
        assert expected is None or expected in message, message


def test_pixel_limit_holds_for_images_in_memory():
    huge = np.broadcast_to(np.uint8(0), (MAX_PIXELS // 1000 + 1, 1000))  # no memory behind it
    with pytest.raises(DigitnetError, match="limit"):
        to_mnist(huge)


@pytest.mark.parametrize("array, expected", [
    (np.zeros((28, 28)), "no ink found"),
    (np.full((28, 28), 0.5), "no ink found"),
    (np.zeros((28, 28, 5)), "shape"),
    (np.zeros(784), "shape"),
    (np.full((28, 28), 2.0), r"\[0, 1\]"),
    (np.full((28, 28), np.nan), "NaN"),
    (np.full((28, 28), 300), "between 0 and 255"),
    (np.zeros((0, 28)), "empty"),
    (np.array([["a"]]), "expected an image"),
])
def test_bad_arrays(array, expected):
    with pytest.raises(DigitnetError, match=expected):
        to_mnist(array)
