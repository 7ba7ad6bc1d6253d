"""The images of no digit that a "not a digit" output learns from (negatives.py): seeded, each kind
from a stream of its own, in MNIST's form, never a character a person would read as a digit; how
many of each kind, as --not-a-digit takes them; and that what they teach reaches letters in a
font the network never saw."""

import numpy as np
import pytest
from scipy import ndimage

from digitnet import Network, negatives
from digitnet.errors import DigitnetError
from digitnet.negatives import DIGIT_LIKE, FORBIDDEN, KINDS, LETTERS, SYMBOLS, draw, mix, training_images
from digitnet.noise import uniform_noise
from digitnet.recipes import NOT_A_DIGIT
from digitnet.training import Trainer

SMALL = {"letters": 12, "symbols": 6, "doodles": 6, "noise": 3, "scribbles": 3}


def test_the_same_seed_draws_the_same_images_and_another_seed_others():
    images = training_images(SMALL, seed=0)
    assert images.dtype == np.uint8 and images.shape == (30, 784)
    assert (training_images(SMALL, seed=0) == images).all()
    other = training_images(SMALL, seed=1)
    assert not (other == images).all(axis=1).any()  # not one image the same


def test_each_kind_is_drawn_from_a_stream_of_its_own():
    """More of one kind changes none of the others, and none comes from the stream show noise tests with."""
    both = training_images({"letters": 12, "noise": 3}, seed=0)
    assert (both[:12] == training_images({"letters": 12}, seed=0)).all()
    assert (both[12:] == training_images({"noise": 3, "scribbles": 40}, seed=0)[:3]).all()
    tested = np.round(uniform_noise(np.random.default_rng(0), 3) * 255)
    assert not (both[12:] == tested).all(axis=1).any()


def test_the_digit_like_list_holds_what_a_person_reads_as_a_digit():
    for digit, lookalikes in {"0": "OoQDΘθοОоФ", "1": "lIi|!/-Ιі", "2": "Zz", "3": "Зз", "4": "Ч", "5": "Ss",
                              "6": "bGб", "7": "TТ", "8": "BВβ∞", "9": "gq"}.items():
        assert set(lookalikes) <= set(DIGIT_LIKE[digit]), digit
    assert set("0123456789") <= FORBIDDEN


def test_no_digit_like_character_is_ever_drawn():
    assert not FORBIDDEN & set(LETTERS + SYMBOLS)
    assert set(negatives.STROKE_LETTERS) <= set(LETTERS) and set(negatives.STROKE_SYMBOLS) <= set(SYMBOLS)
    for letters, symbols in negatives.fonts().values():
        assert set(letters) <= set(LETTERS) and set(symbols) <= set(SYMBOLS)
    rng = np.random.default_rng(0)
    _, letters = draw("letters", 400, rng)
    _, symbols = draw("symbols", 200, rng)
    assert not FORBIDDEN & (set(letters) | set(symbols))
    assert set(letters) <= set(LETTERS) and set(symbols) <= set(SYMBOLS)
    # ...and what is drawn is of every alphabet, not a few safe letters
    for alphabet in negatives.ALPHABETS.values():
        assert len(set(letters) & set(alphabet)) >= 10


def test_the_images_are_in_mnists_form():
    """Through images.to_mnist, as a drawing on the page: ink fitted to 20x20 and centred by its mass."""
    images, names = draw("doodles", 40, np.random.default_rng(3))
    assert len(set(names)) > 10
    for image in images.reshape(-1, 28, 28):
        rows, cols = np.flatnonzero(image.max(axis=1) > 0.35), np.flatnonzero(image.max(axis=0) > 0.35)
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 in (19, 20, 21)
        assert np.allclose(ndimage.center_of_mass(image), 14, atol=1)
        assert image.max() == pytest.approx(1)


def test_images_for_a_network_of_another_size_are_that_size():
    images = training_images({"letters": 3, "noise": 2}, seed=0, side=20)
    assert images.shape == (5, 400)


# ---- how many of each kind -------------------------------------------------------------------------

