// Colours come from style.css's variables, the one place they are set.

export function colour(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(`--${name}`).trim();
}

// A variable's colour as [r, g, b], for mixing: "#4aa3ff" → [74, 163, 255].
export function rgb(name) {
  const hex = colour(name).replace("#", "");
  const full = hex.length === 3 ? [...hex].map((c) => c + c).join("") : hex;
  return [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16));
}

// The colour a fraction t of the way from one [r, g, b] to another.
export function blend(from, to, t) { return from.map((c, k) => Math.round(c + (to[k] - c) * t)); }

// The same as CSS.
export function mix(from, to, t) { return `rgb(${blend(from, to, t).join(",")})`; }
