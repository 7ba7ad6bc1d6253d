// The browser's engine, for the page as a static site (`digitnet site`): the server's API (routes.py)
// answered in the page itself, with the answers' shapes of schema.py, by network.js on the exported
// network and the MNIST sample beside the page (data/). What needs more than a browser should do (the
// experiments of chapter 2, the dreams, the letters) was worked out by Python when the site was made.
// Training runs in a Web Worker (trainer.js), so the page stays responsive.

import { digitize } from "./digitize.js";
import * as lesson from "./lesson.js";
import { argmax, costOfOne, finite, probabilities } from "./lesson.js";
import { Network, oneHot } from "./network.js";
import { npz } from "./npz.js";
import { seeded } from "./random.js";

const here = (name) => new URL(`../data/${name}`, import.meta.url);  // beside static/, under any path
const SIDE = 28;

async function bytes(name) {
  const response = await fetch(here(name));
  if (!response.ok) throw new Error(`cannot load ${name}: ${response.status} ${response.statusText}`);
  const data = new Uint8Array(await response.arrayBuffer());
  if (data[0] !== 0x1f || data[1] !== 0x8b) return data;  // a host may have unzipped it already
  const opened = new Blob([data]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(opened).arrayBuffer());
}

const [site, params, testImages, testLabels] = await Promise.all([
  bytes("site.json").then((b) => JSON.parse(new TextDecoder().decode(b))), bytes("model.f32"), bytes("test-images.u8.gz"),
  bytes("test-labels.u8")]);
let training = null;  // the training images and labels, loaded after the page's first answer or when first needed
const trainingSet = () => (training ??= Promise.all([bytes("train-images.u8.gz"), bytes("train-labels.u8")])
  .catch((e) => { training = null; throw e; }));  // asked again next time
setTimeout(() => trainingSet().catch(() => {}), 1000);  // so that, once loaded, the page needs no network
const testSet = { images: Float32Array.from(testImages, (b) => b / 255), labels: testLabels, deskewed: null };
// The test images as a network's input layer takes them: deskewed once, for every deskewing network.
const testInputs = (net) => (net.deskew ? (testSet.deskewed ??= net.inputs(testSet.images, testSet.labels.length))
  : testSet.images);

// A network of ``shape`` (sizes, activation, cost, not_a_digit, deskew, and what its outputs are called).
function make(params, shape = site.model) {
  return Object.assign(new Network({ ...shape, params }, site.registry), { outputNames: shape.outputs });
}
// The Train panel trains on the digits alone, as the server's does: one output a digit, no "not a digit".
const DIGITS = site.model.outputs.length - (site.model.not_a_digit ? 1 : 0);

// ---- the visitor's network: trained values, hand edits, teaching steps to undo (lab.py's Lab) -----

const UNDO_BYTES = 1 << 20;
const NO_EDIT = { bias_shift: 0, weight_scale: 1, off: false };
const lab = { trained: null, net: null, edits: new Map(), taught: [], untaught: null };

function use(net) {
  Object.assign(lab, { trained: net, net, edits: new Map(), taught: [], untaught: null });
}
use(make(new Float32Array(params.buffer)));

function edited(trained, edits) {
  const net = trained.copy();
  for (const [key, e] of edits) {
    const [layer, neuron] = key.split(",").map(Number), { w, nIn, b } = net.places[layer];
    for (let k = 0; k < nIn; k++) net.params[w + neuron * nIn + k] *= e.weight_scale;
    net.params[b + neuron] += e.bias_shift;
    if (e.off) {
      const next = net.places[layer + 1];
      for (let j = 0; j < next.nOut; j++) net.params[next.w + j * next.nIn + neuron] = 0;
    }
  }
  return net;
}

function checkNeuron(layer, neuron) {
  const hidden = lab.net.sizes.slice(1, -1);
  if (!(layer < hidden.length)) throw new Error(`there is no hidden layer ${layer}: the hidden layers are 0 to ${hidden.length - 1}`);
  if (!(neuron < hidden[layer])) throw new Error(`hidden layer ${layer} has neurons 0 to ${hidden[layer] - 1}, not ${neuron}`);
}

function teach(net, scores) {
  lab.untaught ??= { trained: lab.trained, net: lab.net, edits: lab.edits };
  lab.taught.push({ trained: lab.trained, net: lab.net, edits: lab.edits });
  while (lab.taught.length > 1 && lab.taught.reduce((n, t) => n + t.net.params.byteLength, 0) > UNDO_BYTES) lab.taught.shift();
  net.scores = scores;
  Object.assign(lab, { trained: net, net, edits: new Map() });
}

