// The page's one state object: what the server last said and what the visitor is doing.
// The page only draws and asks: every number on it comes from the Python package through /api.

export const state = {
  model: null,       // GET /api/model: sizes, accuracy, edits, strongest connections, save_to
  options: null,     // GET /api/options: the Train panel's choices, from the package's registries
  look: null,        // the latest prediction: input, every layer's a and z, answer
  source: "canvas",  // what the network looks at: the canvas, or an example's pixels (0-255)
  selected: null,    // the clicked neuron, {layer, neuron}
  positions: [],     // [layer][i] = {x, y} of each drawn unit; layer 0 is the input grid
  tool: "pen",       // "pen" or "eraser"
  timer: null,       // a prediction waiting for its turn (at most ten a second)
  inFlight: false,   // a prediction on its way
  asked: 0,          // predictions asked for so far: only the latest one's answer is shown
  training: { state: "idle", history: [], epochs: 0 },
  epochsShown: -1,   // epochs of training the page has taken its network from
  label: null,       // the digit the learner says this is: the cost is worked out for it, and taught
  testIndex: null,   // which test image the network looks at, while it looks at one unchanged
  step: null,        // the last teaching step: before and after, the nudges
  experiment: null,  // GET /api/experiments: the visitor's experiment and what it has measured
  ended: false,      // the server said this session has ended (its work is gone): the page stops asking for news
};

// What output d stands for, as the server names it ("3", "not a digit"), and under a bar or a neuron
// ("3", "none"); "not a digit" is the last output of a network trained on noise as well.
export function named(d) { return state.model.outputs[d]; }
export function notADigit(d) { return Boolean(state.model?.not_a_digit) && d === state.model.outputs.length - 1; }
export function tag(d) { return notADigit(d) ? "none" : named(d); }
// How many outputs are digits (the dreams, the Train panel's networks).
export function digitCount() { return state.model.outputs.length - (state.model.not_a_digit ? 1 : 0); }

// The images' side (28 for MNIST): the input layer is side × side pixels.
export function side() { return Math.round(Math.sqrt(state.model.sizes[0])); }

// For tests and curious people: the page's state, from the browser's console.
window.digitnet = state;
