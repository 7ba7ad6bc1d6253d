"""Drawing the pictures of ``figures.py`` with matplotlib.

Every function returns a ``matplotlib.figure.Figure`` built without pyplot, so
nothing ever opens a window and the web server can draw from several threads;
``save_png`` writes one to a file. Weights are blue where positive and red where
negative, as in the video, on a colour scale symmetric around zero.
"""

import io
import math

import numpy as np
from matplotlib import colormaps
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.colors import LogNorm, Normalize, to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Circle
from matplotlib.ticker import FuncFormatter
from PIL import Image

from . import figures
from .files import atomic_write
from .network import NOT_A_DIGIT

WEIGHT_CMAP = colormaps["RdBu"]  # red (negative) - white (0) - blue (positive)
POSITIVE, NEGATIVE = "#3b8bff", "#ff4d4d"  # connection colours on the dark diagram


def save_png(fig, path, dpi=100, palette=True):
    """Write ``fig`` to ``path`` as PNG, atomically (never a half-written file)."""
    data = png_bytes(fig, dpi, palette)
    atomic_write(path, lambda f: f.write(data))


def png_bytes(fig, dpi=100, palette=True):
    """The figure as PNG bytes. With ``palette``, in 256 colours: it looks the same
    and the file is several times smaller (the faint overlapping lines of the network
    diagram otherwise make hundreds of kilobytes)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    if not palette:
        return buffer.getvalue()
    with Image.open(buffer) as image:
        small = image.convert("RGB").quantize(256)
    buffer = io.BytesIO()
    small.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def symmetric_norm(values):
    """A colour scale centred on zero, reaching the largest |value|: white means 0."""
    vmax = float(np.max(np.abs(values))) or 1.0
    return Normalize(-vmax, vmax)


def weight_colours(pattern, norm=None):
    """The RGBA colours a weight tile is drawn in: blue for positive, red for negative."""
    return WEIGHT_CMAP((norm or symmetric_norm(pattern))(pattern))


def grid(n):
    """Rows and columns for n tiles, as square as possible."""
    cols = math.ceil(math.sqrt(n))
    return math.ceil(n / cols), cols


def tile_axes(fig, n, rect=(0.02, 0.04, 0.86, 0.84), cols=None):
    """A grid of n image axes without ticks inside ``rect`` (left, bottom, width, height) of fig."""
    rows, cols = grid(n) if cols is None else (math.ceil(n / cols), cols)
    left, bottom, width, height = rect
    axes = []
    for k in range(n):
        r, c = divmod(k, cols)
        ax = fig.add_axes((left + c * width / cols, bottom + (rows - 1 - r) * height / rows,
                           width / cols * 0.9, height / rows * 0.8))
        ax.set_xticks([])
        ax.set_yticks([])
        axes.append(ax)
    return axes


def weight_tiles(fig, patterns, titles, rect, label):
    """Draw patterns as tiles on one symmetric blue/red scale, with a colour bar."""
    norm = symmetric_norm(patterns)
    for ax, pattern, title in zip(tile_axes(fig, len(patterns), rect), patterns, titles, strict=True):
        image = ax.imshow(pattern, cmap=WEIGHT_CMAP, norm=norm, interpolation="nearest")
        ax.set_title(title, fontsize=8)
    bar = fig.add_axes((rect[0] + rect[2] + 0.02, rect[1] + 0.1 * rect[3], 0.02, 0.8 * rect[3]))
    fig.colorbar(image, cax=bar).set_label(label, fontsize=9)
    return norm


# ---- 1. what each neuron looks for ------------------------------------------------------------


def weights_figure(net, layer=0):
    patterns = figures.neuron_patterns(net, layer)
    biases = net.biases[layer]
    n = len(patterns)
    rows, cols = grid(n)
    fig = Figure(figsize=(1.6 * cols + 1.2, 1.7 * rows + 0.8))
    what = "incoming weights" if layer == 0 else \
        "combined pattern " + " ".join(f"W{l}" for l in range(layer, -1, -1))
    name = "the output layer" if layer == len(net.weights) - 1 else f"hidden layer {layer + 1}"
    fig.suptitle(f"What each neuron of {name} looks for: its {what}\n"
                 "blue = ink here raises the neuron's input, red = lowers it", fontsize=11)
    weight_tiles(fig, patterns, [f"neuron {j}  b = {b:+.2f}" for j, b in enumerate(biases)],
                 (0.02, 0.02, 0.84, 0.96 - 0.75 / fig.get_figheight()),
                 "weight" if layer == 0 else "combined weight")
    return fig


# ---- 2. one forward pass, as in the video ----------------------------------------------------------


def activations_figure(net, x, title=None, connections=(160, 120, 100)):
    """The video's diagram: the input image, every layer's neurons as circles whose
    brightness is the activation, and the strongest connections coloured by sign."""
    data = figures.diagram(net, x, connections)
    activations = data["activations"]
    side = figures.image_side(net)
    extra = 0.13 * max(0, max(map(len, labels(net))) - 2)  # room for the outputs' names, when longer than "10"
    fig = Figure(figsize=(10 + extra / 1.15, 5.2), facecolor="#111111")
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.87))
    ax.set_facecolor("#111111")
    ax.set_axis_off()
    ax.set_xlim(-0.2, 4.6 + 2.2 * (len(activations) - 1) + extra)
    ax.set_ylim(-2.45, 2.1)
    ax.set_aspect("equal")

    # The input layer is drawn as the image itself; its "neurons" are the pixels.
    ax.imshow(activations[0].reshape(side, side), cmap="gray", vmin=0, vmax=1,
              extent=(0, 3.6, -1.8, 1.8), interpolation="nearest", zorder=3)
    pixel = 3.6 / side
    rows, cols = np.divmod(np.arange(net.sizes[0]), side)
    positions = [np.column_stack([(cols + 0.5) * pixel, 1.8 - (rows + 0.5) * pixel])]
    for l, n in enumerate(net.sizes[1:], start=1):
        spacing = min(0.36, 3.8 / max(n - 1, 1))
        ys = (np.arange(n)[::-1] - (n - 1) / 2) * spacing
        positions.append(np.column_stack([np.full(n, 4.6 + 2.2 * (l - 1) + 1.2), ys]))
    radius = min(0.14, 0.42 * min(3.8 / max(n - 1, 1) for n in net.sizes[1:]))

    for l, (to, frm, w) in enumerate(data["edges"]):
        strength = np.abs(w) / (np.abs(w).max() or 1)
        rgba = np.where((w > 0)[:, None], to_rgba(POSITIVE), to_rgba(NEGATIVE))
        rgba[:, 3] = 0.08 + 0.75 * strength  # opacity: how strong the weight is
        segments = np.stack([positions[l][frm], positions[l + 1][to]], axis=1)
        ax.add_collection(LineCollection(segments, colors=rgba, linewidths=0.7, zorder=1))

    output = activations[-1]
    best = int(np.argmax(output))
    for l, a in enumerate(activations[1:], start=1):
        brightness = np.clip(a / max(float(a.max()), 1.0), 0, 1)  # ReLU can exceed 1: scale to the layer
        circles = [Circle(p, radius) for p in positions[l]]
        edges = ["#ffd000" if l == len(activations) - 1 and j == best else "#888888" for j in range(len(a))]
        ax.add_collection(PatchCollection(circles, facecolors=[(b, b, b) for b in brightness],
                                          edgecolors=edges, linewidths=1.2, zorder=4))
    for j, (p, a, name) in enumerate(zip(positions[-1], output, labels(net), strict=True)):
        highlight = j == best
        ax.text(p[0] + 0.3, p[1], f"{name}  {a:.2f}", va="center", fontsize=11 if highlight else 9,
                color="#ffd000" if highlight else "#cccccc", fontweight="bold" if highlight else "normal")

    names = ["input (28×28 pixels)" if side == 28 else f"input ({side}×{side})"]
    names += [f"hidden layer {l} ({n})" for l, n in enumerate(net.sizes[1:-1], start=1)]
    names += [f"output ({net.sizes[-1]})"]
    for p, name in zip([np.array([[1.8, 0]])] + positions[1:], names, strict=True):
        ax.text(p[0][0], -2.3, name, ha="center", color="#cccccc", fontsize=9)
    proba = output / output.sum()
    fig.suptitle((title + ": " if title else "") + f"the network says {labels(net)[best]} ({proba[best]:.0%} sure)\n"
                 "circle brightness = activation; lines = the strongest weights (blue +, red −), "
                 "opacity = |weight|", color="white", fontsize=11)
    return fig


# ---- 3. learning curves ------------------------------------------------------------------------------------


def training_figure(history, best_epoch=None, test_accuracy=None):
    """Cost and accuracies per epoch; ``test_accuracy`` (of the kept epoch, from the
    model file) is marked as a star when the history has no test column."""
    columns = figures.history_columns(history)
    fig = Figure(figsize=(10, 4))
    cost_ax, accuracy_ax = fig.subplots(1, 2)
    epoch = columns.get("epoch", np.array([]))
    if "cost" in columns:
        cost_ax.plot(epoch, columns["cost"], "o-", color="#444444", markersize=3)
    cost_ax.set(title="Cost on the training images", xlabel="epoch", ylabel="average cost")
    for key, colour in (("train_accuracy", "#1f77b4"), ("validation_accuracy", "#2ca02c"),
                        ("test_accuracy", "#d62728")):
        if key in columns:
            accuracy_ax.plot(epoch, 100 * columns[key], "o-", color=colour, markersize=3,
                             label=key.replace("_accuracy", ""))
    accuracy_ax.set(title="Share of images classified correctly", xlabel="epoch", ylabel="accuracy (%)")
    if best_epoch:
        for ax in (cost_ax, accuracy_ax):
            ax.axvline(best_epoch, color="#999999", linestyle="--", linewidth=1)
        accuracy_ax.plot([], [], "--", color="#999999", label=f"kept: epoch {best_epoch}")
        if test_accuracy is not None and "test_accuracy" not in columns:
            accuracy_ax.plot([best_epoch], [100 * test_accuracy], "*", color="#d62728", markersize=12,
                             label=f"test: {test_accuracy:.2%}")
    if accuracy_ax.lines:
        accuracy_ax.legend(loc="lower right")
    for ax in (cost_ax, accuracy_ax):
        ax.grid(alpha=0.3)
    fig.suptitle("Training, epoch by epoch")
    fig.tight_layout()
    return fig


# ---- 4. how it fails on real digits ------------------------------------------------------------------------


def confusion_figure(C, names=None):
    """The confusion matrix; colour shows only the mistakes (off the diagonal), so
    the rare confusions are visible next to the thousands of right answers. ``names``: what
    each row and column stands for (default: the digits)."""
    n = len(C)
    mistakes = C.astype(float)
    np.fill_diagonal(mistakes, np.nan)
    fig = Figure(figsize=(7.2, 6))
    ax = fig.add_subplot()
    cmap = colormaps["Reds"].with_extremes(bad="#d9ead3")
    image = ax.imshow(mistakes, cmap=cmap, vmin=0, vmax=max(np.nanmax(mistakes), 1))
    for i in range(n):
        for j in range(n):
            dark = i != j and mistakes[i, j] > 0.6 * np.nanmax(mistakes)
            ax.text(j, i, str(C[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if dark else "black", fontweight="bold" if i == j else "normal")
    ax.set(xticks=range(n), yticks=range(n), xlabel="the network's answer", ylabel="true digit")
    if names is not None:
        words = max(map(len, names)) > 4  # class names rather than digits (and "none")
        ax.set_xticklabels(names, rotation=45 if words else 0, ha="right" if words else "center")
        ax.set_yticklabels(names)
        ax.set_ylabel("true class" if words else "true digit")
    fig.colorbar(image, ax=ax).set_label("images (off the diagonal: mistakes)")
    ax.set_title(f"Confusion matrix: {np.trace(C):,} of {C.sum():,} test images right "
                 f"({np.trace(C) / C.sum():.2%})", fontsize=11)
    return fig


def mistakes_figure(images, found, n=40, names=None):
    """The misclassified images with true digit (or class: ``names``), answer and confidence."""
    n = min(n, len(found["indices"]))
    side = math.isqrt(np.size(images[0]))
    rows, cols = (math.ceil(n / 8), 8) if n else (1, 1)
    title = 1.45 if names is None else 1.65  # a class's name and the answer's take two lines
    fig = Figure(figsize=(1.25 * cols, title * rows + 0.7))
    fig.suptitle(f"Misclassified test images, most confident first ({len(found['indices'])} in all)\n"
                 f"title: true {'digit' if names is None else 'class'} → the network's answer (its confidence)",
                 fontsize=10)
    top = 1 - 0.7 / fig.get_figheight()
    for k, ax in enumerate(tile_axes(fig, n, (0.01, 0.01, 0.98, top - 0.01), cols) if n else []):
        i, true, said = found["indices"][k], found["true"][k], found["predicted"][k]
        ax.imshow(np.reshape(images[i], (side, side)), cmap="gray_r", interpolation="nearest")
        confidence = f"({found['confidences'][k]:.0%})"
        ax.set_title(f"{true} → {said} {confidence}" if names is None else
                     f"{names[true]} →\n{names[said]} {confidence}", fontsize=8, color="#b00000")
    return fig


# ---- 5. noise ----------------------------------------------------------------------------------------------


SHORT_NAMES = {NOT_A_DIGIT: "none"}  # an output's name as a tick under its bar


def labels(net):
    """What each output stands for, as the figures write it: the digit, or the class's name for a
    network that names its classes; "none" for "not a digit"."""
    return [SHORT_NAMES.get(name, name) for name in net.output_names]


def montage(images, rows, cols, side=28, pad=1):
    """Images side by side in a rows×cols grid with a gap of ``pad`` pixels."""
    canvas = np.ones((rows * (side + pad) - pad, cols * (side + pad) - pad))
    for k, image in enumerate(images[:rows * cols]):
        r, c = divmod(k, cols)
        canvas[r * (side + pad):r * (side + pad) + side, c * (side + pad):c * (side + pad) + side] = \
            np.reshape(image, (side, side))
    return canvas


def noise_figure(results, test_accuracy=None):
    """For each noise experiment: examples, the digits it is called (or "not a digit", for a network
    that has that output), and how sure the network is; with the network's ``test_accuracy``
    on MNIST, if known, in the title: what saying "not a digit" costs on real digits."""
    fig = Figure(figsize=(12, 3.3 * len(results) + 0.6))
    axes = fig.subplots(len(results), 3, squeeze=False, gridspec_kw={"width_ratios": (1, 1.4, 1.4)})
    for (examples_ax, digits_ax, confidence_ax), r in zip(axes, results, strict=True):
        n, side = len(r["predictions"]), math.isqrt(r["images"].shape[1])
        examples_ax.imshow(montage(r["images"], 3, 3, side), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        examples_ax.set_axis_off()
        examples_ax.set_title(f"{r['kind']} noise (examples)", fontsize=10)
        names = [SHORT_NAMES.get(name, name) for name in r["outputs"]]
        counts = np.bincount(r["predictions"], minlength=len(names))
        digits_ax.bar(range(len(counts)), 100 * counts / n, color="#888888")
        rejected = "" if r["not_a_digit_share"] is None else f"\n{r['not_a_digit_share']:.1%} called not a digit"
        digits_ax.set(xticks=range(len(counts)), xticklabels=names, xlabel="what it says",
                      ylabel="share of images (%)", title=f"What it calls {n:,} {r['kind']}-noise images{rejected}")
        # Red: images called a digit; grey (only for a network with that output): called "not a digit".
        called = r["called_digit"]
        confidence_ax.hist([r["confidences"][called], r["confidences"][~called]], bins=np.linspace(0, 1, 21),
                           weights=[np.full(called.sum(), 100 / n), np.full((~called).sum(), 100 / n)],
                           color=["#d62728", "#888888"], label=["called a digit", "called not a digit"],
                           stacked=True)
        if r["not_a_digit_share"] is not None:
            confidence_ax.legend(fontsize=8, loc="upper left")
        confidence_ax.axvline(r["threshold"], color="black", linestyle="--", linewidth=1)
        confidence_ax.set(xlim=(0, 1), xlabel="confidence (largest output, scaled to sum 1)",
                          ylabel="share of images (%)",
                          title=f"{r['confident_share']:.0%} called a digit with > {r['threshold']:.0%} confidence")
    says = "but the network has no way to say so" if results[0]["not_a_digit_share"] is None else \
        "and this network can say so"
    accuracy = "" if test_accuracy is None else f" (MNIST test accuracy {test_accuracy:.2%})"
    fig.suptitle(f"Noise is no digit, {says}{accuracy}", fontsize=12)
    fig.tight_layout()
    return fig


# ---- 6. dreams ---------------------------------------------------------------------------------------------


def dream_figure(net, dreams):
    """``dreams`` maps digit → dreamt image; each tile shows the output it reaches."""
    digits = sorted(dreams)
    cols = min(len(digits), 5)
    rows = math.ceil(len(digits) / cols)
    fig = Figure(figsize=(max(2.1 * cols, 5), 2.3 * rows + 0.8))  # wide enough for the title
    fig.suptitle("The image each output neuron likes best (gradient descent on the pixels)\n"
                 "title: the digit asked for, and the network's output for it", fontsize=10)
    top = 1 - 0.8 / fig.get_figheight()
    for ax, d in zip(tile_axes(fig, len(digits), (0.01, 0.01, 0.98, top - 0.02), cols), digits, strict=True):
        ax.imshow(dreams[d], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        output = figures.output_of(net, dreams[d])
        ax.set_title(f"{labels(net)[d]}: output {output[d]:.3f}", fontsize=9)
    return fig


# ---- 7. the gradient of one example ------------------------------------------------------------------------


def gradient_figure(net, x, label, grad_W, grad_b, k=20):
    """−∇C for one example: the nudge it asks of each first-layer weight, and the
    knobs it cares about most."""
    side = figures.image_side(net)
    fig = Figure(figsize=(14, 6.2))
    image_ax = fig.add_axes((0.01, 0.35, 0.13, 0.3))
    image_ax.imshow(figures.as_row(net, x).reshape(side, side), cmap="gray_r")
    proba = net.predict_proba(figures.as_row(net, x))[0]
    image_ax.set(xticks=[], yticks=[])
    image_ax.set_title(f"training image: a {labels(net)[label]}\nthe network says {labels(net)[proba.argmax()]} "
                       f"({proba.max():.0%})",
                       fontsize=10)
    patterns = -grad_W[0].reshape(-1, side, side)
    weight_tiles(fig, patterns, [f"neuron {j}" for j in range(len(patterns))],
                 (0.16, 0.03, 0.38, 0.82), "−∂C/∂w")
    names, values = figures.largest_components(grad_W, grad_b, k)
    bars = fig.add_axes((0.73, 0.08, 0.25, 0.77))
    order = np.arange(len(values))[::-1]
    bars.barh(order, np.abs(values), color=[POSITIVE if v < 0 else NEGATIVE for v in values])
    bars.set(yticks=order, yticklabels=names, xlabel="|∂C/∂knob|")
    bars.tick_params(axis="y", labelsize=8)
    bars.set_title(f"The {len(values)} knobs that matter most\n(blue: raise it, red: lower it)", fontsize=10)
    fig.text(0.35, 0.9, "−∂C/∂W₀: the nudge this image asks of each first-layer weight\n"
             "blue = raise the weight, red = lower it", ha="center", fontsize=10)
    fig.suptitle("The gradient of the cost for one training example", fontsize=12)
    return fig


def cost_figure(net, x, laid_out, average=None, title=None):
    """The cost of one example as the video lays it out: the image, the ten outputs beside the
    desired ones, each output's share of the cost, and their sum (``lesson.cost_of_one``)."""
    side = figures.image_side(net)
    a, y, terms = laid_out["outputs"], laid_out["desired"], laid_out["terms"]
    digits = np.arange(len(a))
    fig = Figure(figsize=(11, 4.8))
    image_ax = fig.add_axes((0.02, 0.25, 0.2, 0.5))
    image_ax.imshow(figures.as_row(net, x).reshape(side, side), cmap="gray")
    image_ax.set(xticks=[], yticks=[])
    image_ax.set_title(title or f"it should be a {labels(net)[laid_out['label']]}", fontsize=10)
    outputs_ax = fig.add_axes((0.3, 0.18, 0.3, 0.66))
    outputs_ax.barh(digits + 0.2, a, height=0.4, color=POSITIVE, label="output a")
    outputs_ax.barh(digits - 0.2, y, height=0.4, color="#999999", label="desired y")
    outputs_ax.set(yticks=digits, yticklabels=labels(net), ylim=(len(a) - 0.5, -0.5), xlim=(0, 1.05),
                   xlabel="activation")
    outputs_ax.legend(loc="lower right", fontsize=8)
    outputs_ax.set_title("what it says, and what it should say", fontsize=10)
    terms_ax = fig.add_axes((0.67, 0.18, 0.3, 0.66))
    terms_ax.barh(digits, terms, color=NEGATIVE)
    terms_ax.set(yticks=digits, yticklabels=labels(net), ylim=(len(a) - 0.5, -0.5), xlabel="share of the cost")
    formula = ("½ (a − y)² for each output" if laid_out["cost_kind"] == "quadratic"
               else f"−ln a for the right answer ({labels(net)[laid_out['label']]})")
    terms_ax.set_title(f"{formula}\nadded up: cost of this example = {laid_out['cost']:.3f}", fontsize=10)
    if average is not None:
        fig.text(0.5, 0.01, f"the cost of the network, averaged over the test images: {average:.3f}",
                 ha="center", fontsize=10)
    fig.suptitle("The cost of one example", fontsize=12)
    return fig


