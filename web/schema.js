// The tag schema and prior of the exported model, and how controls become the model's tag input.
//
// Controls: each exclusive group (hair_color, eye_color) is "random", one of its tags, or (expert
// mode) an object {tag: value} with a value for every tag of the group; every other tag is "on",
// "off", "random" or (expert mode) a value. Expert values run from -100 (absent) to 100 (present)
// and map linearly onto the model's tag input range (model.json io.tag_range, [0, 1]): "off" is
// -100 and "on" is 100. Random controls are drawn from the exported empirical prior.

import { LocalizedError } from "./i18n.js";

export const EXPERT_MIN = -100;
export const EXPERT_MAX = 100;
const TRI = ["off", "random", "on"];

const isValue = (v) => typeof v === "number" && Number.isFinite(v) && v >= EXPERT_MIN && v <= EXPERT_MAX;

export class Schema {
  /** @param model the exported model.json */
  constructor(model) {
    this.zDim = model.z_dim;
    this.resolution = model.resolution;
    this.tags = model.schema.tags;
    this.groups = model.schema.groups;
    // exports before these fields: the project's tag range and its one pair of opposites
    this.opposites = model.schema.opposites ?? [["long hair", "short hair"]];
    [this.lo, this.hi] = model.io?.tag_range ?? [0, 1];
    this.prior = model.prior;
    this.index = new Map(this.tags.map((t, i) => [t, i]));
    this.exclusive = this.groups.filter((g) => g.exclusive);
    this.independent = this.groups.filter((g) => !g.exclusive).flatMap((g) => g.tags);
    this.groupOf = new Map(this.exclusive.flatMap((g) => g.tags.map((t) => [t, g])));
  }

  /** An expert value (-100..100) as the model's tag input. */
  toInput(value) {
    return this.lo + ((value - EXPERT_MIN) / (EXPERT_MAX - EXPERT_MIN)) * (this.hi - this.lo);
  }

  /** A tag input as an expert value, rounded to a whole number. */
  toValue(input) {
    return Math.round(EXPERT_MIN + ((input - this.lo) / (this.hi - this.lo)) * (EXPERT_MAX - EXPERT_MIN));
  }

  /** Every control on "random". */
  defaultControls() {
    const controls = {};
    for (const g of this.exclusive) controls[g.name] = "random";
    for (const t of this.independent) controls[t] = "random";
    return controls;
  }

  /** Expert values that equal an on/off/one-tag setting are written as that setting. */
  normalize(controls) {
    const out = { ...controls };
    for (const g of this.exclusive) {
      const v = out[g.name];
      if (typeof v !== "object" || v === null) continue;
      const on = g.tags.filter((t) => v[t] === EXPERT_MAX);
      if (on.length === 1 && g.tags.every((t) => t === on[0] || v[t] === EXPERT_MIN)) out[g.name] = on[0];
    }
    for (const t of this.independent) {
      if (out[t] === EXPERT_MAX) out[t] = "on";
      else if (out[t] === EXPERT_MIN) out[t] = "off";
    }
    return out;
  }

  /** Check a controls object; missing controls are "random". Throws LocalizedError. */
  checkControls(obj) {
    if (obj === null || typeof obj !== "object" || Array.isArray(obj)) throw new LocalizedError("err.controlsObject");
    const controls = this.defaultControls();
    for (const [key, value] of Object.entries(obj)) {
      if (!(key in controls)) throw new LocalizedError("err.unknownControl", { key });
      const group = this.exclusive.find((g) => g.name === key);
      const bad = () => new LocalizedError("err.badControl", { key, value: JSON.stringify(value) });
      if (group) {
        if (typeof value === "object" && value !== null && !Array.isArray(value)) {
          const tags = Object.keys(value);
          if (!tags.every((t) => group.tags.includes(t) && isValue(value[t]))) throw bad();
          controls[key] = Object.fromEntries(group.tags.map((t) => [t, value[t] ?? EXPERT_MIN]));
        } else if (["random", ...group.tags].includes(value)) controls[key] = value;
        else throw bad();
      } else if (TRI.includes(value) || isValue(value)) controls[key] = value;
      else throw bad();
    }
    for (const [a, b] of this.opposites) {
      if (controls[a] === "on" && controls[b] === "on") throw new LocalizedError("err.opposites", { a, b });
    }
    return this.normalize(controls);
  }