// ---- what the page shows ------------------------------------------------------------------------

const round = (x, digits = 4) => {  // a short list for the page, as lab.py's rounded
  const scale = 10 ** digits;
  return Array.from(x, (v) => Math.round(v * scale) / scale);
};
// The share of the test images right and the average cost (lesson.accuracy_and_cost), kept with the network.
function scores(net) {
  if (!net.scores) {
    const m = testSet.labels.length, n = net.sizes.at(-1), out = net.feedforward(testInputs(net), m).at(-1);
    let right = 0;
    for (let i = 0; i < m; i++) right += argmax(out.subarray(i * n, (i + 1) * n)) === testSet.labels[i];
    const costs = net.costs(out, oneHot(Array.from(testSet.labels), n), m);
    net.scores = { test_accuracy: right / m, average_cost: finite(costs.reduce((s, c) => s + c, 0) / m) };
  }
  return net.scores;
}

// What the network makes of the image x (lab.py's look): the input is the image as its input layer takes it.
function look(x, label = null) {
  const net = lab.net, acts = net.forward(x, 1), out = acts.at(-1);
  const zs = net.places.map(({ w, nOut, nIn, b }, l) => Array.from({ length: nOut }, (_, j) => {
    let z = net.params[b + j];
    for (let k = 0; k < nIn; k++) z += net.params[w + j * nIn + k] * acts[l][k];
    return z;
  }));
  return { input: round(acts[0]), layers: acts.slice(1).map((a) => round(a)), zs: zs.map((z) => round(z)),
    prediction: argmax(out), answer: net.outputNames[argmax(out)], probabilities: round(probabilities(out)),
    label: null, index: null, cost_of_one: label === null ? null : costOfOne(net, x, label) };
}

// An example the page chose (lab.py's example): the look, and the image itself, to look at again as it is.
const example = (x, label = null) => ({ ...look(x, label), image: round(x) });

function strongest(net) {  // lab.py's strongest: the strongest connections of each layer, strongest first
  return net.places.map(({ w, nOut, nIn }) => {
    const order = Array.from({ length: nOut * nIn }, (_, q) => q)
      .sort((p, q) => Math.abs(net.params[w + q]) - Math.abs(net.params[w + p]) || p - q).slice(0, site.strongest);
    return order.map((q) => [q % nIn, Math.floor(q / nIn), +net.params[w + q].toFixed(4)]);
  });
}

function describe() {
  const net = lab.net, s = scores(net);
  net.connections ??= strongest(net);
  return { ...site.model, sizes: net.sizes, activation: net.activation, cost: net.cost, not_a_digit: net.notADigit,
    deskew: net.deskew, outputs: net.outputNames, ...s,
    teaching_rate: site.teaching_rate[net.cost], undo_steps: lab.taught.length, taught: lab.untaught !== null,
    has_data: true, test_images: testSet.labels.length,
    edits: [...lab.edits].map(([key, e]) => { const [layer, neuron] = key.split(",").map(Number); return { layer, neuron, ...e }; })
      .sort((p, q) => p.layer - q.layer || p.neuron - q.neuron),
    connections: net.connections, save_to: null, editing: true, notice: null };
}

function neuronInfo(layer, neuron) {
  checkNeuron(layer, neuron);
  const net = lab.net, first = net.places[0];
  let pattern = Array.from(net.params.subarray(first.w, first.w + first.nOut * first.nIn));
  for (let l = 1; l <= layer; l++) {  // W_l ⋯ W_0: what a deeper neuron sees through the layers before
    const { w, nOut, nIn } = net.places[l], next = new Array(nOut * first.nIn).fill(0);
    for (let j = 0; j < nOut; j++) {
      for (let i = 0; i < nIn; i++) {
        const wt = net.params[w + j * nIn + i];
        for (let k = 0; k < first.nIn; k++) next[j * first.nIn + k] += wt * pattern[i * first.nIn + k];
      }
    }
    pattern = next;
  }
  const mine = pattern.slice(neuron * first.nIn, (neuron + 1) * first.nIn);
  const b = net.places[layer].b + neuron;
  return { layer, neuron, pattern: round(mine, 5), bias: net.params[b], trained_bias: lab.trained.params[b],
    ...(lab.edits.get(`${layer},${neuron}`) ?? NO_EDIT), test_accuracy: scores(net).test_accuracy };
}

