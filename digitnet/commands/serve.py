"""digitnet serve: the interactive web page, on this computer only by default, or
for a whole class with ``--host 0.0.0.0``."""

import ipaddress
import os
import socket
import threading
import time
import webbrowser
from pathlib import Path

from ..errors import DigitnetError
from ..recipes import RECIPES
from ..web.classroom import IDLE_MINUTES, MAX_SESSIONS
from . import load_data, load_model, positive_int, train


def add_parser(sub):
    p = sub.add_parser("serve", help="the interactive web page: draw, look inside, tweak, retrain",
                       description="Serve the web page. With no MODEL: ./model.npz if it exists, else a "
                                   "network trained first with the default recipe.")
    p.add_argument("model", nargs="?", metavar="MODEL", help="a model file saved by digitnet train")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 opens it to the network)")
    p.add_argument("--port", type=positive_int, default=8000, help="port to listen on")
    p.add_argument("--save-to", default="model-web.npz",
                   help="where Save writes the model for a visitor at this computer (others download it)")
    p.add_argument("--max-sessions", type=positive_int, default=MAX_SESSIONS,
                   help="visitors (browser sessions) kept at once; when all places are taken, a newcomer can draw "
                        "and look but not edit until a session ends (none is dropped to make room)")
    p.add_argument("--idle-minutes", type=positive_int, default=IDLE_MINUTES,
                   help="a visitor's session ends this long after their last request, freeing its place")
    p.add_argument("--max-training", type=positive_int, default=os.cpu_count() or 1,
                   help="training runs at once (the number of cores); others queue")
    p.add_argument("--data", metavar="DIR", help="folder with the four MNIST IDX files (else $DIGITNET_DATA, "
                                                 "else the cache, downloading MNIST once)")
    p.add_argument("--open", action="store_true", help="open the page in the web browser once the server is "
                                                       "listening (the address is printed either way)")
    p.set_defaults(run=run)


def run(args):
    import uvicorn

    from ..web import create_app, give_memory_back

    give_memory_back()  # before anything large is allocated: a class's memory is the arrays it keeps
    if args.port > 65535:
        raise DigitnetError(f"--port must be 1 to 65535, got {args.port}")
    check_can_listen(args.host, args.port)  # before any slow loading or training
    path = args.model or (train.DEFAULT_OUT if Path(train.DEFAULT_OUT).is_file() else None)
    net = load_model(path) if path else None  # a bad model file fails before MNIST is read
    dataset = try_data(args, needed=net is None)
    if net is None:
        net = train_default(dataset, args.data)
    print(f"serving {net} from {path or 'a freshly trained model'}")
    say_where(args.host, args.port)
    if args.open:
        open_when_listening(args.host, args.port)
    app = create_app(net, dataset, save_path=args.save_to, max_sessions=args.max_sessions,
                     idle_minutes=args.idle_minutes, max_training=args.max_training)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


def say_where(host, port):
    """The address to open; for a server open to the network, the one the class should
    open (this computer's address on the network) and a warning."""
    if is_loopback(host):
        print(f"open {url(host, port)} in a browser (Ctrl+C stops)", flush=True)
        return
    address = lan_address() if ipaddress.ip_address(resolve(host)).is_unspecified else host
    print(f"the class opens {url(address, port)} (on this computer: {url('127.0.0.1', port)}; Ctrl+C stops)")
    print("warning: the page is open to the network: anyone who can reach this computer can use it, "
          "with no password", flush=True)


def open_when_listening(host, port):
    """Open the page in the browser as soon as the server takes connections (as jupyter does), in a
    thread of its own: uvicorn.run, which starts the server, does not return while it serves."""
    here = "127.0.0.1" if ipaddress.ip_address(resolve(host)).is_unspecified else host
    page = url(here, port)

    def when_listening():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection((here, port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        if not webbrowser.open(page):
            print(f"no web browser found here: open {page} in one", flush=True)

    threading.Thread(target=when_listening, name="open-browser", daemon=True).start()


def url(host, port):
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def resolve(host):
    return socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0][4][0]


def is_loopback(host):
    return ipaddress.ip_address(resolve(host)).is_loopback


def lan_address():
    """This computer's address on its network: the one its default route leaves from. A UDP
    socket's connect only looks the route up and sends nothing (192.0.2.1 is an address
    reserved for documentation). Without a network: the host name's address."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            return probe.getsockname()[0]
    except OSError:
        return resolve(socket.gethostname())


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


def train_default(dataset, folder):
    """No model yet: train one exactly as `digitnet train` does with its defaults, on the
    data already read from ``folder``, which saves model.npz, so the next serve starts at once."""
    print("no model.npz here: training the default network first "
          "(or run `digitnet train` once and serve its model.npz)", flush=True)
    train.check_can_write(train.DEFAULT_OUT)
    train.train_new(dataset, dict(RECIPES["default"]), train.DEFAULT_OUT, folder=folder)
    return load_model(train.DEFAULT_OUT)
