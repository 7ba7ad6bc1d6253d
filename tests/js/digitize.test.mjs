// The page's drawing made MNIST-like in the browser (digitnet/web/static/digitize.js) against what the
// server makes of the same bytes (images.to_mnist), from the golden vectors tests/golden.py writes.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { digitize } from "../../digitnet/web/static/digitize.js";

const { drawings } = JSON.parse(readFileSync(process.env.DIGITNET_GOLDEN, "utf8"));

for (const [name, { bytes, mnist }] of Object.entries(drawings)) {
  test(`a drawing (${name}) becomes the 28×28 image Python's to_mnist makes of it`, () => {
    const mine = digitize(Uint8Array.from(bytes), 112);
    assert.equal(mine.length, mnist.length);
    mine.forEach((v, i) => {
      if (!(Math.abs(v - mnist[i]) <= 1e-4)) assert.fail(`${name}: pixel ${i} is ${v}, Python's ${mnist[i]}`);
    });
  });
}