// ---- teaching (lesson.py's teach and teach_many, lab.py's teach_one and teach_many) ---------------

function keep(taught, before = null, after = null) {
  let largest = 0;
  for (const v of taught.params) largest = Math.max(largest, Math.abs(v));
  if (!(largest <= site.max_parameter)) {
    throw new Error(`that step would take a weight to ${largest.toPrecision(3)}, past ±${site.max_parameter}: the ` +
      "network would stop computing numbers, so it was not taken; try a smaller learning rate");
  }
  const was = scores(lab.net), now = scores(taught);
  teach(taught, now);
  return { before: { ...(before ?? {}), ...was }, after: { ...(after ?? {}), ...now }, undo_steps: lab.taught.length };
}

function teachOne(x, label, eta) {
  eta = eta || site.teaching_rate[lab.net.cost];
  const step = lesson.teach(lab.net, x, label, eta);
  const scale = Math.max(0, ...step.first_layer.map((row) => Math.max(...row.map(Math.abs))));
  return { ...keep(step.taught, step.before, step.after), nudges: step.nudges,
    first_layer: { scale, tiles: step.first_layer.map((row) => round(row.map((g) => g / (scale || 1)), 3)) },
    layer_shares: round(step.layer_shares), gradient_size: step.gradient_size, lr: eta };
}

async function teachMany(count, eta) {
  const [images, labels] = await trainingSet();
  const taught = lab.net.copy(), n = taught.sizes.at(-1), costs = [];
  eta = eta || site.teaching_rate[taught.cost];
  for (let s = 0; s < count; s++) {
    const i = Math.floor(Math.random() * labels.length);
    const x = Float32Array.from(images.subarray(i * SIDE * SIDE, (i + 1) * SIDE * SIDE), (b) => b / 255);
    const input = taught.inputs(x, 1);  // as lesson.teach_many's as_row
    costs.push(finite(taught.costs(taught.feedforward(input, 1).at(-1), oneHot([labels[i]], n), 1)[0]));
    taught.step(input, oneHot([labels[i]], n), 1, eta);
  }
  return { ...keep(taught), costs, lr: eta };
}

// ---- the examples -------------------------------------------------------------------------------

const testImage = (i) => testSet.images.slice(i * SIDE * SIDE, (i + 1) * SIDE * SIDE);
const labelOf = (query) => (query.has("label") ? +query.get("label") : null);
const fromBytes = (pixels) => Float32Array.from(pixels, (v) => v / 255);

function drawing(body) {
  const side = site.model.drawing_side;
  if (body.length !== side * side) throw new Error(`a drawing is ${side}×${side} pixels, not ${body.length}`);
  return digitize(body, side);
}

// ---- training, in a worker -------------------------------------------------------------------------

const trainer = { status: { state: "idle", epoch: 0, epochs: 0, busy: false, message: "", history: [], version: 0,
  place: null }, worker: null, paused: false, stepping: false, heard: [] };

function told() {
  trainer.status = { ...trainer.status, epoch: trainer.status.history.length, version: trainer.status.version + 1 };
  for (const show of trainer.heard) show(trainer.status);
}

function setTraining(state, message = "") {
  Object.assign(trainer.status, { state, message, busy: state === "running" });
  told();
}

// A request checked against its JSON schema (schema.py's, exported with the site), as the server checks it.
function checked(schema, body) {
  const number = (name, x, rule) => {
    const whole = rule.type !== "integer" || Number.isInteger(x);
    if (typeof x !== "number" || !Number.isFinite(x) || !whole || x < rule.minimum || x > rule.maximum ||
        x <= rule.exclusiveMinimum) {
      const range = [rule.minimum ?? (rule.exclusiveMinimum !== undefined ? `more than ${rule.exclusiveMinimum}` : null),
        rule.maximum].filter((v) => v !== null && v !== undefined).join(" to ");
      throw new Error(`${name}: expected ${whole && rule.type !== "integer" ? "a number" : "a whole number"} ${range}, got ${x}`);
    }
  };
  for (const [name, rule] of Object.entries(schema.properties)) {
    const v = body[name];
    if (v === undefined) continue;
    if (rule.type === "array") {
      if (!Array.isArray(v) || v.length < rule.minItems || v.length > rule.maxItems) {
        throw new Error(`${name}: expected ${rule.minItems} to ${rule.maxItems} numbers`);
      }
      v.forEach((x) => number(name, x, rule.items));
    } else if (rule.enum) {
      if (!rule.enum.includes(v)) throw new Error(`${name}: expected one of ${rule.enum.join(", ")}, got ${v}`);
    } else if (rule.type === "integer" || rule.type === "number") {
      number(name, v, rule);
    }
  }
  return body;
}

