// The experiments of chapter 2, run live on the visitor's network through the server's queue:
// memorising real and shuffled labels, the ball rolling down the cost surface, sigmoid against
// ReLU. One at a time; their measurements stream in as they are made, and each panel draws them.

import { $, api, cost, percent, stream } from "./api.js";
import { blend, colour, rgb } from "./colours.js";
import { onModel } from "./model.js";
import { boxes, curve, frame, label, scale, setUpPlot } from "./plots.js";
import { state } from "./state.js";
import { onEpoch } from "./training.js";

const KINDS = ["memorize", "landscape", "sigmoid-vs-relu"];
const latest = {};     // kind: the last status of that kind, which its panel shows
let followAgain = false;  // a training epoch came while the landscape was being worked out
let rolling = null;       // the ball's animation
let rollFrom = 0;         // the epoch the ball starts from: 0, or where it stopped when following training

const panel = (kind) => $(`${kind}-panel`);
const going = (status) => status.state === "running" || status.state === "queued";

function asked(kind) {
  if (kind === "memorize") return { images: +$("memorize-images").value, epochs: +$("memorize-epochs").value };
  if (kind === "landscape") return { random: $("random-slice").checked };
  return {};
}

async function run(kind, following = false) {
  const ball = +$("landscape-panel").querySelector(".plot").dataset.epoch;
  rollFrom = following && ball ? ball : 0;
  try {
    showExperiment(await api("POST", `/api/experiments/${kind}`, asked(kind)));
    listen();
  } catch (e) {
    panel(kind).querySelector(".status").textContent = e.message;
  }
}

async function stop() {
  try {
    showExperiment(await api("POST", "/api/experiments/stop"));
  } catch (e) {
    if (state.experiment) panel(state.experiment.kind).querySelector(".status").textContent = e.message;
  }
}

export const listen = stream("/api/experiments/events", (status) => showExperiment(status),
  () => Boolean(state.experiment) && going(state.experiment));

export function showExperiment(status) {
  state.experiment = status;
  if (!status.kind || (latest[status.kind] && latest[status.kind].version === status.version)) return;
  latest[status.kind] = status;
  for (const kind of KINDS) {
    const mine = status.kind === kind;
    panel(kind).querySelector(".stop").disabled = !(mine && going(status));
    panel(kind).dataset.state = mine ? status.state : latest[kind] ? "replaced" : "idle";
  }
  const p = panel(status.kind);
  p.querySelector(".status").textContent = words(status);
  DRAW[status.kind](p.querySelector(".plot"), status);
  if (status.kind === "landscape" && !going(status) && followAgain) {
    followAgain = false;
    run("landscape", true);
  }
}

function words(status) {
  const unit = status.kind === "landscape" ? "rows of the surface" : "epochs";
  const progress = `${status.done} of ${status.total} ${unit}`;
  switch (status.state) {
    case "queued": return `Waiting for a free trainer: ${status.place === 1 ? "next" : `number ${status.place}`} in the queue.`;
    case "running": return `Running: ${progress}.`;
    case "done": return `Done. ${SUMMARY[status.kind](status.result)}`;
    case "stopped": return `Stopped (${status.message}) after ${progress}.`;
    default: return `Stopped: ${status.message}`;
  }
}

const SUMMARY = {
  memorize: (r) => ["real", "shuffled"].map((name) => `${name[0].toUpperCase()}${name.slice(1)} labels: ` +
    `${percent(r[name].train_accuracy.at(-1), 1)} of the training images right, ${percent(r[name].test_accuracy, 1)} ` +
    "of the test images.").join(" "),
  landscape: (r) => r.path === null
    ? "No path to draw: this network was saved before training recorded its path, or has been taught or edited " +
      "since training left it there. The cost around it alone."
    : `The path of ${r.path.epochs.at(-1)} epochs, ${percent(r.path.share)} of it in this plane, goes down on the ` +
      `plane from a cost of ${cost(r.path.path_cost[0])} to ${cost(r.path.path_cost.at(-1))}` + (r.path.epoch_cost
      ? `; at the epochs' own weights, off the plane, from ${cost(r.path.epoch_cost[0])} to ` +
        `${cost(r.path.epoch_cost.at(-1))}.` : "."),
  "sigmoid-vs-relu": (r) => `On the test images: ${r.map((n) => `${n.activation} with ${n.hidden_layers} ` +
    `hidden layers ${percent(n.test_accuracy, 1)}`).join(", ")}.`,
};


