// A small random stream from a seed (mulberry32), the same in the page and in the worker that trains:
// the static site's examples and its training order are seeded, as Python's are (with another generator).

export function seeded(seed) {  // mulberry32: a small random stream from a seed
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

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
    const net = make(data.params, { ...site.model, sizes: data.sizes, activation: options.activation, cost: options.cost,
      not_a_digit: false, outputs: site.model.outputs.slice(0, DIGITS) });
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
