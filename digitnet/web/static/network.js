// The network of network.py, for the browser: a' = σ(W a + b), backprop, and a step downhill, in the videos'
// notation. Python is the source of truth; tests/js holds this file to the numbers Python writes.
// A batch is a Float32Array of m rows of numbers in [0, 1]; the parameters are one Float32Array laid out as
// network.py's `layout`: W0 (one row per neuron), b0, W1, b1, ...
// As in network.py, `forward` and `outputs` take images as the page has them and give them to the input layer
// as it takes them (`inputs`: deskewed, if the network deskews); `feedforward`, `backprop` and `step` take the
// input layer as given.
import { ACTIVATIONS, COSTS } from "./functions.js";

// Where each layer's W and b lie in the parameters: for layer l, its start, shape and the start of b.
export function layout(sizes) {
  const places = [];
  let k = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const [nIn, nOut] = [sizes[l], sizes[l + 1]];
    places.push({ w: k, nOut, nIn, b: k + nOut * nIn });
    k += nOut * (nIn + 1);
  }
  return places;
}

export class Network {
  // `registry`: Python's export of functions.py (each cost's output σ)
  constructor({ sizes, activation, cost, params, not_a_digit = false, deskew = false }, registry) {
    if (deskew && Math.round(Math.sqrt(sizes[0])) ** 2 !== sizes[0]) {
      throw new Error(`deskewing needs a square image as input, but ${sizes[0]} inputs are no square`);
    }
    this.sizes = sizes;
    this.activation = activation;
    this.cost = cost;
    this.notADigit = not_a_digit;
    this.deskew = Boolean(deskew);
    this.places = layout(sizes);
    const last = this.places[this.places.length - 1];
    this.params = Float32Array.from(params ?? new Float32Array(last.b + last.nOut));
    this.sigmas = this.places.map((_, l) => (l < this.places.length - 1 ? activation : registry.costs[cost].output));
  }

  copy() {
    const twin = Object.create(Network.prototype);
    return Object.assign(twin, this, { params: this.params.slice() });
  }

  // The m images of x as the input layer takes them (network.py's inputs): deskewed if the network deskews.
  inputs(x, m) { return this.deskew ? deskew(x, m, Math.round(Math.sqrt(this.sizes[0]))) : x; }

  // ---- chapter 1: a' = σ(W a + b) ----

  // Every layer's activations for the m examples of x: [input, hidden..., output].
  feedforward(x, m) {
    const activations = [x];
    let a = x;
    this.places.forEach(({ w, nOut, nIn, b }, l) => {
      const z = new Float32Array(m * nOut);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < nOut; j++) {
          let sum = this.params[b + j];  // W a + b
          for (let k = 0; k < nIn; k++) sum += this.params[w + j * nIn + k] * a[i * nIn + k];
          z[i * nOut + j] = sum;
        }
      }
      activate(z, m, nOut, this.sigmas[l]);
      activations.push((a = z));
    });
    return activations;
  }

  // Every layer's activations for the m images of x, the first layer's as it takes them (network.py's forward).
  forward(x, m) { return this.feedforward(this.inputs(x, m), m); }

  outputs(x, m) { return this.forward(x, m).at(-1); }

  // ---- chapter 2: the cost, its gradient, a step downhill ----

  // The cost of each of the m examples (the sum of its outputs' terms), y the desired outputs.
  costs(outputs, y, m) {
    const n = this.sizes.at(-1), term = COSTS[this.cost].term;
    return Array.from({ length: m }, (_, i) => {
      let c = 0;
      for (let j = 0; j < n; j++) c += term(outputs[i * n + j], y[i * n + j]);
      return c;
    });
  }

  // The gradient of the cost averaged over the batch, laid out as the parameters, and the outputs.
  // δ = ∂C/∂z starts at the output and goes back a layer at a time: δ = (δ' W') ⊙ σ'(z);
  // each layer's ∂C/∂W is δᵀ a of the layer below, and ∂C/∂b is Σ δ.
  backprop(x, y, m) {
    const activations = this.feedforward(x, m);
    const gradient = new Float32Array(this.params.length);
    const out = activations.at(-1), costDelta = COSTS[this.cost].delta;
    let delta = out.map((a, q) => costDelta(a, y[q]) / m);
    for (let l = this.places.length - 1; l >= 0; l--) {
      const { w, nOut, nIn, b } = this.places[l], a = activations[l];
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < nOut; j++) {
          const d = delta[i * nOut + j];
          gradient[b + j] += d;
          for (let k = 0; k < nIn; k++) gradient[w + j * nIn + k] += d * a[i * nIn + k];
        }
      }
      if (l > 0) {  // the input layer has no σ and needs no δ
        const below = new Float32Array(m * nIn), prime = ACTIVATIONS[this.activation].prime;
        for (let i = 0; i < m; i++) {
          for (let k = 0; k < nIn; k++) {
            let sum = 0;
            for (let j = 0; j < nOut; j++) sum += delta[i * nOut + j] * this.params[w + j * nIn + k];
            below[i * nIn + k] = sum * prime(a[i * nIn + k]);
          }
        }
        delta = below;
      }
    }
    return { gradient, outputs: out };
  }

  // One step of gradient descent on the batch: every weight and bias moves by −η ∂C/∂w, or as the
  // optimizer moves it given ∇C; l2 adds λ w to each weight's gradient. Returns the outputs before it.
  step(x, y, m, eta, l2 = 0, optimizer = null) {
    const { gradient, outputs } = this.backprop(x, y, m);
    if (l2) {
      for (const { w, nOut, nIn } of this.places) {
        for (let q = w; q < w + nOut * nIn; q++) gradient[q] += l2 * this.params[q];
      }
    }
    if (optimizer) optimizer.step(this.params, gradient, eta);
    else for (let q = 0; q < this.params.length; q++) this.params[q] -= eta * gradient[q];
    return outputs;
  }
}