async function startTraining(asked) {
  const options = { ...Object.fromEntries(Object.entries(site.train_request.properties).map(([k, r]) => [k, r.default])),
    ...checked(site.train_request, asked) };
  if (trainer.worker) trainer.worker.terminate();
  const [images, labels] = await trainingSet();
  const count = Math.min(options.images, labels.length);
  const worker = new Worker(new URL("./trainer.js", import.meta.url), { type: "module" });
  trainer.worker = worker;
  trainer.paused = Boolean(options.paused);
  trainer.options = options;
  trainer.status = { ...trainer.status, history: [], epochs: options.epochs };
  worker.onmessage = ({ data }) => {
    if (worker !== trainer.worker) return;
    if (data.error) { setTraining("error", data.error); return; }
    // trainer.js's network: the digits alone, and no deskewing (as the server's Train panel trains)
    const net = make(data.params, { ...site.model, sizes: data.sizes, activation: options.activation, cost: options.cost,
      not_a_digit: false, deskew: false, outputs: site.model.outputs.slice(0, DIGITS) });
    net.scores = { test_accuracy: data.record.test_accuracy, average_cost: finite(data.record.test_cost) };
    use(net);
    trainer.status.history = [...trainer.status.history, data.record];
    const done = trainer.status.history.length >= options.epochs;
    if (done) setTraining("done");
    else if (trainer.paused) setTraining("paused");
    else { setTraining("running"); worker.postMessage({ epoch: true }); }
  };
  worker.onerror = (e) => setTraining("error", e.message || "the training worker failed");
  worker.postMessage({ start: { ...options, images: count, seed: Math.floor(Math.random() * 2 ** 31) },
    registry: site.registry, outputs: DIGITS, trainImages: images.slice(0, count * SIDE * SIDE),
    trainLabels: labels.slice(0, count), testImages, testLabels });
  if (trainer.paused) setTraining("paused");
  else { setTraining("running"); worker.postMessage({ epoch: true }); }
}

function controlTraining(action) {
  const s = trainer.status;
  if (action === "pause") {
    if (s.state !== "running") throw new Error(`no training is running: it is ${s.state}`);
    trainer.paused = true;
    setTraining("paused", "after this epoch");  // the epoch under way finishes first
  } else if (action === "resume" || action === "step") {
    if (s.state !== "paused") throw new Error(`no training is paused: it is ${s.state}`);
    trainer.paused = action === "step";
    setTraining("running");
    trainer.worker.postMessage({ epoch: true });
  }
  return trainer.status;
}

// ---- the model file: a .npz as digitnet reads it (modelfile.py) ------------------------------------

function download() {
  const net = lab.net, trainedHere = trainer.status.history.length > 0;
  const header = { ...site.header, sizes: net.sizes, activation: net.activation, cost: net.cost,
    not_a_digit: net.notADigit, deskew: net.deskew, history: trainedHere ? trainer.status.history : [],
    recipe: trainedHere ? "web" : site.header.recipe, options: trainedHere ? trainer.options : site.header.options };
  return { name: `digitnet-${net.sizes.join("-")}.npz`, blob: npz(net, header) };
}

// ---- the API -------------------------------------------------------------------------------------

const experimentsHeard = [];
let experiment = { kind: null, state: "idle", message: "", version: 0, place: null, done: 0, total: 0, options: {},
  parts: {}, result: null };

function modelAfter(work) { return () => { work(); return describe(); }; }

