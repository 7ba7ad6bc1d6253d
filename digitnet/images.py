"""Real images to MNIST form: 28x28, ink = 1, paper = 0, the digit scaled to fit a
20x20 box and placed with its centre of mass at the centre, as MNIST was made.

``to_mnist`` takes a path, a PIL image or a NumPy array and goes through
the same steps whatever it is given:

1. grey in [0, 1] (transparent pixels become paper),
2. which way round: dark ink on light paper or light ink on dark,
3. background: subtract a large-scale estimate of the paper (uneven light,
   shading), stretch the contrast, cut off the faint noise of the paper,
4. crop to the ink, thicken hairlines to MNIST's thinnest stroke, scale to fit
   20x20 (averaging, as MNIST's anti-aliasing did) and centre its mass in 28x28.
"""

import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage

from .errors import DigitnetError, one_line

MAX_PIXELS = 50_000_000  # larger images are refused before decoding: a 50-megapixel photo is already huge
WORK_SIZE = 256          # images are shrunk to this many pixels a side first: plenty for a 20-pixel digit
MIN_CONTRAST = 0.1       # ink must differ from the paper by 10 % of full scale, else the image is blank
NOISE = 3                # ink must stand this many standard deviations of the paper's noise above it
SOLID = 0.35             # ink at least this dark is the digit itself, the rest its blurred edge
BOX, SIZE = 20, 28       # MNIST: the digit fits 20x20, inside a 28x28 image
THINNEST = 2.0           # MNIST's strokes are at least this wide (10th percentile), in pixels of the 20x20 box
CENTRE = 14.0            # where MNIST's centres of mass lie (mean 13.99, s.d. 0.3 over the test set)


def to_mnist(image, invert=None, even=False):
    """``image`` (a path, a PIL image, or an array: 2-D grey or HxWx3/4, uint8 0-255
    or float 0-1) as a 28x28 float32 array in [0, 1] with ink = 1.

    ``invert``: None to detect the polarity, True if the image is dark ink on light
    paper (so it must be inverted to become MNIST's light ink on black), False if
    it is already light ink on dark. ``even``: the paper is known to be one even
    level (a drawing on a screen), so there is no background to estimate."""
    name = image if isinstance(image, (str, bytes)) or hasattr(image, "__fspath__") else None
    try:
        grey, alpha = grey_and_alpha(open_image(image) if name is not None else image)
        ink = ink_map(grey, alpha, invert, even)
        return centre(fit_box(bolden(crop(ink))))
    except DigitnetError as e:
        if name is None:
            raise
        raise DigitnetError(f"{name}: {e}") from None


# ---- 1. reading --------------------------------------------------------------

