"""digitnet predict: the digit in each image file, with the network's confidence."""

import json
from pathlib import Path

import numpy as np

from ..errors import DigitnetError
from ..network import NOT_A_DIGIT
from . import fail, load_model

SHOW_SCALE = 10  # the enlarged copy written by --show: 280x280, each pixel a 10x10 square


def add_parser(sub):
    p = sub.add_parser("predict", help="read the digit in image files (photos, scans, drawings)",
                       description="Print the digit in each image (or the class, for a model that names its "
                                   "classes, such as one trained on Fashion-MNIST; or 'not a digit', from a "
                                   "network trained with --not-a-digit), the network's confidence and its top 3. "
                                   "Reads PNG, JPEG, BMP, GIF, TIFF and WebP of any size up to 50 megapixels; "
                                   "dark ink on light paper or light ink on dark is detected.")
    p.add_argument("model", help="a model file saved by digitnet train")
    p.add_argument("files", nargs="+", metavar="FILE", help="image files, each holding one digit")
    polarity = p.add_mutually_exclusive_group()
    polarity.add_argument("--invert", dest="invert", action="store_true", default=None,
                          help="the images are dark ink on light paper (else detected)")
    polarity.add_argument("--no-invert", dest="invert", action="store_false",
                          help="the images are light ink on dark, as MNIST (else detected)")
    p.add_argument("--json", action="store_true", help="print one JSON object per file, one per line")
    p.add_argument("--show", metavar="DIR",
                   help="write the 28x28 image the network saw for each file to DIR (NAME.png, and "
                        f"NAME-x{SHOW_SCALE}.png enlarged)")
    p.set_defaults(run=run)


def run(args):
    net = load_model(args.model)
    if net.sizes[0] != 28 * 28:
        raise DigitnetError(f"{args.model}: the network takes {net.sizes[0]} inputs, not 28x28 images")
    show = prepare_show_dir(args.show) if args.show else None
    failed = 0
    for name in args.files:
        try:
            result = predict_file(net, name, args.invert, show)
        except DigitnetError as e:
            failed += 1
            fail(str(e))
            continue
        print(json.dumps(result) if args.json else describe(result), flush=True)
    return 2 if failed else 0


def predict_file(net, name, invert, show):
    from ..images import to_mnist

    image = to_mnist(name, invert=invert)
    p = net.predict_proba(image.reshape(1, -1))[0]
    top = np.argsort(p)[::-1][:3]
    result = {"file": name, **answer(net, top[0]), "confidence": round(float(p[top[0]]), 4),
              "top3": [{**answer(net, d), "probability": round(float(p[d]), 4)} for d in top]}
    if show is not None:  # what the input layer took: deskewed, for a network that deskews
        result["seen"] = str(write_seen(net.inputs(image.reshape(1, -1)).reshape(image.shape), name, show))
    return result


def answer(net, output):
    """Output neuron ``output`` as an answer: {"digit": d} (and its "class", the name, for a network
    whose classes are named: d is then the class's label), or for the "not a digit" output of a
    network that has one, {"digit": None, "not_a_digit": True}."""
    if output >= net.digits:
        return {"digit": None, "not_a_digit": True}
    return {"digit": int(output), **({"class": net.classes[output]} if net.classes else {})}


def said(answer):
    return NOT_A_DIGIT if answer.get("not_a_digit") else answer.get("class", answer["digit"])


def describe(result):
    top3 = ", ".join(f"{said(t)} {t['probability']:.1%}" for t in result["top3"])
    seen = f"; it saw {result['seen']}" if "seen" in result else ""
    return f"{result['file']}: {said(result)}  (confidence {result['confidence']:.1%}; top 3: {top3}){seen}"


def prepare_show_dir(path):
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DigitnetError(f"{path}: cannot create the folder ({e.strerror or e})") from None
    return {"dir": path, "used": set()}


def write_seen(image, name, show):
    """``image`` as NAME.png (28x28, exactly what the network saw: ink white on black)
    and NAME-xN.png (the same, enlarged with square pixels)."""
    from PIL import Image

    from ..files import atomic_write

    stem = Path(name).stem or "image"
    n = 1
    while (stem if n == 1 else f"{stem}-{n}") in show["used"]:  # a/1.png and b/1.png both written
        n += 1
    stem = stem if n == 1 else f"{stem}-{n}"
    show["used"].add(stem)
    im = Image.fromarray(np.round(image * 255).astype(np.uint8))
    big = im.resize((28 * SHOW_SCALE, 28 * SHOW_SCALE), Image.Resampling.NEAREST)
    path = show["dir"] / f"{stem}.png"
    atomic_write(path, lambda f: im.save(f, "PNG"))
    atomic_write(show["dir"] / f"{stem}-x{SHOW_SCALE}.png", lambda f: big.save(f, "PNG"))
    return path