  /**
   * The tag vector for `controls`: fixed controls as set, random ones drawn from the prior.
   * With `previous` (a vector) and `changed` (a control name), only `changed` is drawn again:
   * the other random tags keep their previous values, so one change changes one thing.
   * Opposite tags (long and short hair) drawn both present lose the randomly drawn one.
   */
  resolve(controls, uniform, previous = null, changed = null) {
    const c = new Float32Array(this.tags.length).fill(this.lo);
    const redraw = (key) => previous === null || key === changed;
    const drawn = new Set();
    for (const g of this.exclusive) {
      const v = controls[g.name];
      const idx = g.tags.map((t) => this.index.get(t));
      if (typeof v === "object" && v !== null) g.tags.forEach((t, k) => { c[idx[k]] = this.toInput(v[t]); });
      else if (v !== "random") c[this.index.get(v)] = this.hi;
      else if (!redraw(g.name)) idx.forEach((i) => { c[i] = previous[i]; });
      else c[this.index.get(drawCategorical(this.prior.groups[g.name], uniform))] = this.hi;
    }
    for (const t of this.independent) {
      const i = this.index.get(t);
      const v = controls[t];
      if (v === "on" || v === "off") c[i] = v === "on" ? this.hi : this.lo;
      else if (typeof v === "number") c[i] = this.toInput(v);
      else if (!redraw(t)) c[i] = previous[i];
      else {
        c[i] = uniform() < this.prior.tags[t] ? this.hi : this.lo;
        drawn.add(t);
      }
    }
    const half = (this.lo + this.hi) / 2;
    for (const [a, b] of this.opposites) {
      const [ia, ib] = [this.index.get(a), this.index.get(b)];
      if (!(c[ia] > half && c[ib] > half)) continue;
      const random = [a, b].filter((t) => drawn.has(t) || (controls[t] === "random" && !redraw(t)));
      if (random.length === 0) continue; // both set by the visitor (expert values): their choice
      const drop = random.length === 2 ? random[uniform() < 0.5 ? 0 : 1] : random[0];
      c[this.index.get(drop)] = this.lo;
    }
    return c;
  }

  /** The tags shown for a face: those past the middle of the range. */
  namesFromVector(c) {
    const half = (this.lo + this.hi) / 2;
    return this.tags.filter((_, i) => c[i] > half);
  }

  /** Present tags (at the top of the range) and the other values that are not absent. */
  describeVector(c) {
    const tags = [];
    const values = {};
    this.tags.forEach((t, i) => {
      if (c[i] === this.hi) tags.push(t);
      else if (c[i] !== this.lo) values[t] = round6(c[i]);
    });
    return { tags, values };
  }

  /** Tag names (+ optional {tag: input value}) -> vector. An exclusive group without values
   * has exactly one tag. Throws LocalizedError. */
  vectorFromNames(names, values = {}) {
    if (!Array.isArray(names)) throw new LocalizedError("err.tagsList");
    if (values === null || typeof values !== "object" || Array.isArray(values)) throw new LocalizedError("err.valuesObject");
    const c = new Float32Array(this.tags.length).fill(this.lo);
    for (const name of names) {
      if (!this.index.has(name)) throw new LocalizedError("err.unknownTag", { name });
      c[this.index.get(name)] = this.hi;
    }
    for (const [name, v] of Object.entries(values)) {
      if (!this.index.has(name)) throw new LocalizedError("err.unknownTag", { name });
      if (!(typeof v === "number" && v >= Math.min(this.lo, this.hi) && v <= Math.max(this.lo, this.hi))) {
        throw new LocalizedError("err.badValue", { name, lo: this.lo, hi: this.hi });
      }
      c[this.index.get(name)] = v;
    }
    for (const g of this.exclusive) {
      if (g.tags.some((t) => t in values)) continue;
      const n = g.tags.filter((t) => c[this.index.get(t)] === this.hi).length;
      if (n !== 1) throw new LocalizedError("err.exactlyOne", { group: g.name.replace("_", " "), n });
    }
    return c;
  }
}

const round6 = (x) => Math.round(x * 1e6) / 1e6;

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