// ---- memorising: the two cost curves side by side --------------------------------------------

function drawMemorize(canvas, status) {
  const { g, w, h } = setUpPlot(canvas);
  const runs = ["real", "shuffled"].map((name) => [name, status.parts[name] || { cost: [], train_accuracy: [] }]);
  const most = Math.max(1e-9, ...runs.flatMap(([, r]) => r.cost));
  boxes(2, w, h).forEach((box, k) => {
    const [name, r] = runs[k];
    const x = scale(1, status.options.epochs, box.x, box.x + box.w), y = scale(0, most, box.y + box.h, box.y);
    const share = scale(0, 1, box.y + box.h, box.y);
    frame(g, box, { title: `${name} labels`, x: "epoch", top: most.toPrecision(3), bottom: "0" });
    curve(g, r.train_accuracy.map((a, i) => [x(i + 1), share(a)]), "gold", { width: 1.5 });
    curve(g, r.cost.map((c, i) => [x(i + 1), y(c)]), "plus");
    label(g, "cost", box.x + 8, box.y + 16, "plus");
    label(g, "training accuracy (0 to 100 %)", box.x + 44, box.y + 16, "gold");
    if (status.result) {
      label(g, `test accuracy ${percent(status.result[name].test_accuracy, 1)}`, box.x + box.w - 8,
        box.y + box.h - 10, "text", "right");
    }
  });
  canvas.dataset.epochs = runs.map(([, r]) => r.cost.length).join(",");
}

// ---- the landscape: the cost surface, and the ball rolling down the path ---------------------------

function drawLandscape(canvas, status) {
  const r = status.result;
  if (!r) {  // while it is worked out: the last surface stays, with the progress in words
    if (!canvas.dataset.drawn) blankPlot(canvas, "the cost surface appears here when it has been worked out");
    return;
  }
  canvas.dataset.drawn = "yes";
  const slices = [r.random && ["two random directions", r.random, null], r.path && ["the plane of the path", r.path, r.path]]
    .filter(Boolean);
  const from = r.path ? Math.max(0, r.path.epochs.indexOf(rollFrom)) : 0;
  cancelAnimationFrame(rolling);
  const started = performance.now(), segments = r.path ? r.path.epochs.length - 1 : 0;
  const seconds = Math.min(4, Math.max(1.5, 0.15 * (segments - from)));
  const draw = (now) => {
    const t = r.path ? Math.min(1, Math.max(0, (now - started) / 1000 / seconds)) : 1;  // a frame's time can precede ours
    const at = from + t * (segments - from);  // where the ball is, in epochs' steps along the path
    const { g, w, h } = setUpPlot(canvas);
    const places = boxes(slices.length + (r.path ? 1 : 0), w, h, { l: 16, r: 16, t: 22, b: 24 });
    slices.forEach(([title, slice, path], k) => drawSurface(g, square(places[k]), slice, title, path, at));
    if (r.path) drawHeight(g, places.at(-1), r.path, at);
    if (r.path) canvas.dataset.epoch = r.path.epochs[Math.floor(at)];
    if (t < 1) rolling = requestAnimationFrame(draw);
    else canvas.dataset.rolled = "yes";
  };
  delete canvas.dataset.rolled;
  rolling = requestAnimationFrame(draw);
}

function square(box) {  // the surface keeps its shape: a square in the middle of its box
  const side = Math.min(box.w, box.h);
  return { x: box.x + (box.w - side) / 2, y: box.y, w: side, h: side };
}

