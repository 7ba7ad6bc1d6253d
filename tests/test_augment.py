"""The moves and distortions of augment.py against what each means: a quarter turn is
np.rot90, an enlargement moves a line outwards, a field of one pixel down is a shift,
thickening is a grey dilation; and the --augment setting, checked."""

import numpy as np
import pytest
from scipy import ndimage

from digitnet import augment
from digitnet.augment import augmentation, elastic_fields, random_moves, shifted, thickened, warped
from digitnet.errors import DigitnetError


@pytest.fixture
def images():
    rng = np.random.default_rng(0)
    return rng.random((6, 81), dtype=np.float32)  # 9 × 9: the centre is a pixel


def test_no_turn_no_scale_no_field_leaves_the_image(images):
    np.testing.assert_array_equal(warped(images, np.zeros(6, np.float32), np.ones(6, np.float32)), images)


def test_a_quarter_turn_is_rot90_clockwise(images):
    turned = warped(images, np.full(6, np.pi / 2, np.float32), np.ones(6, np.float32))
    np.testing.assert_allclose(turned.reshape(6, 9, 9), np.rot90(images.reshape(6, 9, 9), k=-1, axes=(1, 2)),
                               atol=1e-5)


def test_scale_two_enlarges_about_the_centre():
    line = np.zeros((1, 9, 9), np.float32)
    line[0, 6, :] = 1  # two rows below the centre
    out = warped(line.reshape(1, 81), np.zeros(1, np.float32), np.full(1, 2, np.float32)).reshape(9, 9)
    np.testing.assert_allclose(out[8], 1)  # now four rows below it
    assert out[6].max() == 0 and out[7].max() == pytest.approx(0.5)  # between the two, half


def test_a_field_of_one_pixel_down_is_a_shift(images):
    fields = np.zeros((6, 2, 81), np.float32)
    fields[:, 0] = 1  # read from one row down everywhere
    still = np.zeros(6, np.int64)
    out = warped(images, np.zeros(6, np.float32), np.ones(6, np.float32), fields)
    np.testing.assert_allclose(out, shifted(images, still, still + 1), atol=1e-6)


def test_thickness_one_is_a_grey_dilation_and_minus_one_an_erosion(images):
    cross = ndimage.generate_binary_structure(2, 1)
    squares = images.reshape(6, 9, 9)
    dilated = [ndimage.grey_dilation(s, footprint=cross, mode="constant", cval=0) for s in squares]
    eroded = [ndimage.grey_erosion(s, footprint=cross, mode="constant", cval=0) for s in squares]
    np.testing.assert_allclose(thickened(images, np.ones(6, np.float32)), np.reshape(dilated, (6, 81)), atol=1e-6)
    np.testing.assert_allclose(thickened(images, -np.ones(6, np.float32)), np.reshape(eroded, (6, 81)), atol=1e-6)
    half = thickened(images, np.full(6, 0.5, np.float32))
    np.testing.assert_allclose(half, (images + np.reshape(dilated, (6, 81))) / 2, atol=1e-6)


def test_elastic_fields_are_smooth_random_displacements_of_size_alpha():
    """Uniform noise of variance 1/3 through a 2-D Gaussian of width σ keeps 1/(4πσ²) of its
    variance, away from the edges."""
    fields = elastic_fields(np.random.default_rng(1), 400, alpha=34, sigma=4, side=28)
    inner = fields.reshape(400, 2, 28, 28)[:, :, 10:18, 10:18]
    expected = 34 * np.sqrt(1 / 3 / (4 * np.pi * 16))
    assert inner.std() == pytest.approx(expected, rel=0.15) and abs(inner.mean()) < 0.1 * expected
    neighbours = np.corrcoef(inner[..., :-1].ravel(), inner[..., 1:].ravel())[0, 1]
    assert neighbours > 0.9  # smooth: a pixel moves almost as its neighbour does


def test_moved_images_stay_pixels_in_0_1_and_keep_their_ink():
    rng = np.random.default_rng(3)
    images = np.zeros((20, 28, 28), np.uint8)
    images[:, 8:20, 12:16] = 255  # a bar in the middle
    moves = random_moves(rng, 20, 2, augmentation("rotate=10,scale=0.1,thickness=0.5,elastic=34"), 28)
    x = augment.moved(images.reshape(20, -1), moves)
    assert x.dtype == np.float32 and x.min() >= 0 and x.max() <= 1 + 1e-6
    ink = x.sum(axis=1) / (12 * 4)
    assert np.all((ink > 0.5) & (ink < 2))


def test_without_distortions_the_same_numbers_are_drawn_as_before():
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    moves = random_moves(a, 100, 2, {}, 28)
    dx, dy = augment.random_shifts(b, 100, 2)
    np.testing.assert_array_equal(moves.dx, dx)
    np.testing.assert_array_equal(moves.dy, dy)
    assert moves.warps is None and a.random() == b.random()


def test_the_augment_setting_is_read_and_written():
    assert augmentation(None) == augmentation("none") == augmentation("") == {}
    assert augmentation("rotate=12, elastic") == {"rotate": 12.0, "elastic": 34.0}
    assert augmentation({"scale": 0.2, "thickness": 0}) == {"scale": 0.2}
    assert augmentation("elastic=0,sigma=3") == {}
    assert augment.describe(augmentation("elastic=20,sigma=5")) == "elastic=20,sigma=5"
    assert augment.describe({}) == "none"


@pytest.mark.parametrize("spec, problem", [("spin=3", "unknown augmentation 'spin'"), ("rotate=400", "0 to 45"),
                                           ("scale=x", "not a number"), ("rotate=-1", "0 to 45"),
                                           ("sigma=3", "give elastic="), ("elastic,sigma=0", "not 0")])
def test_bad_augment_settings_are_refused_in_a_line(spec, problem):
    with pytest.raises(DigitnetError, match=problem):
        augmentation(spec)
