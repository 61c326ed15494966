// Noise vectors z ~ N(0, I): reproducible from a 32-bit seed, perturbable, interpolable, and
// encodable in a URL.

import { LocalizedError } from "./i18n.js";

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

/** base64url -> Float32Array; throws a LocalizedError with a readable message when malformed. */
export function decodeVector(text, dim) {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) throw new LocalizedError("err.noiseText");
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  let raw;
  try {
    raw = atob(padded);
  } catch {
    throw new LocalizedError("err.noiseBase64");
  }
  if (raw.length % 4 !== 0) throw new LocalizedError("err.noiseBytes", { bytes: raw.length, n: dim });
  if (raw.length !== dim * 4) throw new LocalizedError("err.noiseLength", { count: raw.length / 4, n: dim });
  const bytes = Uint8Array.from(raw, (ch) => ch.charCodeAt(0));
  const z = new Float32Array(bytes.buffer);
  if (!z.every(Number.isFinite)) throw new LocalizedError("err.noiseFinite");
  return z;
}

/** A short hex name of a vector (FNV-1a over its float32 bytes): the same noise, the same name. */
export function vectorId(z) {
  let h = 0x811c9dc5;
  for (const b of new Uint8Array(new Float32Array(z).buffer)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

export const INTERPOLATIONS = ["linear", "spherical", "polar"];

/**
 * The noise between a (t = 0) and b (t = 1):
 * - linear: (1 - t) a + t b (the midpoint of two N(0, I) vectors is shorter than either);
 * - spherical: along the great circle from a to b, the length going linearly from |a| to |b|
 *   (slerp; linear when a and b point the same way);
 * - polar: cos(t pi/2) a + sin(t pi/2) b, which keeps N(0, I) for independent a and b.
 */
export function interpolateNoise(a, b, t, method = "linear") {
  const out = new Float32Array(a.length);
  if (method === "polar") {
    const [ca, cb] = [Math.cos((t * Math.PI) / 2), Math.sin((t * Math.PI) / 2)];
    for (let i = 0; i < a.length; i++) out[i] = ca * a[i] + cb * b[i];
    return out;
  }
  if (method === "spherical") {
    let [dot, na, nb] = [0, 0, 0];
    for (let i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    [na, nb] = [Math.sqrt(na), Math.sqrt(nb)];
    const omega = na && nb ? Math.acos(Math.min(1, Math.max(-1, dot / (na * nb)))) : 0;
    if (Math.sin(omega) > 1e-6) {
      const length = (1 - t) * na + t * nb;
      const wa = (Math.sin((1 - t) * omega) / Math.sin(omega)) * (length / na);
      const wb = (Math.sin(t * omega) / Math.sin(omega)) * (length / nb);
      for (let i = 0; i < a.length; i++) out[i] = wa * a[i] + wb * b[i];
      return out;
    }
  } else if (method !== "linear") {
    throw new Error(`unknown interpolation ${method}`);
  }
  for (let i = 0; i < a.length; i++) out[i] = (1 - t) * a[i] + t * b[i];
  return out;
}

/** Tags between a and b: always linear (the tag input is a range, not a direction). */
export function interpolateTags(a, b, t) {
  return a.map((v, i) => (1 - t) * v + t * b[i]);
}