# ---- 8. the experiments of chapter 2 ------------------------------------------------------------------------

REAL, SHUFFLED = "#1f77b4", "#d62728"


def memorize_figure(result, images):
    """Cost and training accuracy per epoch with real and with shuffled labels, and the test accuracy of each."""
    fig = Figure(figsize=(11, 4.3))
    cost_ax, accuracy_ax = fig.subplots(1, 2)
    for name, colour in (("real", REAL), ("shuffled", SHUFFLED)):
        run = result[name]
        epochs = np.arange(1, len(run["cost"]) + 1)
        cost_ax.plot(epochs, run["cost"], color=colour, label=f"{name} labels")
        accuracy_ax.plot(epochs, 100 * np.asarray(run["train_accuracy"]), color=colour,
                         label=f"{name} labels: training images")
        accuracy_ax.axhline(100 * run["test_accuracy"], color=colour, linestyle="--", linewidth=1,
                            label=f"{name} labels: test images, {run['test_accuracy']:.1%} at the end")
    cost_ax.set(title="Cost on the training images", xlabel="epoch", ylabel="average cost", ylim=(0, None))
    accuracy_ax.set(title="Share classified right", xlabel="epoch", ylabel="accuracy (%)", ylim=(0, 101))
    for ax in (cost_ax, accuracy_ax):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="center right")
    fig.suptitle(f"Memorising {images:,} training images: with their real labels the cost falls fast and the "
                 f"network generalises;\nwith the labels shuffled it learns them one by one, slowly, and knows "
                 f"nothing about new images", fontsize=11)
    fig.tight_layout()
    return fig