def open_image(path):
    """The first frame of the image file at ``path``, upright, at most WORK_SIZE a side."""
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its own pixel limit and twice that: make it an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                return decode(im)
    except FileNotFoundError:
        raise DigitnetError("no such file") from None
    except IsADirectoryError:
        raise DigitnetError("is a directory, not an image") from None
    except PermissionError:
        raise DigitnetError("permission denied") from None
    except UnidentifiedImageError:
        raise DigitnetError("not an image (or not in a format Pillow can read)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DigitnetError(f"the image is larger than the limit of {MAX_PIXELS:,} pixels") from None
    except DigitnetError:
        raise
    except Exception as e:  # a damaged header can fail in many ways inside Pillow
        raise DigitnetError(f"the image is damaged or truncated ({one_line(e)})") from None


def decode(im):
    """An opened PIL image's first frame, upright, as an array at most WORK_SIZE a side."""
    check_size(*im.size)  # from the header: nothing is decoded yet
    try:
        im.seek(0)  # animated GIF, multi-page TIFF: the first frame
        im = ImageOps.exif_transpose(im)  # phone photos are stored sideways
        return shrink(flatten_mode(im))
    except Exception as e:  # a damaged file can make any decoder fail: report it, never a traceback
        raise DigitnetError(f"the image is damaged or truncated ({one_line(e)})") from None


def check_size(width, height):
    if width * height > MAX_PIXELS:
        raise DigitnetError(f"the image is {width}x{height}, more than the limit of {MAX_PIXELS:,} pixels")
    if width * height == 0:
        raise DigitnetError("the image is empty (0 pixels)")


def flatten_mode(im):
    """Grey ("L"), grey with transparency ("LA"), or 16-bit and float grey as "F" in [0, 1]."""
    if im.mode in ("I", "F") or im.mode.startswith("I;16"):
        scale = 1 if im.mode == "F" else 65535  # Pillow's own convert("L") would clip 16-bit grey at 255
        return Image.fromarray(np.clip(np.asarray(im, dtype=np.float32) / scale, 0, 1))
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info:
        return im.convert("RGBA").convert("LA")
    return im.convert("L")


def shrink(im):
    """At most WORK_SIZE pixels a side, averaging (BOX) so thin strokes fade rather than vanish."""
    if max(im.size) > WORK_SIZE:
        im.thumbnail((WORK_SIZE, WORK_SIZE), Image.Resampling.BOX)
    return np.asarray(im)


# ---- 2. grey and transparency -------------------------------------------------

def grey_and_alpha(image):
    """Grey levels (0 black, 1 white) and opacity (None if opaque) as float arrays."""
    if isinstance(image, Image.Image):
        image = decode(image)
    try:
        a = np.asarray(image)
    except ValueError:  # ragged nested lists
        raise DigitnetError("expected an image, got rows of different lengths") from None
    if a.ndim in (2, 3):
        check_size(a.shape[1], a.shape[0])  # before any copy is made
    a = as_unit_floats(a)
    if a.ndim == 3 and a.shape[2] in (1, 2, 3, 4):
        colour, alpha = (a[..., :-1], a[..., -1]) if a.shape[2] in (2, 4) else (a, None)
        # ITU-R 601 luma, the weights Pillow's convert("L") uses
        grey = colour[..., 0] if colour.shape[2] == 1 else colour[..., :3] @ np.array([0.299, 0.587, 0.114])
    elif a.ndim == 2:
        grey, alpha = a, None
    else:
        raise DigitnetError(f"expected a 2-D grey image or HxWx3/4 colour, got an array of shape {a.shape}")
    grey = shrink_array(grey)
    return grey, None if alpha is None or alpha.min() == 1 else shrink_array(alpha)


def as_unit_floats(a):
    """uint8 (0-255), uint16 (0-65535), other whole numbers (0-255), bool, or floats in [0, 1]."""
    if a.dtype == bool:
        return a.astype(np.float64)
    if a.dtype.kind in "ui":
        top = 65535 if a.dtype == np.uint16 else 255
        if a.size and (a.min() < 0 or a.max() > top):
            raise DigitnetError(f"pixel values must lie between 0 and {top}, found {a.min()} to {a.max()}")
        return a / top
    if a.dtype.kind != "f":
        raise DigitnetError(f"expected an image, got an array of {a.dtype}")
    if not np.isfinite(a).all():
        raise DigitnetError("the image holds NaN or infinite values")
    if a.size and (a.min() < -1e-6 or a.max() > 1 + 1e-6):
        raise DigitnetError(f"float pixel values must lie in [0, 1], found {a.min():.3g} to {a.max():.3g}")
    return np.clip(a, 0, 1).astype(np.float64)


def shrink_array(a):
    if max(a.shape) <= WORK_SIZE:
        return a
    return shrink(Image.fromarray(a.astype(np.float32))).astype(np.float64)


# ---- 3. ink ---------------------------------------------------------------------

def ink_map(grey, alpha, invert, even=False):
    """Ink in [0, 1] on a paper of 0: polarity, background, contrast and noise handled."""
    if alpha is not None:
        grey = composite(grey, alpha, invert)
    if invert is None:
        invert = is_dark_on_light(grey)
    ink = 1 - grey if invert else grey
    if even:
        middle = middle_values(ink)  # np.median(ink) is their mean
        level = np.mean(middle)
        ink = against_paper(ink, level, invert)
        # All pixels moved alike, their order kept: the middle ones are still in the middle.
        paper = np.mean(against_paper(middle, level, invert))
    else:
        level = background(ink)
        ink = against_paper(ink, level, invert)
        paper = np.median(ink)
    # Most pixels are paper, so their spread is the noise (grain, JPEG): what stands
    # less than NOISE spreads above it is not ink. Clean images, like MNIST's, keep every level.
    spread = ink - paper  # 1.4826 MAD: σ of normal noise, unmoved by the ink
    sigma = 1.4826 * np.median(np.abs(spread, out=spread), overwrite_input=True)
    floor = paper + NOISE * sigma
    if ink.max() < floor + MIN_CONTRAST:
        raise DigitnetError("no ink found: the image is blank (or the ink is too faint)")
    # The body of the strokes becomes full ink, as in MNIST; the top few per cent are noise peaks.
    top = np.percentile(ink[ink > floor], 90, overwrite_input=True)
    ink -= floor  # in place: ink is this function's own array by now
    ink /= max(top - floor, 1e-6)
    return np.clip(ink, 0, 1, out=ink)


def against_paper(ink, level, invert):
    """``ink`` less the paper's ``level``: a new array."""
    ink = ink - level
    if invert:  # paper reflects the light and ink absorbs a share of it: measure ink against the paper
        ink /= np.maximum(1 - level, 0.05)
    return ink


def middle_values(a):
    """The one or two values in the middle of ``a`` sorted, whose mean is np.median(a): the same
    order statistics, picked once for two medians."""
    k = a.size // 2
    middle = [k - 1, k] if a.size % 2 == 0 else [k]
    return np.partition(a.ravel(), middle)[middle]


def composite(grey, alpha, invert):
    """Transparent pixels are paper: white behind dark ink, black behind light ink.
    Unless told, the opaque pixels say which: light strokes get a black paper."""
    if invert is None:
        opaque = alpha.sum()
        invert = opaque == 0 or (grey * alpha).sum() / opaque < 0.5
    paper = 1.0 if invert else 0.0
    return grey * alpha + paper * (1 - alpha)


def is_dark_on_light(grey):
    """Ink is the few pixels far from the paper: the paper is the median (strokes cover
    far less than half of any picture of a digit; the border may be a table or a shadow),
    and the ink lies on whichever side of it strays further (a 3x3 mean tames specks)."""
    paper = np.median(grey)
    smooth = ndimage.uniform_filter(grey, size=3)
    return paper - smooth.min() > smooth.max() - paper


def background(ink):
    """The paper's own large-scale level (shading, a gradient of light): a grey opening
    with a square wider than any stroke removes the strokes and keeps the rest. It is
    worked out on a 4x smaller copy (the background has no fine detail) and smoothed."""
    small = np.asarray(Image.fromarray(ink.astype(np.float32)).reduce(4)) if min(ink.shape) >= 64 else ink
    k = max(3, min(small.shape) // 3)
    level = ndimage.uniform_filter(ndimage.grey_opening(small, size=(k, k)), size=k // 2)
    if level.shape != ink.shape:
        level = np.asarray(Image.fromarray(level).resize(ink.shape[::-1], Image.Resampling.BILINEAR))
    return level


# ---- 4. crop, scale and centre ------------------------------------------------------

def crop(ink):
    """The digit's bounding box. Specks much smaller than the largest stroke are dropped,
    and the box holds the solid ink: a faint fringe is blur (lens, interpolation), and
    MNIST too fitted the solid digit to 20x20 before its edges were smoothed."""
    labels, n = ndimage.label(ink > 0)
    if n == 0:
        raise DigitnetError("no ink found: the image is blank")
    mass = ndimage.sum(ink, labels, index=np.arange(1, n + 1))
    ink = np.where(np.isin(labels, 1 + np.flatnonzero(mass >= 0.05 * mass.max())), ink, 0)
    solid = ink > SOLID
    rows, cols = np.flatnonzero(solid.any(axis=1)), np.flatnonzero(solid.any(axis=0))
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def bolden(ink):
    """Strokes much finer than MNIST's (a ball-point on a big page) are thickened to
    MNIST's thinnest: the network has seen no hairlines. Only where the digit is big
    enough to measure a stroke."""
    scale = BOX / max(ink.shape)
    solid = ink > 0.5
    if scale > 0.5 or not solid.any():
        return ink
    edge = np.count_nonzero(solid & ~ndimage.binary_erosion(solid))
    width = 2 * np.count_nonzero(solid) / edge * scale  # a stroke of length L, width w: area wL, edge 2L
    radius = round((THINNEST - width) / 2 / scale)
    if radius < 1:
        return ink
    y, x = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    return ndimage.grey_dilation(np.pad(ink, radius), footprint=x * x + y * y <= radius * radius)


def fit_box(ink):
    """Scaled to fit BOX x BOX, keeping the aspect ratio; shrinking averages (anti-aliases)."""
    h, w = ink.shape
    scale = BOX / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    im = Image.fromarray(ink.astype(np.float32)).resize(size, Image.Resampling.LANCZOS)
    box = np.clip(np.asarray(im), 0, 1)
    if box.max() <= 0:
        raise DigitnetError("no ink found: the image is blank")
    return box / box.max()  # a thin pen fades when shrunk: restore full ink


def centre(box):
    """In a 28x28 field, moved by whole pixels so its centre of mass lands where MNIST's do."""
    field = np.zeros((SIZE, SIZE), np.float32)
    h, w = box.shape
    top, left = (SIZE - h) // 2, (SIZE - w) // 2
    field[top:top + h, left:left + w] = box
    shift = np.round(CENTRE - np.array(ndimage.center_of_mass(field)))
    return ndimage.shift(field, shift, order=0, mode="constant", cval=0.0)