@pytest.mark.parametrize("spec, counts", [
    ("letters=400,noise=50", {"letters": 400, "noise": 50}),
    ("noise=50, letters=400", {"letters": 400, "noise": 50}),  # KINDS' order, whatever the given one
    ({"doodles": 7, "symbols": 0}, {"doodles": 7}),
    (None, {}), ("none", {}), (0, {}), ("0", {}),
    (NOT_A_DIGIT, NOT_A_DIGIT),
])
def test_kinds_and_counts_are_read_from_text_a_dict_or_a_number(spec, counts):
    assert mix(spec, NOT_A_DIGIT) == counts


@pytest.mark.parametrize("n", [1, 999, 8000, 12345])
def test_a_number_alone_is_shared_out_as_the_default_mix_is(n):
    counts = mix(n, NOT_A_DIGIT)
    assert sum(counts.values()) == n and set(counts) <= set(NOT_A_DIGIT)
    assert mix(str(n), NOT_A_DIGIT) == counts
    if n >= 1000:
        total = sum(NOT_A_DIGIT.values())
        for kind, count in counts.items():
            assert abs(count - n * NOT_A_DIGIT[kind] / total) <= len(KINDS)


@pytest.mark.parametrize("spec, problem", [
    ("letters=lots", "letters=lots: the count must be a whole number"),
    ("shapes=300", "no kind of 'not a digit' image 'shapes': choose from letters, symbols, doodles"),
    ("letters", "letters=: the count must be a whole number"),
    ("letters=-3", "0 to 1,000,000"),
    (-5, "0 to 1,000,000"),
    ({"letters": 2.5}, "whole number"),
    (True, "whole number"),
    (2.0, "whole number"),
    ("letters=999999,noise=2", "0 to 1,000,000"),
])
def test_bad_kinds_and_counts_are_one_line_errors(spec, problem):
    with pytest.raises(DigitnetError, match=problem) as error:
        mix(spec, NOT_A_DIGIT)
    assert "\n" not in str(error.value)


# ---- what they teach ---------------------------------------------------------------------------------

HELD_OUT = "DejaVuSerif"


def test_a_short_run_turns_away_letters_in_a_font_it_never_saw(mnist):
    """Trained on letters of every font but DejaVu Serif (and drawn ones), it turns away most letters
    typeset in DejaVu Serif, and few digits."""
    rng = np.random.default_rng(0)
    negatives_seen, _ = draw("letters", 1500, rng, leave_out={HELD_OUT})
    others = np.concatenate([draw(kind, 300, rng)[0] for kind in ("symbols", "doodles", "noise")])
    X = np.concatenate([mnist.train_images[:15000].reshape(-1, 784) / 255, negatives_seen, others])
    y = np.concatenate([mnist.train_labels[:15000], np.full(len(X) - 15000, 10)])
    net = Network((784, 64, 11), "relu", "cross-entropy", seed=0, not_a_digit=True)
    Trainer(net, X, y, optimizer="adam", lr=0.005, batch_size=64, epochs=8, seed=0).run()

    held_out = [f for f in negatives.fonts() if negatives.family(f) == HELD_OUT]
    assert held_out and all(negatives.family(f) != HELD_OUT for f in negatives.fonts() if f not in held_out)
    unseen = []
    for k in range(200):
        font_file = held_out[k % len(held_out)]
        letters = negatives.fonts()[font_file][0]
        unseen.append(negatives.mnist_form(negatives.draw_character, letters[rng.integers(len(letters))],
                                           font_file, rng))
    turned_away = np.mean(net.predict(np.array(unseen).reshape(-1, 784)) == 10)
    digits_turned_away = np.mean(net.predict(mnist.test_images[:2000]) == 10)
    assert turned_away > 0.8, turned_away
    assert digits_turned_away < 0.05, digits_turned_away


def test_the_check_set_of_things_no_digit_is_what_the_readme_says():
    """tests/data's 2,500 images of no digit (bench/not_digits.py), in six parts, in MNIST's form."""
    from pathlib import Path

    from digitnet import data

    folder = Path(__file__).parent / "data"
    images, kinds = (data.read_idx(folder / f"not-digits-{part}.idx.gz") for part in ("images", "kinds"))
    assert images.shape == (2500, 28, 28) and images.dtype == np.uint8 and kinds.shape == (2500,)
    assert list(np.bincount(kinds)) == [450, 400, 450, 400, 300, 500]
    centres = np.array([ndimage.center_of_mass(image) for image in images.astype(float)])
    assert np.abs(centres - 14).max() <= 1
    assert (images.reshape(len(images), -1).max(axis=1) == 255).all()  # none blank
