// The registry's activations and costs (digitnet/functions.py) for the browser's engine: each one's form
// for a single number, by the registry's name. Which σ a cost's output layer takes, each activation's
// starting gain and which one is row-wise come from the registry itself (`registry`, exported by Python);
// tests/js checks that these forms cover exactly its names, and match Python's numbers.

export const ACTIVATIONS = {
  sigmoid: { f: (z) => 0.5 * (1 + Math.tanh(0.5 * z)), prime: (a) => a * (1 - a) },  // 1 / (1 + e^−z)
  relu: { f: (z) => (z > 0 ? z : 0), prime: (a) => (a > 0 ? 1 : 0) },
  tanh: { f: Math.tanh, prime: (a) => 1 - a * a },
  // e^z / Σ e^z over the row, less the row's largest z so that e^z cannot overflow
  softmax: {
    row(z) {
      const top = Math.max(...z);
      let total = 0;
      for (let j = 0; j < z.length; j++) total += (z[j] = Math.exp(z[j] - top));
      for (let j = 0; j < z.length; j++) z[j] /= total;
    },
  },
};

export const COSTS = {
  // ½ (a − y)² each output; δ = (a − y) σ'(z) with the sigmoid outputs it is paired with
  quadratic: { term: (a, y) => 0.5 * (a - y) * (a - y), delta: (a, y) => (a - y) * a * (1 - a) },
  // −y ln a: only the right answer's −ln a counts; with softmax outputs σ'(z) cancels: δ = a − y
  "cross-entropy": { term: (a, y) => (y > 0 ? -y * Math.log(a) : 0), delta: (a, y) => a - y },
};

// The names the registry has and these forms lack (none, the tests check).
export function missing(registry) {
  return [...Object.keys(registry.activations).filter((name) => !(name in ACTIVATIONS)),
    ...Object.keys(registry.costs).filter((name) => !(name in COSTS))];
}
