"""digitnet serve: the interactive web page, on this computer only by default."""

import argparse
import socket
from pathlib import Path

from ..errors import DigitnetError
from . import load_data, load_model, positive_int


def add_parser(sub):
    p = sub.add_parser("serve", help="the interactive web page: draw, look inside, tweak, retrain",
                       description="Serve the web page. With no MODEL: ./model.npz if it exists, else a "
                                   "network trained first with the default recipe.",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("model", nargs="?", metavar="MODEL", help="a model file saved by digitnet train")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 opens it to the network)")
    p.add_argument("--port", type=positive_int, default=8000)
    p.add_argument("--save-to", default="model-web.npz", help="where the page's Save button writes the model")
    p.add_argument("--data", metavar="DIR", help="folder with the four MNIST IDX files (else $DIGITNET_DATA, "
                                                 "else the cache, downloading MNIST once)")
    p.set_defaults(run=run)


def run(args):
    import uvicorn

    from ..web import create_app

    if args.port > 65535:
        raise DigitnetError(f"--port must be 1 to 65535, got {args.port}")
    check_can_listen(args.host, args.port)  # before any slow loading or training
    path = args.model or ("model.npz" if Path("model.npz").is_file() else None)
    net = load_model(path) if path else None  # a bad model file fails before MNIST is read
    dataset = try_data(args, needed=net is None)
    if net is None:
        net = train_default(args)
    print(f"serving {net} from {path or 'a freshly trained model'}")
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"open http://{host}:{args.port}/ in a browser (Ctrl+C stops)", flush=True)
    app = create_app(net, dataset, save_path=args.save_to)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


def check_can_listen(host, port):
    """A one-line error now if the address cannot be had, rather than a server
    log message after the model is loaded (or trained)."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            probe.bind((host, port))
    except socket.gaierror:
        raise DigitnetError(f"--host {host}: no such address on this computer") from None
    except OSError as e:
        raise DigitnetError(f"cannot listen on {host} port {port} ({e.strerror or e}): "
                            "is another server using it? Choose another --port") from None


def try_data(args, needed):
    """MNIST if it can be had: without it the page still draws and predicts, but
    shows no test accuracy or test images and cannot train."""
    try:
        return load_data(args)
    except DigitnetError as e:
        if needed:
            raise
        print(f"note: {e}; the page will work without test images and training")
        return None


def train_default(args):
    """No model yet: train one exactly as `digitnet train` does with its defaults,
    which saves model.npz, so the next serve starts at once."""
    from . import train

    print("no model.npz here: training the default network first "
          "(or run `digitnet train` once and serve its model.npz)", flush=True)
    parser = argparse.ArgumentParser(prog="digitnet")
    train.add_parser(parser.add_subparsers())
    train.run(parser.parse_args(["train", "--out", "model.npz"] + (["--data", args.data] if args.data else [])))
    return load_model("model.npz")
