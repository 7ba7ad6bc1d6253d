"""digitnet export: a saved model as ONNX or plain JSON, for programs outside Python."""

from pathlib import Path

from ..errors import DigitnetError
from ..export import FORMATS, INPUT, LABEL, PROBABILITIES, export, format_of
from . import load_model


def add_parser(sub):
    p = sub.add_parser(
        "export", help="write a model as ONNX or plain JSON, for use outside Python",
        description="Write MODEL as an ONNX graph (OUT.onnx: a Gemm and an activation per layer, opset 13, checked "
                    "by onnx.checker; needs pip install 'digitnet[onnx]') or as plain JSON of its layers, "
                    f"weights and biases (OUT.json). Both take rows of float32 values in [0, 1] (for MNIST 784 "
                    f"grey pixels, pixel / 255, ink white on black): the ONNX input '{INPUT}' is [N, 784], its "
                    f"outputs '{PROBABILITIES}' [N, 10] (predict_proba's) and '{LABEL}' [N] (the answer). A "
                    "network that deskews its input (digitnet train's default) deskews inside the ONNX graph; "
                    "the JSON says how, for a forward pass of your own.")
    p.add_argument("model", help="a model file saved by digitnet train")
    p.add_argument("out", help="the file to write, .onnx or .json")
    p.add_argument("--format", choices=FORMATS, help="the format to write (default: from OUT's extension)")
    p.set_defaults(run=run)


def run(args):
    format = format_of(args.out, args.format)  # before loading: a bad name fails fast
    if Path(args.out).exists() and Path(args.model).exists() and Path(args.out).samefile(args.model):
        raise DigitnetError(f"{args.out} is the model itself: write the export to another file")
    net = load_model(args.model)
    export(net, args.out, format)
    what = (f"ONNX: input '{INPUT}' float32 [N, {net.sizes[0]}] in [0, 1], outputs '{PROBABILITIES}' "
            f"[N, {net.sizes[-1]}] and '{LABEL}' [N]" if format == "onnx" else "JSON: layers, weights and biases")
    print(f"wrote {args.out} ({what})")