const ROUTES = [
  ["GET", /^\/api\/model$/, () => describe()],
  ["GET", /^\/api\/options$/, () => site.options],
  ["POST", /^\/api\/predict\/bytes$/, (m, q, body) => look(drawing(body), labelOf(q))],
  ["POST", /^\/api\/look$/, (m, q, body) => look(fromBytes(body.pixels), labelOf(q))],
  ["GET", /^\/api\/neurons\/(\d+)\/(\d+)$/, (m) => neuronInfo(+m[1], +m[2])],
  ["PUT", /^\/api\/neurons\/(\d+)\/(\d+)$/, (m, q, e) => {
    const [layer, neuron] = [+m[1], +m[2]];
    checkNeuron(layer, neuron);
    const edit = { bias_shift: e.bias_shift ?? 0, weight_scale: e.weight_scale ?? 1, off: Boolean(e.off) };
    const edits = new Map(lab.edits).set(`${layer},${neuron}`, edit);
    if (edit.bias_shift === 0 && edit.weight_scale === 1 && !edit.off) edits.delete(`${layer},${neuron}`);
    Object.assign(lab, { net: edited(lab.trained, edits), edits });
    return neuronInfo(layer, neuron);
  }],
  ["POST", /^\/api\/reset$/, modelAfter(() => Object.assign(lab, { net: lab.trained, edits: new Map() }))],
  ["GET", /^\/api\/examples\/test$/, (m, q) => {
    const i = q.has("index") ? +q.get("index") : Math.floor(Math.random() * testSet.labels.length);
    const label = testSet.labels[i];
    return { ...example(testImage(i), labelOf(q) ?? label), label, index: i };
  }],
  ["GET", /^\/api\/examples\/noise$/, (m, q) => {
    const random = seeded(+(q.get("seed") ?? 0));
    return example(Float32Array.from({ length: SIDE * SIDE }, random), labelOf(q));
  }],
  ["GET", /^\/api\/examples\/letter$/, (m, q) => example(Float32Array.from(site.letters[+(q.get("seed") ?? 0) % site.letters.length]), labelOf(q))],
  ["GET", /^\/api\/examples\/dream\/(\d+)$/, (m, q) => example(Float32Array.from(site.dreams[+m[1]]), labelOf(q))],
  ["POST", /^\/api\/teach$/, (m, q, b) => teachOne(drawing(Uint8Array.from(b.pixels)), b.label, b.lr)],
  ["POST", /^\/api\/teach\/image$/, (m, q, b) => teachOne(fromBytes(b.pixels), b.label, b.lr)],
  ["POST", /^\/api\/teach\/test$/, (m, q, b) => teachOne(testImage(b.index), b.label ?? testSet.labels[b.index], b.lr)],
  ["POST", /^\/api\/teach\/batch$/, (m, q, b) => teachMany(b.images ?? site.options.batch, b.lr)],
  ["POST", /^\/api\/teach\/undo$/, () => {
    if (!lab.taught.length) throw new Error("there is no teaching step to undo");
    Object.assign(lab, lab.taught.pop());
    if (lab.untaught && lab.untaught.net === lab.net) lab.untaught = null;
    return describe();
  }],
  ["POST", /^\/api\/teach\/reset$/, () => {
    if (!lab.untaught) throw new Error("the network has not been taught: there is nothing to reset");
    Object.assign(lab, lab.untaught, { taught: [], untaught: null });
    return describe();
  }],
  ["GET", /^\/api\/train$/, () => trainer.status],
  ["POST", /^\/api\/train$/, async (m, q, options) => { await startTraining(options); return trainer.status; }],
  ["POST", /^\/api\/train\/(pause|resume|step)$/, (m) => controlTraining(m[1])],
  ["GET", /^\/api\/experiments$/, () => experiment],
  ["POST", /^\/api\/experiments\/(memorize|landscape|sigmoid-vs-relu)$/, (m) => {
    experiment = { ...site.experiments[m[1]], version: experiment.version + 1 };
    return experiment;
  }],
  ["POST", /^\/api\/experiments\/stop$/, () => { throw new Error("no experiment is running: they were run when this site was made"); }],
];

// The server's API, answered here: the same paths, bodies and answers; a refusal is an Error with the server's words.
export async function request(method, path, body) {
  const url = new URL(path, "http://page"), query = url.searchParams;
  for (const [verb, pattern, answer] of ROUTES) {
    const m = verb === method && url.pathname.match(pattern);
    if (m) return structuredClone(await answer(m, query, body));
  }
  throw new Error(`${method} ${url.pathname}: not in the browser's engine`);
}

// What the server's event streams would send: each new status of the training, or of the experiment.
export function listen(path, show) {
  if (path.startsWith("/api/train")) trainer.heard.splice(0, trainer.heard.length, show);
  else experimentsHeard.splice(0, experimentsHeard.length, show);
}

export { download };
export const about = { version: site.version, data: site.data, model: site.model.name };
