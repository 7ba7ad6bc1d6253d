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
