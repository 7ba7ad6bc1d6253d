// A drawing made MNIST-like, as images.py's to_mnist makes the one the page sends the server (light
// ink on an even dark paper): the ink's contrast stretched, cropped to the digit, strokes too fine
// thickened, scaled to fit 20×20 as Pillow's Lanczos filter scales it, and its centre of mass put
// at the centre of 28×28. Python is the source of truth: tests/js holds this to to_mnist's numbers.

const MIN_CONTRAST = 0.1, NOISE = 3, SOLID = 0.35, BOX = 20, SIZE = 28, THINNEST = 2.0, CENTRE = 14.0;

// The k-th smallest (from 0) of values counted by whole steps: counts[v] of the value v.
function kth(counts, k) {
  let seen = 0;
  for (let v = 0; v < counts.length; v++) if ((seen += counts[v]) > k) return v;
  return counts.length - 1;
}

// numpy's percentile (linear between the two nearest) of the n values counted.
function quantile(counts, n, q) {
  const at = (n - 1) * q, lo = kth(counts, Math.floor(at)), hi = kth(counts, Math.ceil(at));
  return lo + (hi - lo) * (at - Math.floor(at));
}

// ``bytes``: side × side grey values 0-255, row by row. Returns 784 values in [0, 1], all 0 if there is no ink.
// Every level to_mnist takes of the ink is a byte value or halfway between two: counting the bytes finds them.
export function digitize(bytes, side) {
  const n = bytes.length, counts = new Uint32Array(256);
  for (const b of bytes) counts[b]++;
  const level = quantile(counts, n, 0.5);  // the paper, in bytes: the median
  const spread = new Uint32Array(512);  // |2b − 2 level|, whole numbers
  for (let b = 0; b < 256; b++) spread[Math.abs(2 * b - 2 * level)] += counts[b];
  const sigma = 1.4826 * quantile(spread, n, 0.5) / 2;  // the paper's noise: 1.4826 MAD, in bytes
  const floor = NOISE * sigma;  // the median of the ink, less the paper, is 0
  const ink = (b) => (b - level) / 255;
  let most = 0;
  for (let b = 255; b >= 0; b--) if (counts[b]) { most = b; break; }
  if (ink(most) < floor / 255 + MIN_CONTRAST) return new Float32Array(SIZE * SIZE);
  const above = counts.map((c, b) => (ink(b) > floor / 255 ? c : 0));
  const top = ink(quantile(above, above.reduce((s, c) => s + c, 0), 0.9)), low = floor / 255;
  const scaled = new Float64Array(n);
  for (let i = 0; i < n; i++) scaled[i] = Math.min(1, Math.max(0, (ink(bytes[i]) - low) / Math.max(top - low, 1e-6)));
  return centre(fitBox(bolden(crop({ v: scaled, h: side, w: side }))));
}

// The digit's box: specks under 5 % of the largest stroke's ink dropped, the box around the solid ink.
function crop({ v, h, w }) {
  const label = new Int32Array(v.length), mass = [0];
  for (let start = 0; start < v.length; start++) {  // 4-connected parts, as ndimage.label's
    if (v[start] <= 0 || label[start]) continue;
    const part = mass.length, stack = [start];
    label[start] = part;
    mass.push(0);
    while (stack.length) {
      const p = stack.pop(), c = p % w;
      mass[part] += v[p];
      const next = (q) => { if (v[q] > 0 && !label[q]) { label[q] = part; stack.push(q); } };
      if (p >= w) next(p - w);
      if (p + w < v.length) next(p + w);
      if (c > 0) next(p - 1);
      if (c < w - 1) next(p + 1);
    }
  }
  const largest = Math.max(...mass);
  let [r0, r1, c0, c1] = [h, -1, w, -1];
  const kept = v.map((x, p) => (label[p] && mass[label[p]] >= 0.05 * largest ? x : 0));
  kept.forEach((x, p) => {
    if (x <= SOLID) return;
    const r = Math.floor(p / w), c = p % w;
    r0 = Math.min(r0, r); r1 = Math.max(r1, r); c0 = Math.min(c0, c); c1 = Math.max(c1, c);
  });
  if (r1 < 0) return { v: Float64Array.of(0), h: 1, w: 1 };
  const out = new Float64Array((r1 - r0 + 1) * (c1 - c0 + 1));
  for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) out[(r - r0) * (c1 - c0 + 1) + c - c0] = kept[r * w + c];
  return { v: out, h: r1 - r0 + 1, w: c1 - c0 + 1 };
}

