// The browser's engine (digitnet/web/static/network.js) against the golden vectors Python writes
// (tests/golden.py): run by tests/test_js_engine.py, which sets DIGITNET_GOLDEN to their file.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { missing } from "../../digitnet/web/static/functions.js";
import { deskew, Network, oneHot } from "../../digitnet/web/static/network.js";
import { Adam, SGD } from "../../digitnet/web/static/optimizers.js";

assert.ok(process.env.DIGITNET_GOLDEN, "set DIGITNET_GOLDEN to a file tests/golden.py wrote (pytest does)");
const { registry, cases, deskewing } = JSON.parse(readFileSync(process.env.DIGITNET_GOLDEN, "utf8"));

// |a − d| ≤ atol + rtol |d| for every element: float32 tolerances, the engine summing in float64
function close(actual, expected, what, atol = 1e-6, rtol = 1e-5) {
  assert.equal(actual.length, expected.length, `${what}: ${actual.length} numbers, Python's ${expected.length}`);
  actual.forEach((a, i) => {
    const d = expected[i];
    if (!(Math.abs(a - d) <= atol + rtol * Math.abs(d))) {
      assert.fail(`${what}: number ${i} is ${a}, Python's ${d}`);
    }
  });
}

function after(c, steps, optimizer, eta, l2 = 0, batch = 4) {
  const net = new Network(c.network, registry), n = c.network.sizes[0], outputs = c.network.sizes.at(-1);
  for (let s = 0; s < steps; s++) {
    const first = (s * batch) % c.labels.length;
    const x = Float32Array.from(c.x.slice(first * n, (first + batch) * n));
    net.step(x, oneHot(c.labels.slice(first, first + batch), outputs), batch, eta, l2, optimizer);
  }
  return net.params;
}

test("every activation and cost of the registry has its form here", () => {
  assert.deepEqual(missing(registry), []);
});

for (const c of cases) {
  const { sizes, activation, cost } = c.network, name = `${sizes.join("-")} ${activation} ${cost}`;
  const n = sizes[0], count = new Network(c.network, registry).params.length;

  test(`${name}: every layer's activations`, () => {
    const net = new Network(c.network, registry);
    const layers = net.feedforward(Float32Array.from(c.x.slice(0, 4 * n)), 4);
    layers.forEach((a, l) => close(a, c.activations[l], `layer ${l}`));
    close(net.costs(layers.at(-1), oneHot(c.labels.slice(0, 4), sizes.at(-1)), 4), c.costs, "costs", 1e-6, 1e-5);
  });

  test(`${name}: one example's gradient`, () => {
    const net = new Network(c.network, registry);
    const x = Float32Array.from(c.x.slice(0, n));
    const { gradient } = net.backprop(x, oneHot(c.labels.slice(0, 1), sizes.at(-1)), 1);
    close(gradient, c.gradient, "gradient", 1e-6, 1e-5);
  });

  test(`${name}: a step of SGD, with L2, with momentum, and of Adam`, () => {
    close(after(c, 1, null, 0.5), c.sgd, "sgd");
    close(after(c, 1, null, 0.5, 0.01), c.sgd_l2, "sgd with L2");
    close(after(c, 3, new SGD(count, 0.9), 0.1), c.momentum, "momentum");
    close(after(c, 1, new Adam(count), 0.01), c.adam, "adam", 1e-5, 1e-4);
  });

  test(`${name}: 20 steps of training`, () => {
    close(after(c, 20, new Adam(count), 0.003, 1e-4), c.training, "20 steps of Adam", 1e-5, 1e-4);
  });
}

// A deskewing network (deskew.py): each image as its input layer takes it, and what the layers make of it.
test("a deskewing network: each image deskewed as deskew.py deskews it", () => {
  const net = new Network(deskewing.network, registry), n = net.sizes[0], m = deskewing.names.length;
  assert.equal(net.deskew, true);
  const x = Float32Array.from(deskewing.x), inputs = net.inputs(x, m);
  assert.deepEqual(Array.from(x), deskewing.x, "inputs leaves the images given as they were");
  assert.deepEqual(deskew(x, m), inputs, "deskew(x, m) is what the network takes");
  deskewing.names.forEach((name, i) => {
    const one = net.inputs(x.subarray(i * n, (i + 1) * n), 1);
    close(one, deskewing.inputs.slice(i * n, (i + 1) * n), `${name}, deskewed`);
    assert.deepEqual(one, inputs.subarray(i * n, (i + 1) * n), `${name}: alone as in a batch`);
  });
  const blank = deskewing.names.indexOf("blank");
  assert.deepEqual(Array.from(inputs.subarray(blank * n, (blank + 1) * n)), new Array(n).fill(0), "the blank stays blank");
});

test("a deskewing network: every layer's activations, from the images as given", () => {
  const net = new Network(deskewing.network, registry), m = deskewing.names.length;
  const layers = net.forward(Float32Array.from(deskewing.x), m);
  layers.forEach((a, l) => close(a, deskewing.activations[l], `deskewing network, layer ${l}`));
  close(net.costs(layers.at(-1), oneHot(deskewing.labels, net.sizes.at(-1)), m), deskewing.costs, "deskewing network, costs");
  close(net.outputs(Float32Array.from(deskewing.x), m), deskewing.activations.at(-1), "deskewing network, outputs");
  // feedforward takes the input layer as given, as network.py's does
  close(net.feedforward(Float32Array.from(deskewing.inputs), m).at(-1), deskewing.activations.at(-1), "feedforward");
});

test("a network that does not deskew takes the images as they are", () => {
  for (const c of cases) {
    const net = new Network(c.network, registry), x = Float32Array.from(c.x.slice(0, 4 * c.network.sizes[0]));
    assert.equal(net.deskew, false);
    assert.equal(net.inputs(x, 4), x);
    assert.deepEqual(net.forward(x, 4), net.feedforward(x, 4));
  }
  const { deskew: _, ...older } = cases[0].network;  // a model file from before deskewing: none
  assert.equal(new Network(older, registry).deskew, false);
  assert.throws(() => new Network({ ...cases[2].network, deskew: true }, registry), /square/);
});