def cost_contours(fig, ax, part, title, xlabel, ylabel):
    """The cost over one slice as filled contours on a log scale. An infinite cost (some
    image given probability 0) is drawn in the top colour: the scale's top or more."""
    cost = np.asarray(part["cost"], dtype=float)
    finite = cost[np.isfinite(cost)]
    cost = np.where(np.isfinite(cost), cost, finite.max())
    levels = np.geomspace(finite.min(), finite.max(), 24)
    filled = ax.contourf(part["x"], part["y"], cost, levels=levels, norm=LogNorm(), cmap="viridis", extend="max")
    ax.contour(part["x"], part["y"], cost, levels=levels[::3], colors="black", linewidths=0.4, alpha=0.5)
    ticks = [t for t in np.outer(10.0 ** np.arange(-4, 5), (1, 2, 5)).ravel() if levels[0] <= t <= levels[-1]]
    bar = fig.colorbar(filled, ax=ax, ticks=ticks, format="{x:g}")
    bar.set_label("cost C (log scale)")
    bar.minorticks_off()
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)


def landscape_figure(result, images):
    """The cost around the trained weights: on two random filter-normalised directions, and
    on the plane of the path training took, with that path (when the model has one)."""
    path = result["path"]
    fig = Figure(figsize=(12.5 if path else 6.5, 5.6))
    axes = fig.subplots(1, 2 if path else 1, squeeze=False)[0]
    cost_contours(fig, axes[0], result["random"], "Two random directions (as in Li et al. 2018)",
                  "α: each neuron's weights moved by α times their length", "β: the same, another direction")
    axes[0].plot(0, 0, "*", color="white", markersize=14, markeredgecolor="black", label="the trained network")
    axes[0].legend(loc="upper right", fontsize=8)
    if path:
        ax = axes[1]
        cost_contours(fig, ax, path, f"The plane of the path training took ({path['share']:.0%} of the path is in it)",
                      "distance along the path's first direction", "distance along its second direction")
        ax.plot(path["path_x"], path["path_y"], "o-", color="white", markersize=3, linewidth=1.2)
        ax.plot(path["path_x"][0], path["path_y"][0], "o", color="#ff7f0e", markersize=9, markeredgecolor="black",
                label="the random start")
        ax.plot(0, 0, "*", color="white", markersize=14, markeredgecolor="black", label="the trained network")
        for k in sorted({1, 5, 10} & set(range(1, len(path["epochs"]) - 1))):
            ax.annotate(f"epoch {path['epochs'][k]}", (path["path_x"][k], path["path_y"][k]), color="white",
                        fontsize=8, xytext=(0, -14), textcoords="offset points", ha="center")
        ax.legend(loc="upper right", fontsize=8)
        about = ("Right: the plane through the trained weights that passes closest to the weights of every epoch; "
                 "on two random directions the path would hardly move.")
    else:
        about = "This model was saved before training recorded its path:\ntrain it again to see the path too."
    fig.suptitle(f"The cost C on {images:,} training images, on 2-D slices through{' ' if path else chr(10)}the "
                 f"space of all {result['parameters']:,} weights and biases\n{about}", fontsize=10)
    fig.tight_layout()
    return fig