// σ(z) in place for m rows of n: element by element, or the whole row for a row-wise σ (softmax).
function activate(z, m, n, sigma) {
  const form = ACTIVATIONS[sigma];
  if (form.row) for (let i = 0; i < m; i++) form.row(z.subarray(i * n, (i + 1) * n));
  else for (let q = 0; q < z.length; q++) z[q] = form.f(z[q]);
}

// ---- deskewing (deskew.py) ----
// Each image sheared so that its strokes stand upright, and centred on its ink. From the ink I's moments, its
// mass centre (r̄, c̄) and slant α = Σ (r − r̄)(c − c̄) I / Σ (r − r̄)² I, the output pixel (r, c) is read at
//     row r + r̄ − m,    column c + α (r − m) + c̄ − m,        m = (side − 1) / 2 (the middle)
// by bilinear interpolation, 0 off the image: a pass down the columns (every one moved by r̄ − m), then one
// along each row (moved by its own α (r − m) + c̄ − m). No ink: left as it is; ink in one row: α = 0.
// Sums in float64 and the pixels in float32, rounded where deskew.py's float32 arrays round them.

// The m images of x (rows of side² pixels), deskewed: a new Float32Array.
export function deskew(x, m, side = Math.round(Math.sqrt(x.length / m))) {
  const n = side * side, out = new Float32Array(m * n), middle = (side - 1) / 2;
  const columns = new Float32Array(n);  // an image after the pass down its columns, row by row
  for (let i = 0; i < m; i++) {
    const image = x.subarray(i * n, (i + 1) * n), { down, across, alpha } = slant(image, side);
    for (let c = 0; c < side; c++) {  // down: every column reads from its rows moved by r̄ − m
      const read = along(Float32Array.from({ length: side }, (_, r) => image[r * side + c]), down - middle);
      read.forEach((v, r) => { columns[r * side + c] = v; });
    }
    for (let r = 0; r < side; r++) {  // across: each row reads from its columns moved by α (r − m) + c̄ − m
      const row = columns.subarray(r * side, (r + 1) * side);
      out.set(along(row, alpha * (r - middle) + (across - middle)), i * n + r * side);
    }
  }
  return out;
}

// The ink's mass centre (rows r̄: down, columns c̄: across) and slant α of one side × side image; an image
// of no ink has its centre in the middle, and α = 0 (as has ink of no spread down the rows).
export function slant(image, side) {
  const middle = (side - 1) / 2, byRow = new Float64Array(side), byColumn = new Float64Array(side);
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) { byRow[r] += image[r * side + c]; byColumn[c] += image[r * side + c]; }
  }
  let mass = 0, rows = 0, columns = 0;
  for (let k = 0; k < side; k++) { mass += byRow[k]; rows += byRow[k] * k; columns += byColumn[k] * k; }
  const down = mass > 0 ? rows / mass : middle, across = mass > 0 ? columns / mass : middle;
  let spread = 0, drift = 0;
  for (let r = 0; r < side; r++) {
    const dr = r - down;
    spread += byRow[r] * dr ** 2;
    for (let c = 0; c < side; c++) drift += dr * image[r * side + c] * (c - across);
  }
  return { down, across, alpha: spread > 0 ? drift / spread : 0 };
}

// The line (side pixels) read at positions 0, 1, ... side − 1 moved by ``offset``, interpolated linearly between
// the two pixels either side, 0 off the line (deskew.py's along): the offset clipped to where both pixels read
// are off the line, the fraction f and the blend (1 − f) a + f b in float32, as deskew.py's arrays are.
export function along(line, offset) {
  const side = line.length, read = new Float32Array(side);
  offset = Math.min(Math.max(offset, -side - 1), side);
  const whole = Math.floor(offset), f = Math.fround(offset - whole), g = Math.fround(1 - f);
  const pixel = (k) => (k >= 0 && k < side ? line[k] : 0);
  for (let k = 0; k < side; k++) read[k] = Math.fround(g * pixel(k + whole)) + Math.fround(f * pixel(k + whole + 1));
  return read;
}

// The desired outputs for labels: 1 for the label's neuron, 0 for the others.
export function oneHot(labels, n) {
  const y = new Float32Array(labels.length * n);
  labels.forEach((label, i) => { y[i * n + label] = 1; });
  return y;
}
