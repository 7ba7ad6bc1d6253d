"""digitnet info: what a saved model is and how it was trained."""

from . import load_model


def add_parser(sub):
    p = sub.add_parser("info", help="show a saved model's architecture and training record",
                       description="Print a model's layers, parameter count and training record.")
    p.add_argument("model", help="a model file saved by digitnet train")
    p.set_defaults(run=run)


def run(args):
    net = load_model(args.model)
    h = net.header
    print(f"layers      {' -> '.join(map(str, net.sizes))}")
    if net.classes:
        print(f"classes     {', '.join(net.classes)}" + (f", and {net.digits}: not a digit" if net.not_a_digit else ""))
    elif net.not_a_digit:
        print(f"outputs     the digits 0 to {net.digits - 1}, and {net.digits}: not a digit")
    if net.negatives:
        print("negatives   " + ", ".join(f"{count:,} {kind}" for kind, count in net.negatives.items())
              + ", learnt as not a digit")
    print(f"activation  {net.activation.name} (hidden), {net.cost.output.name} (output)")
    print(f"cost        {net.cost.name}")
    print(f"input       {'deskewed: each image sheared upright and centred on its ink' if net.deskew else 'as given'}")
    print(f"parameters  {net.n_parameters:,} weights and biases")
    print(f"version     digitnet {h.get('version', '?')}")
    if h.get("recipe"):
        print(f"recipe      {h['recipe']}")
    if h.get("options"):
        print("options     " + ", ".join(f"{k}={v}" for k, v in h["options"].items()))
    history = net.history
    if history:
        print(f"training    {len(history)} epochs, {sum(history.column('seconds')):.1f} s"
              + (f", kept epoch {history.best_epoch}" if history.best_epoch else ""))
        if h.get("stopped_after") is not None:
            epochs = (h.get("options") or {}).get("epochs", "?")
            print(f"stopped     by Ctrl-C after epoch {h['stopped_after']} of {epochs}")
        last = history[-1]
        print(f"last epoch  cost {last['cost']:.4f}, train accuracy {last['train_accuracy']:.2%}"
              + (f", validation {last['validation_accuracy']:.2%}" if "validation_accuracy" in last else ""))
    if h.get("test_accuracy") is not None:
        print(f"test        {h['test_accuracy']:.2%} accuracy on the test images")
    if net.path is not None:
        print(f"path        epochs {net.path.epochs[0]} to {net.path.epochs[-1]} recorded, {net.path.share:.0%} of it "
              f"in the plane that digitnet show landscape draws")