def sigmoid_vs_relu_figure(runs):
    """Cost per epoch, and the size of the gradient reaching the first layer, for sigmoid and
    ReLU networks of several depths."""
    depths = sorted({run["hidden_layers"] for run in runs})
    shades = {d: 0.45 + 0.55 * k / max(len(depths) - 1, 1) for k, d in enumerate(depths)}
    colour = {"sigmoid": colormaps["Reds"], "relu": colormaps["Blues"]}
    fig = Figure(figsize=(15, 4.6))
    cost_ax, first_ax, layers_ax = fig.subplots(1, 3)
    for run in runs:
        c = colour[run["activation"]](shades[run["hidden_layers"]])
        style = "--" if run["activation"] == "sigmoid" else "-"
        label = f"{run['activation']}, {run['hidden_layers']} hidden: test {run['test_accuracy']:.1%}"
        gradients = np.asarray(run["gradients"])
        cost_ax.plot(np.arange(1, len(run["cost"]) + 1), run["cost"], style, color=c, label=label)
        first_ax.semilogy(np.arange(len(gradients)), gradients[:, 0], style, color=c)
        back = np.arange(gradients.shape[1])[::-1]  # layers back from the output, which is 0
        layers_ax.semilogy(back, gradients[0], style + "o", color=c, markersize=4)
    cost_ax.set(title="Cost on the training images", xlabel="epoch", ylabel="average cost", ylim=(0, None))
    cost_ax.legend(fontsize=8)
    first_ax.set(title="The gradient reaching the first hidden layer", xlabel="epoch (0: the random start)",
                 ylabel="|∂C/∂b| of the first hidden layer")
    layers_ax.set(title="Before training: the gradient at each layer",
                  xlabel="layers back from the output (0)",
                  ylabel="|∂C/∂b| of the layer")
    layers_ax.invert_xaxis()
    for ax in (cost_ax, first_ax, layers_ax):
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.suptitle("Sigmoid (dashed, red) against ReLU (solid, blue) hidden layers, deeper and deeper (darker)\n"
                 "each sigmoid layer the error passes back through multiplies it by σ'(z), at most ¼: "
                 "in a deep sigmoid network the first layers hardly learn", fontsize=11)
    fig.tight_layout()
    return fig