// Strokes much finer than MNIST's thinnest thickened to it, where the digit is big enough to measure one.
function bolden(im) {
  const { v, h, w } = im, scale = BOX / Math.max(h, w);
  const solid = (r, c) => r >= 0 && r < h && c >= 0 && c < w && v[r * w + c] > 0.5;
  let area = 0, edge = 0;
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      if (!solid(r, c)) continue;
      area++;
      if (!(solid(r - 1, c) && solid(r + 1, c) && solid(r, c - 1) && solid(r, c + 1))) edge++;
    }
  }
  if (scale > 0.5 || !area) return im;
  const radius = Math.round((THINNEST - 2 * area / edge * scale) / 2 / scale);
  if (radius < 1) return im;
  const H = h + 2 * radius, W = w + 2 * radius, out = new Float64Array(H * W);
  for (let r = 0; r < H; r++) {
    for (let c = 0; c < W; c++) {
      let most = 0;
      for (let dr = -radius; dr <= radius; dr++) {
        for (let dc = -radius; dc <= radius; dc++) {
          const rr = r + dr - radius, cc = c + dc - radius;
          if (dr * dr + dc * dc <= radius * radius && rr >= 0 && rr < h && cc >= 0 && cc < w) most = Math.max(most, v[rr * w + cc]);
        }
      }
      out[r * W + c] = most;
    }
  }
  return { v: out, h: H, w: W };
}

// Pillow's resize with its Lanczos filter (a = 3, widened when shrinking), one axis at a time.
function lanczos(x) {
  if (x === 0) return 1;
  if (x <= -3 || x >= 3) return 0;
  const px = Math.PI * x;
  return (3 * Math.sin(px) * Math.sin(px / 3)) / (px * px);
}

function resample(src, n, m, count, outer) {
  // src: `outer` lines of `n` values each (spaced `stride` apart along the line); out: m values a line.
  const scale = n / m, filter = Math.max(scale, 1), support = 3 * filter;
  const out = new Float64Array(outer * m);
  for (let j = 0; j < m; j++) {
    const centre = (j + 0.5) * scale;
    const lo = Math.max(Math.trunc(centre - support + 0.5), 0), hi = Math.min(Math.trunc(centre + support + 0.5), n);
    const k = [];
    let total = 0;
    for (let i = lo; i < hi; i++) { const wt = lanczos((i - centre + 0.5) / filter); k.push(wt); total += wt; }
    for (let o = 0; o < outer; o++) {
      let sum = 0;
      for (let i = lo; i < hi; i++) sum += src[count(o, i)] * (total ? k[i - lo] / total : 0);
      out[o * m + j] = sum;
    }
  }
  return out;
}

function fitBox({ v, h, w }) {
  const scale = BOX / Math.max(h, w);
  const W = Math.max(1, Math.round(w * scale)), H = Math.max(1, Math.round(h * scale));
  const across = resample(v, w, W, (r, c) => r * w + c, h);             // h rows of W
  const down = resample(across, h, H, (c, r) => r * W + c, W);          // W columns of H
  const box = new Float64Array(H * W);
  let most = 0;
  for (let c = 0; c < W; c++) for (let r = 0; r < H; r++) most = Math.max(most, (box[r * W + c] = Math.min(1, Math.max(0, down[c * H + r]))));
  return { v: most > 0 ? box.map((x) => x / most) : box, h: H, w: W };
}

function centre({ v, h, w }) {
  const field = new Float32Array(SIZE * SIZE), top = Math.floor((SIZE - h) / 2), left = Math.floor((SIZE - w) / 2);
  let total = 0, rows = 0, cols = 0;
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const x = (field[(top + r) * SIZE + left + c] = v[r * w + c]);
      total += x; rows += x * (top + r); cols += x * (left + c);
    }
  }
  if (!total) return field;
  const even = (x) => (Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x));  // numpy rounds halves to even
  const dr = even(CENTRE - rows / total), dc = even(CENTRE - cols / total);
  const out = new Float32Array(SIZE * SIZE);
  for (let r = 0; r < SIZE; r++) {
    for (let c = 0; c < SIZE; c++) {
      const rr = r - dr, cc = c - dc;
      if (rr >= 0 && rr < SIZE && cc >= 0 && cc < SIZE) out[r * SIZE + c] = field[rr * SIZE + cc];
    }
  }
  return out;
}
