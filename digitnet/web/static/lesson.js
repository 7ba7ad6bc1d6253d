// Chapter 2 with a single example, as lesson.py works it out, for the browser's engine: the cost of one
// example laid out as in the video, and one step downhill with what it moved. Pure functions of a
// network.js Network; tests/js holds them to lesson.py's numbers.

import { COSTS } from "./functions.js";
import { oneHot } from "./network.js";

export const finite = (v) => (Number.isFinite(v) ? v : null);  // an infinite cost is null in JSON
export const argmax = (a) => a.reduce((best, v, i) => (v > a[best] ? i : best), 0);

// Outputs scaled to sum to 1 (network.py's probabilities): all equal if every output is 0.
export function probabilities(outputs) {
  const total = outputs.reduce((s, v) => s + v, 0);
  return Array.from(outputs, (v) => (total > 0 ? v / total : 1 / outputs.length));
}

// lesson.cost_of_one, as lab.py lays it out: outputs a beside desired y, (a − y)², their sum, each output's
// term of the cost and the cost C; with the answer's probabilities and prediction. x is the image as the page
// has it (``outputs`` deskews it, if the network deskews).
export function costOfOne(net, x, label) {
  const n = net.sizes.at(-1);
  if (!(Number.isInteger(label) && label >= 0 && label < n)) throw new Error(`the network has outputs 0 to ${n - 1}, not ${label}`);
  const a = net.outputs(x, 1), y = Array.from({ length: n }, (_, d) => (d === label ? 1 : 0));
  const squares = Array.from(a, (v, d) => (v - y[d]) ** 2);
  const terms = Array.from(a, (v, d) => COSTS[net.cost].term(v, y[d]));
  const total = terms.reduce((s, t) => s + t, 0);
  return { cost_kind: net.cost, label, outputs: Array.from(a), desired: y, squared_differences: squares,
    sum_of_squares: squares.reduce((s, v) => s + v, 0), terms: terms.map(finite), cost: finite(total),
    probabilities: probabilities(a), prediction: argmax(a) };
}

// lesson.largest_nudges: the k weights and biases ``change`` moves most, named as in the video.
export function largestNudges(net, change, k = 20) {
  const found = [];
  net.places.forEach(({ w, nOut, nIn, b }, l) => {
    const source = l === 0 ? "pixel" : `layer ${l} neuron`;
    const top = (start, count) => Array.from({ length: count }, (_, q) => q)
      .sort((p, q) => Math.abs(change[start + q]) - Math.abs(change[start + p]) || p - q).slice(0, k);
    for (const q of top(w, nOut * nIn)) {
      const i = Math.floor(q / nIn), j = q % nIn;
      found.push({ layer: l + 1, neuron: i, from: j, change: change[w + q],
        name: `weight into layer ${l + 1} neuron ${i} from ${source} ${j}` });
    }
    for (const i of top(b, nOut)) {
      found.push({ layer: l + 1, neuron: i, from: null, change: change[b + i], name: `bias of layer ${l + 1} neuron ${i}` });
    }
  });
  return found.sort((p, q) => Math.abs(q.change) - Math.abs(p.change)).slice(0, k);
}

// lesson.teach: one step of gradient descent on (x, label) with rate η, on a copy of ``net``. Returns the
// copy (taught), this example's cost before and after, the change to every parameter, the nudges, the
// first layer's −∂C/∂W (one row a neuron), each layer's share of |∇C|² and |∇C|.
export function teach(net, x, label, eta) {
  const before = costOfOne(net, x, label), y = oneHot([label], net.sizes.at(-1));
  const input = net.inputs(x, 1);  // the image as the input layer takes it (deskewed, if the network deskews)
  const { gradient } = net.backprop(input, y, 1);
  const taught = net.copy();
  taught.step(input, y, 1, eta);
  const change = taught.params.map((v, q) => v - net.params[q]);
  const first = net.places[0];
  const firstLayer = Array.from({ length: first.nOut }, (_, j) =>
    Array.from(gradient.subarray(first.w + j * first.nIn, first.w + (j + 1) * first.nIn), (g) => -g));
  const squares = net.places.map(({ w, nOut, nIn }) => {
    let s = 0;
    for (let q = w; q < w + nOut * (nIn + 1); q++) s += gradient[q] ** 2;
    return s;
  });
  const total = squares.reduce((s, v) => s + v, 0);
  return { taught, before, after: costOfOne(taught, x, label), change, nudges: largestNudges(net, change),
    first_layer: firstLayer, layer_shares: squares.map((s) => (total > 0 ? s / total : 0)),
    gradient_size: Math.sqrt(total) };
}
