// The browser's teaching step (digitnet/web/static/lesson.js) against lesson.py's, from the golden vectors
// tests/golden.py writes: the cost of one example laid out, and one step downhill with what it moved.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { costOfOne, teach } from "../../digitnet/web/static/lesson.js";
import { Network } from "../../digitnet/web/static/network.js";

const { registry, cases, deskewing } = JSON.parse(readFileSync(process.env.DIGITNET_GOLDEN, "utf8"));

function close(actual, expected, what, atol = 1e-6, rtol = 1e-4) {
  assert.equal(actual.length, expected.length, `${what}: ${actual.length} numbers, Python's ${expected.length}`);
  actual.forEach((a, i) => {
    const d = expected[i];
    if (!(Math.abs(a - d) <= atol + rtol * Math.abs(d))) assert.fail(`${what}: number ${i} is ${a}, Python's ${d}`);
  });
}

// Each case's first example; the deskewing network's, given as the page has it, deskewed by the network.
for (const c of [...cases, deskewing]) {
  const { sizes, activation, cost } = c.network;
  const name = `${sizes.join("-")} ${activation} ${cost}${c.network.deskew ? " deskewing" : ""}`;
  const g = c.lesson, x = Float32Array.from(c.x.slice(0, sizes[0]));

  test(`${name}: the cost of one example, laid out as in the video`, () => {
    const laid = costOfOne(new Network(c.network, registry), x, g.label);
    for (const key of ["outputs", "desired", "squared_differences", "terms"]) {
      close(laid[key], g.before[key], `cost of one: ${key}`);
    }
    close([laid.sum_of_squares, laid.cost], [g.before.sum_of_squares, g.before.cost], "cost of one: sums");
    const best = g.before.outputs.indexOf(Math.max(...g.before.outputs));
    assert.equal(laid.prediction, best, "cost of one: the prediction");
  });

  test(`${name}: one step downhill, and what it moved`, () => {
    const step = teach(new Network(c.network, registry), x, g.label, g.eta);
    close(step.change, g.change, "the change to every parameter", 1e-7, 1e-3);
    close(step.after.outputs, g.after.outputs, "the outputs after the step");
    close([step.after.cost], [g.after.cost], "the cost after the step");
    close(step.first_layer.flat(), g.first_layer, "the first layer's −∂C/∂W");
    close(step.layer_shares, g.layer_shares, "each layer's share of the gradient");
    // The same 20, largest first: nudges equal in size but for float32's rounding (a pixel of 1 moves a
    // weight as much as the bias) may come in either order.
    const byName = (nudges) => Object.fromEntries(nudges.map((n) => [n.name, n.change]));
    const mine = byName(step.nudges), python = byName(g.nudges);
    assert.deepEqual(Object.keys(mine).sort(), Object.keys(python).sort(), "the 20 largest nudges");
    close(Object.keys(python).map((k) => mine[k]), Object.values(python), "the nudges' sizes", 1e-7, 1e-3);
    close(step.nudges.map((n) => Math.abs(n.change)), g.nudges.map((n) => Math.abs(n.change)), "largest first",
      1e-7, 1e-3);
  });
}