function drawSurface(g, box, slice, title, path, at) {
  const costs = slice.cost.flat().filter((c) => c !== null && c > 0);
  const low = Math.min(...costs), high = Math.max(...costs);
  const shade = scale(low, high, 0, 1, true);
  const dark = rgb("bg"), blue = rgb("plus"), gold = rgb("gold");
  const nx = slice.x.length, ny = slice.y.length, cw = box.w / nx, ch = box.h / ny;
  slice.cost.forEach((row, j) => row.forEach((c, i) => {  // dark valleys, bright hills; infinite costs brightest
    const t = c === null ? 1 : Math.min(1, Math.max(0, shade(Math.max(c, low))));
    const mixed = t < 0.5 ? blend(dark, blue, 2 * t) : blend(blue, gold, 2 * t - 1);
    g.fillStyle = `rgb(${mixed.join(",")})`;
    g.fillRect(box.x + i * cw, box.y + (ny - 1 - j) * ch, cw + 0.5, ch + 0.5);
  }));
  frame(g, box, { title, x: `cost from ${low.toPrecision(2)} (dark) to ${high.toPrecision(2)} (bright)` });
  const x = scale(slice.x[0], slice.x[nx - 1], box.x + cw / 2, box.x + box.w - cw / 2);
  const y = scale(slice.y[0], slice.y[ny - 1], box.y + box.h - ch / 2, box.y + ch / 2);
  if (!path) {  // the trained weights at the centre
    mark(g, x(0), y(0), 5, "gold");
    return;
  }
  const points = path.path_x.map((px, k) => [x(px), y(path.path_y[k])]);
  curve(g, points, "text", { width: 1.5, alpha: 0.7, dots: true });
  mark(g, ...points[0], 4, "minus");
  label(g, "start", points[0][0] + 8, points[0][1] - 6, "text");
  mark(g, ...points.at(-1), 4, "gold");
  const ball = along(points, at);
  mark(g, ...ball, 8, "lit", "gold");
  label(g, `epoch ${path.epochs[Math.min(Math.floor(at), points.length - 1)]}`, ball[0] + 12, ball[1] + 4, "text");
}

// The cost along the path, two ways: the ball's height, the surface's height at each epoch's point of
// the plane (its weights projected onto it), and the cost at the epoch's own weights, which lie off
// the plane, as training measured it (none for a model saved before it did).
function drawHeight(g, box, path, at) {
  const inner = { x: box.x + 40, y: box.y, w: box.w - 40, h: box.h };
  const heights = path.path_cost.map((c) => c ?? Infinity), own = (path.epoch_cost || []).map((c) => c ?? Infinity);
  const last = path.epochs.at(-1), most = Math.max(1e-9, ...[...heights, ...own].filter(Number.isFinite));
  const x = scale(0, last, inner.x, inner.x + inner.w), y = scale(0, most, inner.y + inner.h, inner.y);
  frame(g, inner, { title: "the cost along the path", x: "epoch", top: most.toPrecision(3), bottom: "0" });
  const line = (costs) => path.epochs.map((e, k) => [x(e), y(Math.min(costs[k], most))]);
  const points = line(heights);
  if (own.length) curve(g, line(own), "gold", { dots: true, width: 1.5 });
  curve(g, points, "plus", { dots: true });
  mark(g, ...along(points, at), 7, "lit", "gold");
  const images = own.length && path.epoch_cost_images.toLocaleString("en");
  label(g, "the ball's height: on this plane, at each epoch's point", inner.x + 8, inner.y + 16, "plus");
  label(g, own.length ? `at each epoch's own weights, off the plane (on ${images} of its training images)`
    : "the cost at each epoch's own weights was not recorded", inner.x + 8, inner.y + 32, own.length ? "gold" : "dim");
}

// Where the ball is at ``at`` (1.5: halfway from the second point of the path to the third).
function along(points, at) {
  const k = Math.min(Math.floor(at), points.length - 1), f = at - k, next = points[Math.min(k + 1, points.length - 1)];
  return [points[k][0] + f * (next[0] - points[k][0]), points[k][1] + f * (next[1] - points[k][1])];
}

function mark(g, x, y, r, fill, stroke = "bg") {
  g.fillStyle = colour(fill);
  g.strokeStyle = colour(stroke);
  g.lineWidth = 2;
  g.setLineDash([]);
  g.beginPath();
  g.arc(x, y, r, 0, 2 * Math.PI);
  g.fill();
  g.stroke();
}

function blankPlot(canvas, text) {
  const { g, w, h } = setUpPlot(canvas);
  label(g, text, w / 2, h / 2, "dim", "center");
}

// Following a training run: the landscape again after each epoch, one at a time.
function follow() {
  if (!panel("landscape").open || !$("follow").checked) return;
  const now = state.experiment;
  if (now && going(now)) {
    if (now.kind === "landscape") followAgain = true;  // else another experiment runs: leave it be
    return;
  }
  run("landscape", true);
}

// ---- sigmoid against ReLU: cost, and the gradient reaching the first layer ------------------------

