// Settings as JSON files and share links. A face is a noise vector (from a seed, or perturbed or
// interpolated) plus the tag vector it was drawn with; the settings add the controls and the
// noise options. Version 2 adds expert values and the model's name; version 1 files still read.

import { LocalizedError } from "./i18n.js";
import { decodeVector, encodeVector, noiseFromSeed } from "./noise.js";

export const SETTINGS_FORMAT = "anime-gan/settings";
export const SETTINGS_VERSION = 2;

/** The page state as a settings object (what "Export settings" saves). */
export function settingsObject(schema, state) {
  let face = null;
  if (state.face) {
    const { tags, values } = schema.describeVector(state.face.tags);
    face = {
      seed: state.face.seed,
      ...(state.face.seed === null ? { noise: Array.from(state.face.z) } : {}),
      tags,
      ...(Object.keys(values).length ? { values } : {}),
    };
  }
  return {
    format: SETTINGS_FORMAT,
    version: SETTINGS_VERSION,
    model: { name: state.model ?? null, resolution: schema.resolution, z_dim: schema.zDim },
    controls: schema.normalize(state.controls),
    keep_noise: state.keepNoise,
    perturb_amount: state.perturbAmount,
    face,
  };
}

function checkModel(schema, model) {
  if (model == null) return;
  if (typeof model !== "object" || Array.isArray(model)) throw new LocalizedError("err.modelObject");
  if (model.resolution !== undefined && model.resolution !== schema.resolution) {
    throw new LocalizedError("err.modelResolution", { file: JSON.stringify(model.resolution), loaded: schema.resolution });
  }
  if (model.z_dim !== undefined && model.z_dim !== schema.zDim) {
    throw new LocalizedError("err.modelZDim", { file: JSON.stringify(model.z_dim), loaded: schema.zDim });
  }
}

/** Check a parsed settings object; returns {controls, keepNoise, perturbAmount, face}. Throws LocalizedError. */
export function parseSettings(schema, obj) {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) throw new LocalizedError("err.notObject");
  if (obj.format !== SETTINGS_FORMAT) throw new LocalizedError("err.format", { format: SETTINGS_FORMAT });
  if (obj.version !== 1 && obj.version !== 2) {
    throw new LocalizedError("err.version", { version: JSON.stringify(obj.version), supported: "1, 2" });
  }
  checkModel(schema, obj.model);
  const controls = schema.checkControls(obj.controls ?? {});
  const keepNoise = obj.keep_noise ?? false;
  if (typeof keepNoise !== "boolean") throw new LocalizedError("err.keepNoise");
  const perturbAmount = obj.perturb_amount ?? 0.3;
  if (typeof perturbAmount !== "number" || !(perturbAmount >= 0 && perturbAmount <= 1)) {
    throw new LocalizedError("err.perturbAmount");
  }
  return { controls, keepNoise, perturbAmount, face: obj.face == null ? null : parseFace(schema, obj.face) };
}

function parseFace(schema, face) {
  if (typeof face !== "object" || Array.isArray(face)) throw new LocalizedError("err.faceObject");
  const tags = schema.vectorFromNames(face.tags, face.values ?? {});
  const seed = face.seed ?? null;
  if (seed !== null) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new LocalizedError("err.seedRange");
    return { seed, z: noiseFromSeed(seed, schema.zDim), tags };
  }
  const noise = face.noise;
  if (!Array.isArray(noise) || noise.length !== schema.zDim || !noise.every((v) => typeof v === "number" && Number.isFinite(v))) {
    throw new LocalizedError("err.noiseList", { n: schema.zDim });
  }
  return { seed: null, z: Float32Array.from(noise), tags };
}

/** The fixed controls as the share link's "fix" list: tag, -tag, tag:value. */
function fixList(schema, controls) {
  const fixed = [];
  for (const g of schema.exclusive) {
    const v = controls[g.name];
    if (typeof v === "object") fixed.push(...g.tags.map((t) => `${t}:${v[t]}`));
    else if (v !== "random") fixed.push(v);
  }
  for (const t of schema.independent) {
    const v = controls[t];
    if (typeof v === "number") fixed.push(`${t}:${v}`);
    else if (v !== "random") fixed.push(v === "on" ? t : `-${t}`);
  }
  return fixed.join(",");
}

