// Noise vectors z ~ N(0, I): reproducible from a 32-bit seed, perturbable, and encodable in a URL.

/** mulberry32: a small, fast 32-bit PRNG; the same seed gives the same stream in every browser. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n standard normal draws (Box-Muller) from a uniform source. */
export function gaussians(n, uniform) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = 1 - uniform(); // (0, 1]: log is finite
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** A fresh random seed (crypto quality, so two visitors do not share faces by accident). */
export function randomSeed() {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

/** The noise vector of a seed. */
export function noiseFromSeed(seed, dim) {
  return gaussians(dim, rng(seed));
}

/**
 * Perturb z by `amount` in [0, 1]: sqrt(1 - a^2) z + a e with e ~ N(0, I), which keeps z's
 * distribution N(0, I). amount 0 keeps the face, 1 gives an unrelated one.
 */
export function perturb(z, amount, seed = randomSeed()) {
  const e = gaussians(z.length, rng(seed));
  const keep = Math.sqrt(Math.max(0, 1 - amount * amount));
  return z.map((v, i) => keep * v + amount * e[i]);
}

/** float32 vector -> base64url (little-endian bytes), for share links. */
export function encodeVector(z) {
  const bytes = new Uint8Array(new Float32Array(z).buffer);
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** base64url -> Float32Array; throws an Error with a readable message when malformed. */
export function decodeVector(text, dim) {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) throw new Error("the noise vector is not base64url text");
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  let raw;
  try {
    raw = atob(padded);
  } catch {
    throw new Error("the noise vector is not valid base64url");
  }
  if (raw.length !== dim * 4) {
    throw new Error(`the noise vector has ${raw.length / 4} numbers, the model needs ${dim}`);
  }
  const bytes = Uint8Array.from(raw, (ch) => ch.charCodeAt(0));
  const z = new Float32Array(bytes.buffer);
  if (!z.every(Number.isFinite)) throw new Error("the noise vector contains non-finite numbers");
  return z;
}
