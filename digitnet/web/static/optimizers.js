// How a step downhill moves the parameters, given the gradient, as optimizers.py moves them: plain gradient
// descent (with momentum) and Adam, each stepping the one Float32Array of parameters.

// Memory too small to be a normal float32 is set to 0, as optimizers.py's flush does.
const TINY = 1.1754943508222875e-38;
const flushed = (s) => (Math.abs(s) < TINY ? 0 : s);

// w ← w − η ∇C; with momentum μ: v ← μ v − η ∇C, then w ← w + v.
export class SGD {
  constructor(n, momentum = 0) { this.momentum = momentum; this.velocity = new Float32Array(n); }

  step(w, gradient, eta) {
    for (let q = 0; q < w.length; q++) {
      if (this.momentum) {
        this.velocity[q] = flushed(this.momentum * this.velocity[q] - eta * gradient[q]);
        w[q] += this.velocity[q];
      } else {
        w[q] -= eta * gradient[q];
      }
    }
  }
}

// Adam (Kingma & Ba 2015): each parameter steps by a running mean m of its gradient over the running
// root-mean-square √v; the bias corrections are folded into the step size.
export class Adam {
  constructor(n, beta1 = 0.9, beta2 = 0.999, eps = 1e-8) {
    Object.assign(this, { beta1, beta2, eps, t: 0, m: new Float32Array(n), v: new Float32Array(n) });
  }

  step(w, gradient, eta) {
    this.t += 1;
    const { beta1, beta2, eps, m, v } = this;
    const size = eta * Math.sqrt(1 - beta2 ** this.t) / (1 - beta1 ** this.t);
    for (let q = 0; q < w.length; q++) {
      m[q] = flushed(beta1 * m[q] + (1 - beta1) * gradient[q]);
      v[q] = flushed(beta2 * v[q] + (1 - beta2) * gradient[q] ** 2);
      w[q] -= size * m[q] / (Math.sqrt(v[q]) + eps);
    }
  }
}

export function make(name, n, momentum = 0) {
  return name === "adam" ? new Adam(n) : new SGD(n, momentum);
}