function drawSigmoidVsRelu(canvas, status) {
  const { g, w, h } = setUpPlot(canvas);
  const [costBox, gradientBox] = boxes(2, w, h, { l: 56, r: 40, t: 22, b: 30 });
  // Each network's curves: from the result once done (its gradients start before training), else as measured.
  const runs = status.result
    ? status.result.map((n) => ({ name: `${n.activation} ${n.hidden_layers}`, ...n, after: n.gradients.slice(1),
      start: n.gradients[0] }))
    : Object.entries(status.parts).map(([name, p]) => ({ name, ...p, after: p.gradients, start: null }));
  const epochs = status.options.epochs;
  const x = scale(1, epochs, costBox.x, costBox.x + costBox.w);
  const most = Math.max(1e-9, ...runs.flatMap((n) => n.cost.filter((c) => c !== null)));
  const y = scale(0, most, costBox.y + costBox.h, costBox.y);
  frame(g, costBox, { title: "cost", x: "epoch", top: most.toPrecision(3), bottom: "0" });
  const first = runs.flatMap((n) => [n.start, ...n.after].filter(Boolean).map((layers) => layers[0]))
    .filter((v) => v > 0);
  const gx = scale(0, epochs, gradientBox.x, gradientBox.x + gradientBox.w);
  const low = first.length ? Math.min(...first) : 1e-6, high = first.length ? Math.max(...first) : 1;
  const gy = scale(low, high, gradientBox.y + gradientBox.h, gradientBox.y, true);
  frame(g, gradientBox, { title: "the gradient reaching layer 1, |∂C/∂b| (log scale)", x: "epoch",
    top: high.toExponential(0), bottom: low.toExponential(0) });
  for (const n of runs) {
    const sigmoid = n.name.startsWith("sigmoid"), hue = sigmoid ? "minus" : "plus";
    const style = { dashed: sigmoid, width: 1.5 };
    const costs = n.cost.map((c, i) => [x(i + 1), y(c ?? most)]);
    curve(g, costs, hue, style);
    if (costs.length) label(g, n.name.split(" ")[1], costs.at(-1)[0] + 4, costs.at(-1)[1] + 4, hue);
    const reaching = [[0, n.start], ...n.after.map((layers, i) => [i + 1, layers])].filter(([, l]) => l);
    curve(g, reaching.filter(([, l]) => l[0] > 0).map(([e, l]) => [gx(e), gy(l[0])]), hue, style);
  }
  const middle = costBox.y + costBox.h / 2;  // clear of the curves, which start high and fall
  label(g, "— ReLU", costBox.x + costBox.w - 110, middle, "plus");
  label(g, "- - sigmoid", costBox.x + costBox.w - 60, middle, "minus");
  label(g, "numbers: hidden layers", costBox.x + costBox.w - 8, middle + 16, "dim", "right");
  canvas.dataset.networks = runs.length;
}

const DRAW = { memorize: drawMemorize, landscape: drawLandscape, "sigmoid-vs-relu": drawSigmoidVsRelu };

export function fillExperiments(options) {
  if (options.precomputed) {  // a static site: the results Python worked out when it was made, not run here
    $("lab").querySelector("h2 small").textContent = `their results ${options.precomputed}`;
    for (const kind of KINDS) {
      panel(kind).querySelectorAll("input").forEach((input) => { input.disabled = true; });
      $("follow").checked = false;  // the landscape is the exported network's, not the one training here
      panel(kind).querySelector(".status").textContent = `Not shown yet: Run shows the results ${options.precomputed}.`;
    }
  }
  const m = options.experiments.memorize;
  $("memorize-images").value = m.images;
  $("memorize-epochs").value = m.epochs;
  $("memorize-explain").textContent = `The same network, trained again from its own random start on ${m.images} ` +
    "training images: once with their real labels and once with the labels shuffled among them, so that a label " +
    "says nothing about its image. Look at the two cost curves: with real labels the cost falls at once; with " +
    "shuffled labels it comes down slowly, image by image, as the network learns a list by heart. Then look at " +
    "the test accuracy: only the real labels taught it digits.";
}

export function setUpExperiments() {
  for (const kind of KINDS) {
    const p = panel(kind);
    p.querySelector(".run").onclick = () => run(kind);
    p.querySelector(".stop").onclick = stop;
  }
  onEpoch(follow);
  onModel((model) => {  // the experiments train on MNIST: without it, nothing to run
    for (const kind of KINDS) panel(kind).querySelector(".run").disabled = !model.has_data;
  });
}
