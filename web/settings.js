// The tag schema and prior of the exported model, the controls, and settings as JSON / share links.
//
// Controls: each exclusive group (hair_color, eye_color) is "random" or one of its tags; every
// other tag is "on", "off" or "random". A face is a noise vector (from a seed, or perturbed) plus
// the 34 tags it was drawn with. Random controls are drawn from the exported empirical prior.

import { decodeVector, encodeVector, noiseFromSeed } from "./noise.js";

export const SETTINGS_FORMAT = "anime-gan/settings";
export const SETTINGS_VERSION = 1;
const TRI = ["off", "random", "on"];

export class Schema {
  /** @param model the exported model.json */
  constructor(model) {
    this.zDim = model.z_dim;
    this.resolution = model.resolution;
    this.tags = model.schema.tags;
    this.groups = model.schema.groups;
    this.prior = model.prior;
    this.index = new Map(this.tags.map((t, i) => [t, i]));
    this.exclusive = this.groups.filter((g) => g.exclusive);
    this.independent = this.groups.filter((g) => !g.exclusive).flatMap((g) => g.tags);
    this.groupOf = new Map(this.exclusive.flatMap((g) => g.tags.map((t) => [t, g])));
  }

  /** Every control on "random". */
  defaultControls() {
    const controls = {};
    for (const g of this.exclusive) controls[g.name] = "random";
    for (const t of this.independent) controls[t] = "random";
    return controls;
  }

  /** Check a controls object; missing controls are "random". Throws Error(reason). */
  checkControls(obj) {
    if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
      throw new Error('"controls" must be an object');
    }
    const controls = this.defaultControls();
    for (const [key, value] of Object.entries(obj)) {
      if (!(key in controls)) throw new Error(`unknown control "${key}"`);
      const group = this.exclusive.find((g) => g.name === key);
      const allowed = group ? ["random", ...group.tags] : TRI;
      if (!allowed.includes(value)) throw new Error(`"${key}" cannot be ${JSON.stringify(value)}`);
      controls[key] = value;
    }
    return controls;
  }

  /**
   * The 34-tag vector for `controls`: fixed controls as set, random ones drawn from the prior.
   * With `previous` (a vector) and `changed` (a control name), only `changed` is drawn again:
   * the other random tags keep their previous values, so one change changes one thing.
   */
  resolve(controls, uniform, previous = null, changed = null) {
    const c = new Float32Array(this.tags.length);
    const redraw = (key) => previous === null || key === changed;
    for (const g of this.exclusive) {
      let pick = controls[g.name];
      if (pick === "random" && !redraw(g.name)) pick = g.tags.find((t) => previous[this.index.get(t)] > 0.5);
      if (pick === "random" || pick === undefined) pick = drawCategorical(this.prior.groups[g.name], uniform);
      c[this.index.get(pick)] = 1;
    }
    for (const t of this.independent) {
      const i = this.index.get(t);
      const v = controls[t];
      if (v === "on" || v === "off") c[i] = v === "on" ? 1 : 0;
      else c[i] = redraw(t) ? Number(uniform() < this.prior.tags[t]) : previous[i];
    }
    return c;
  }

  /** Tag names -> vector; exactly one tag per exclusive group. Throws Error(reason). */
  vectorFromNames(names) {
    if (!Array.isArray(names)) throw new Error('"tags" must be a list of tag names');
    const c = new Float32Array(this.tags.length);
    for (const name of names) {
      if (!this.index.has(name)) throw new Error(`unknown tag "${name}"`);
      c[this.index.get(name)] = 1;
    }
    for (const g of this.exclusive) {
      const n = g.tags.filter((t) => c[this.index.get(t)] > 0).length;
      if (n !== 1) throw new Error(`a face has exactly one ${g.name.replace("_", " ")} tag, these tags have ${n}`);
    }
    return c;
  }

  namesFromVector(c) {
    return this.tags.filter((_, i) => c[i] > 0.5);
  }
}

function drawCategorical(probs, uniform) {
  const entries = Object.entries(probs);
  const total = entries.reduce((s, [, p]) => s + p, 0);
  let u = uniform() * total;
  for (const [tag, p] of entries) {
    u -= p;
    if (u < 0) return tag;
  }
  return entries[entries.length - 1][0];
}

/** The page state as a settings object (what "Export settings" saves). */
export function settingsObject(schema, state) {
  const face = state.face && {
    seed: state.face.seed,
    ...(state.face.seed === null ? { noise: Array.from(state.face.z) } : {}),
    tags: schema.namesFromVector(state.face.tags),
  };
  return {
    format: SETTINGS_FORMAT,
    version: SETTINGS_VERSION,
    model: { resolution: schema.resolution, z_dim: schema.zDim },
    controls: { ...state.controls },
    keep_noise: state.keepNoise,
    perturb_amount: state.perturbAmount,
    face: face || null,
  };
}

