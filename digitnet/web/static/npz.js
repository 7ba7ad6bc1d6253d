// A network as a digitnet model file (modelfile.py): an .npz, that is a zip of .npy arrays, stored
// uncompressed: ``header`` (the JSON header's UTF-8 bytes), then W0, b0, W1, b1, ... as float32.

const CRC = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// An .npy file (format 1.0): its magic, a header padded to a multiple of 64 bytes, the data.
function npy(descr, shape, data) {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let text = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${dims}, }`;
  text += " ".repeat(63 - ((10 + text.length) % 64)) + "\n";
  const head = new TextEncoder().encode(text), out = new Uint8Array(10 + head.length + data.byteLength);
  out.set([0x93, ..."NUMPY"].map((c) => (typeof c === "string" ? c.charCodeAt(0) : c)));
  out.set([1, 0, head.length & 0xff, head.length >> 8], 6);
  out.set(head, 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + head.length);
  return out;
}

function zip(files) {
  const parts = [], central = [];
  let offset = 0;
  for (const [name, data] of files) {
    const n = new TextEncoder().encode(name), crc = crc32(data);
    const local = new DataView(new ArrayBuffer(30));
    [[0, 0x04034b50, 4], [4, 20, 2], [14, crc, 4], [18, data.length, 4], [22, data.length, 4], [26, n.length, 2]]
      .forEach(([at, v, size]) => (size === 4 ? local.setUint32(at, v, true) : local.setUint16(at, v, true)));
    const entry = new DataView(new ArrayBuffer(46));
    [[0, 0x02014b50, 4], [4, 20, 2], [6, 20, 2], [16, crc, 4], [20, data.length, 4], [24, data.length, 4],
      [28, n.length, 2], [42, offset, 4]]
      .forEach(([at, v, size]) => (size === 4 ? entry.setUint32(at, v, true) : entry.setUint16(at, v, true)));
    parts.push(new Uint8Array(local.buffer), n, data);
    central.push(new Uint8Array(entry.buffer), n);
    offset += 30 + n.length + data.length;
  }
  const size = central.reduce((s, p) => s + p.length, 0), end = new DataView(new ArrayBuffer(22));
  [[0, 0x06054b50, 4], [8, files.length, 2], [10, files.length, 2], [12, size, 4], [16, offset, 4]]
    .forEach(([at, v, width]) => (width === 4 ? end.setUint32(at, v, true) : end.setUint16(at, v, true)));
  return new Blob([...parts, ...central, new Uint8Array(end.buffer)], { type: "application/octet-stream" });
}

// ``net``: network.js's Network; ``header``: the model file's JSON header.
export function npz(net, header) {
  const text = new TextEncoder().encode(JSON.stringify(header));
  const files = [["header.npy", npy("|u1", [text.length], text)]];
  net.places.forEach(({ w, nOut, nIn, b }, l) => {
    files.push([`W${l}.npy`, npy("<f4", [nOut, nIn], net.params.slice(w, w + nOut * nIn))]);
    files.push([`b${l}.npy`, npy("<f4", [nOut], net.params.slice(b, b + nOut))]);
  });
  return zip(files);
}