/** The share link's hash: seed or z, the face's tags (and values), the fixed controls, the noise options. */
export function shareHash(schema, state, face = state.face) {
  const p = new URLSearchParams();
  if (face) {
    if (face.seed !== null) p.set("seed", String(face.seed));
    else p.set("z", encodeVector(face.z));
    const { tags, values } = schema.describeVector(face.tags);
    p.set("tags", tags.join(","));
    if (Object.keys(values).length) p.set("values", Object.entries(values).map(([t, v]) => `${t}:${v}`).join(","));
  }
  p.set("fix", fixList(schema, schema.normalize(state.controls)));
  p.set("keep", state.keepNoise ? "1" : "0");
  p.set("amount", String(state.perturbAmount));
  return "#" + p.toString();
}

function splitValue(item) {
  const at = item.lastIndexOf(":");
  if (at < 0) return [item, null];
  const text = item.slice(at + 1);
  if (!/^-?\d+(\.\d+)?$/.test(text)) throw new LocalizedError("err.linkValue", { item });
  return [item.slice(0, at), Number(text)];
}

function parseFix(schema, text) {
  const controls = {};
  for (const item of (text || "").split(",").filter(Boolean)) {
    const [raw, value] = splitValue(item);
    const off = raw.startsWith("-");
    const name = off ? raw.slice(1) : raw;
    if (!schema.index.has(name)) throw new LocalizedError("err.unknownTag", { name });
    const group = schema.groupOf.get(name);
    if (group && off) throw new LocalizedError("err.groupOff", { name });
    if (value !== null) {
      if (off) throw new LocalizedError("err.linkValue", { item });
      if (group) {
        const current = controls[group.name];
        controls[group.name] = { ...(typeof current === "object" ? current : {}), [name]: value };
      } else controls[name] = value;
    } else controls[group ? group.name : name] = group ? name : off ? "off" : "on";
  }
  return controls;
}

/** Parse a share link's hash into the same shape as parseSettings. Throws LocalizedError. */
export function parseShareHash(schema, hash) {
  const p = new URLSearchParams(hash.replace(/^#/, ""));
  const known = new Set(["seed", "z", "tags", "values", "fix", "keep", "amount"]);
  for (const key of p.keys()) if (!known.has(key)) throw new LocalizedError("err.unknownField", { key });
  const controls = parseFix(schema, p.get("fix"));
  const face = {};
  if (p.has("seed") && p.has("z")) throw new LocalizedError("err.seedAndZ");
  if (p.has("seed")) {
    if (!/^\d+$/.test(p.get("seed"))) throw new LocalizedError("err.seedWhole");
    face.seed = Number(p.get("seed"));
  } else if (p.has("z")) {
    face.noise = Array.from(decodeVector(p.get("z"), schema.zDim));
  }
  const hasFace = p.has("seed") || p.has("z");
  if (hasFace !== p.has("tags")) throw new LocalizedError("err.faceParts");
  if (hasFace) {
    face.tags = p.get("tags").split(",").filter(Boolean);
    face.values = {};
    for (const item of (p.get("values") || "").split(",").filter(Boolean)) {
      const [name, value] = splitValue(item);
      if (value === null) throw new LocalizedError("err.linkValue", { item });
      face.values[name] = value;
    }
  }
  const keep = p.get("keep") ?? "0";
  if (keep !== "0" && keep !== "1") throw new LocalizedError("err.keep");
  const amount = p.has("amount") ? Number(p.get("amount")) : 0.3;
  return parseSettings(schema, {
    format: SETTINGS_FORMAT, version: SETTINGS_VERSION, controls, keep_noise: keep === "1",
    perturb_amount: amount, face: hasFace ? face : null,
  });
}