/** Check a parsed settings object; returns {controls, keepNoise, perturbAmount, face}. Throws Error. */
export function parseSettings(schema, obj) {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) throw new Error("it is not a JSON object");
  if (obj.format !== SETTINGS_FORMAT) throw new Error(`"format" is not "${SETTINGS_FORMAT}"`);
  if (obj.version !== SETTINGS_VERSION) throw new Error(`version ${JSON.stringify(obj.version)} is not ${SETTINGS_VERSION}`);
  const controls = schema.checkControls(obj.controls ?? {});
  const keepNoise = obj.keep_noise ?? false;
  if (typeof keepNoise !== "boolean") throw new Error('"keep_noise" must be true or false');
  const perturbAmount = obj.perturb_amount ?? 0.3;
  if (typeof perturbAmount !== "number" || !(perturbAmount >= 0 && perturbAmount <= 1)) {
    throw new Error('"perturb_amount" must be a number from 0 to 1');
  }
  return { controls, keepNoise, perturbAmount, face: obj.face == null ? null : parseFace(schema, obj.face) };
}

function parseFace(schema, face) {
  if (typeof face !== "object" || Array.isArray(face)) throw new Error('"face" must be an object');
  const tags = schema.vectorFromNames(face.tags);
  const seed = face.seed ?? null;
  if (seed !== null) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error('"seed" must be an integer from 0 to 4294967295');
    return { seed, z: noiseFromSeed(seed, schema.zDim), tags };
  }
  const noise = face.noise;
  if (!Array.isArray(noise) || noise.length !== schema.zDim || !noise.every((v) => typeof v === "number" && Number.isFinite(v))) {
    throw new Error(`"noise" must be a list of ${schema.zDim} finite numbers (or give a "seed")`);
  }
  return { seed: null, z: Float32Array.from(noise), tags };
}

/** The share link's hash: seed or z, the face's tags, the fixed controls, the noise options. */
export function shareHash(schema, state) {
  const p = new URLSearchParams();
  if (state.face) {
    if (state.face.seed !== null) p.set("seed", String(state.face.seed));
    else p.set("z", encodeVector(state.face.z));
    p.set("tags", schema.namesFromVector(state.face.tags).join(","));
  }
  const fixed = [];
  for (const g of schema.exclusive) if (state.controls[g.name] !== "random") fixed.push(state.controls[g.name]);
  for (const t of schema.independent) {
    if (state.controls[t] !== "random") fixed.push(state.controls[t] === "on" ? t : `-${t}`);
  }
  p.set("fix", fixed.join(","));
  p.set("keep", state.keepNoise ? "1" : "0");
  p.set("amount", String(state.perturbAmount));
  return "#" + p.toString();
}

/** Parse a share link's hash into the same shape as parseSettings. Throws Error(reason). */
export function parseShareHash(schema, hash) {
  const p = new URLSearchParams(hash.replace(/^#/, ""));
  const known = new Set(["seed", "z", "tags", "fix", "keep", "amount"]);
  for (const key of p.keys()) if (!known.has(key)) throw new Error(`unknown field "${key}"`);
  const controls = {};
  for (const item of (p.get("fix") || "").split(",").filter(Boolean)) {
    const off = item.startsWith("-");
    const name = off ? item.slice(1) : item;
    if (!schema.index.has(name)) throw new Error(`unknown tag "${name}"`);
    const group = schema.groupOf.get(name);
    if (group && off) throw new Error(`"${name}" belongs to a group with one choice: it cannot be off`);
    controls[group ? group.name : name] = group ? name : off ? "off" : "on";
  }
  const face = {};
  if (p.has("seed") && p.has("z")) throw new Error("give a seed or a noise vector, not both");
  if (p.has("seed")) {
    if (!/^\d+$/.test(p.get("seed"))) throw new Error("the seed is not a whole number");
    face.seed = Number(p.get("seed"));
  } else if (p.has("z")) {
    face.noise = Array.from(decodeVector(p.get("z"), schema.zDim));
  }
  const hasFace = p.has("seed") || p.has("z");
  if (hasFace !== p.has("tags")) throw new Error("a face needs both its noise (seed or z) and its tags");
  if (hasFace) face.tags = p.get("tags").split(",").filter(Boolean);
  const keep = p.get("keep") ?? "0";
  if (keep !== "0" && keep !== "1") throw new Error('"keep" must be 0 or 1');
  const amount = p.has("amount") ? Number(p.get("amount")) : 0.3;
  return parseSettings(schema, {
    format: SETTINGS_FORMAT, version: SETTINGS_VERSION, controls, keep_noise: keep === "1",
    perturb_amount: amount, face: hasFace ? face : null,
  });
}