# ---- a sweep: how big must it be? --------------------------------------------------------------------------


def sweep_figure(lines, title="How big must it be? Test accuracy against the number of weights and biases"):
    """A sweep's ``figures.sweep_lines``: for each depth, the mean test accuracy over the seeds
    against the parameter count (log axis), a bar from the worst seed to the best and a dot
    for each seed, each network labelled with its hidden layers."""
    fig = Figure(figsize=(9, 5.5))
    ax = fig.subplots()
    for k, line in enumerate(lines):
        colour = f"C{k % 10}"
        x, mean = line["parameters"], 100 * line["mean"]
        label = f"{line['depth']} hidden layer{'' if line['depth'] == 1 else 's'}"
        label += "".join(f", {name} {value}" for name, value in line["setting"].items())
        ax.errorbar(x, mean, yerr=[mean - 100 * line["low"], 100 * line["high"] - mean], fmt="o-", color=colour,
                    capsize=3, markersize=5, label=label)
        for parameters, each in zip(x, line["each"], strict=True):
            ax.plot(np.full(len(each), parameters), 100 * each, ".", color=colour, alpha=0.5, markersize=4)
        for parameters, accuracy, layers in zip(x, mean, line["layers"], strict=True):
            ax.annotate("-".join(layers.split(",")[1:-1]), (parameters, accuracy), textcoords="offset points",
                        xytext=(5, 5 if k % 2 else -11), fontsize=7, color=colour)  # lines in turn above and below
    ax.set_xscale("log")
    plain = FuncFormatter(lambda value, _: f"{value:,.0f}" if f"{value:.0e}"[0] in "125" else "")  # 2,000 not 2×10³
    ax.xaxis.set_major_formatter(plain)
    ax.xaxis.set_minor_formatter(plain)
    ax.set(xlabel="parameters (weights and biases), log scale", ylabel="test accuracy (%)")
    ax.grid(alpha=0.3, which="both")
    if lines:
        ax.legend(loc="lower right")
    fig.suptitle(f"{title}\nmean over the seeds, bars from the worst seed to the best, dots each seed; "
                 "labels: the hidden layers", fontsize=10)
    fig.tight_layout()
    return fig
