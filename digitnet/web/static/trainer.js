// The Train panel's run, in a Web Worker so that the page stays responsive: a fresh network with the
// panel's options, trained one epoch each time the page asks (which is how it pauses and steps), as
// training.py trains one: the images in a new random order each epoch, in mini-batches, each batch one
// step of the optimizer; the epoch's cost and accuracy from the outputs just before each step, then the
// test images' accuracy and cost. Each epoch's record and parameters go back to the page.

import { Network, oneHot } from "./network.js";
import { make } from "./optimizers.js";
import { seeded } from "./random.js";

let run = null;

// network.py's initialise: weights of variance gain / n for a neuron with n inputs, zero biases.
function fresh(sizes, activation, cost, registry, random) {
  const net = new Network({ sizes, activation, cost }, registry), gain = registry.activations[activation].gain;
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  for (const { w, nOut, nIn } of net.places) {
    for (let q = w; q < w + nOut * nIn; q++) net.params[q] = normal() * Math.sqrt(gain / nIn);
  }
  return net;
}

function argmax(a, from, n) {
  let best = 0;
  for (let j = 1; j < n; j++) if (a[from + j] > a[from + best]) best = j;
  return best;
}

function start({ start: o, registry, outputs, trainImages, trainLabels, testImages, testLabels }) {
  const random = seeded(o.seed), sizes = [784, ...o.hidden, outputs];
  const net = fresh(sizes, o.activation, o.cost, registry, random);
  const toFloats = (bytes) => Float32Array.from(bytes, (b) => b / 255);
  run = { o, net, random, optimizer: make(o.optimizer, net.params.length), epoch: 0,
    x: toFloats(trainImages), labels: trainLabels, testX: toFloats(testImages), testLabels,
    y: oneHot(Array.from(trainLabels), outputs), testY: oneHot(Array.from(testLabels), outputs) };
}

function epoch() {
  const { o, net, random, optimizer, x, y, labels } = run, n = net.sizes.at(-1), d = net.sizes[0];
  const count = labels.length, order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const started = performance.now();
  let cost = 0, right = 0;
  for (let from = 0; from < count; from += o.batch_size) {
    const rows = order.slice(from, from + o.batch_size), m = rows.length;
    const bx = new Float32Array(m * d), by = new Float32Array(m * n);
    rows.forEach((r, i) => { bx.set(x.subarray(r * d, (r + 1) * d), i * d); by.set(y.subarray(r * n, (r + 1) * n), i * n); });
    const out = net.step(bx, by, m, o.lr, 0, optimizer);
    cost += net.costs(out, by, m).reduce((s, c) => s + c, 0);
    rows.forEach((r, i) => { right += argmax(out, i * n, n) === labels[r]; });
  }
  const seconds = (performance.now() - started) / 1000;
  const m = run.testLabels.length, out = net.outputs(run.testX, m);
  let testRight = 0;
  for (let i = 0; i < m; i++) testRight += argmax(out, i * n, n) === run.testLabels[i];
  const testCost = net.costs(out, run.testY, m).reduce((s, c) => s + c, 0) / m;
  run.epoch += 1;
  const record = { epoch: run.epoch, lr: o.lr, cost: cost / count, train_accuracy: right / count,
    test_accuracy: testRight / m, test_cost: testCost, seconds };
  if (!Number.isFinite(record.cost)) throw new Error("the cost is no longer a number: try a smaller learning rate");
  postMessage({ record, sizes: net.sizes, params: net.params.slice() });
}

onmessage = ({ data }) => {
  try {
    if (data.start) start(data);
    if (data.epoch) epoch();
  } catch (e) {
    postMessage({ error: e.message });
  }
};
