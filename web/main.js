// The page: model loading, the face, the noise, history, settings files and share links.
// Query options: ?variant=fp32|fp16|int8  ?threads=N  ?backend=auto|wasm|webgpu

import { buildControls, readControls, writeControls } from "./controls.js";
import { noiseFromSeed, perturb, randomSeed } from "./noise.js";
import { Schema, parseSettings, parseShareHash, settingsObject, shareHash } from "./settings.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const HISTORY_SIZE = 24;
const state = { controls: {}, keepNoise: false, perturbAmount: 0.3, face: null };
let schema = null;
let worker = null;
let info = {};
const pending = new Map();
let nextId = 1;
let running = null; // the render in flight (a promise), and the one queued behind it
let queued = null;

function showMessage(text, kind = "error") {
  $("message-text").textContent = text;
  $("message").className = `message ${kind}`;
  $("message").hidden = false;
}

function infer(z, c, n = 1) {
  const id = nextId++;
  worker.postMessage({ type: "run", id, z, c, n });
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}

function onWorkerMessage({ data }) {
  if (data.type === "progress") {
    const mb = (x) => (x / 1e6).toFixed(1);
    $("status").textContent = `downloading the model… ${mb(data.loaded)}${data.total ? ` / ${mb(data.total)}` : ""} MB`;
  } else if (data.type === "ready" || (data.type === "error" && data.id === undefined)) {
    pending.get(0)?.[data.type === "ready" ? "resolve" : "reject"](data);
  } else if (pending.has(data.id)) {
    const { resolve, reject } = pending.get(data.id);
    pending.delete(data.id);
    data.type === "error" ? reject(new Error(data.message)) : resolve(data);
  }
}

function drawPixels(pixels, size) {
  const canvas = $("face");
  canvas.width = canvas.height = size;
  canvas.getContext("2d").putImageData(new ImageData(pixels, size, size), 0, 0);
}

function showFace(face, ms) {
  state.face = face;
  $("timing").textContent = ms === null ? "from history" : `${ms.toFixed(1)} ms`;
  $("timing").dataset.ms = ms === null ? "" : ms.toFixed(2);
  $("noise-info").textContent = face.seed !== null ? `seed ${face.seed}` : "perturbed noise";
  $("face-tags").replaceChildren(...schema.namesFromVector(face.tags).map((t) => {
    const span = document.createElement("span");
    span.textContent = t;
    return span;
  }));
  history.replaceState(null, "", shareHash(schema, state));
}

async function renderNow(face) {
  $("busy").hidden = false;
  try {
    const { pixels, size, ms } = await infer(face.z, face.tags);
    drawPixels(pixels, size);
    showFace(face, ms);
    addHistory(face, ms);
  } catch (error) {
    showMessage(`The face could not be generated: ${error.message}`);
  } finally {
    $("busy").hidden = true;
  }
}

/** Render `face`; while one render runs, only the latest request waits behind it. */
function render(face) {
  if (running) {
    queued = face;
    return running;
  }
  running = (async () => {
    let next = face;
    while (next) {
      queued = null;
      await renderNow(next);
      next = queued;
    }
    running = null;
  })();
  return running;
}

function addHistory(face, ms) {
  const img = document.createElement("img");
  img.src = $("face").toDataURL("image/png");
  img.alt = schema.namesFromVector(face.tags).join(", ");
  const button = document.createElement("button");
  button.className = "thumb";
  button.title = `${img.alt} (${ms.toFixed(1)} ms)`;
  button.append(img);
  const controls = { ...state.controls };
  button.addEventListener("click", () => {
    state.controls = { ...controls };
    writeControls($("controls"), schema, state.controls);
    const image = new Image();
    image.onload = () => {
      const canvas = $("face");
      canvas.getContext("2d").drawImage(image, 0, 0);
      showFace(face, null);
    };
    image.src = img.src;
  });
  const strip = $("history");
  strip.prepend(button);
  while (strip.children.length > HISTORY_SIZE) strip.lastChild.remove();
}

function generate() {
  const keep = state.keepNoise && state.face;
  const seed = keep ? state.face.seed : randomSeed();
  const z = keep ? state.face.z : noiseFromSeed(seed, schema.zDim);
  return render({ seed, z, tags: schema.resolve(state.controls, Math.random) });
}

/** Apply parsed settings (from a file or a link): controls, noise options, and the face. */
function applySettings(parsed) {
  state.controls = parsed.controls;
  state.keepNoise = parsed.keepNoise;
  state.perturbAmount = parsed.perturbAmount;
  writeControls($("controls"), schema, state.controls);
  $("keep-noise").checked = state.keepNoise;
  $("amount").value = String(state.perturbAmount);
  $("amount-out").value = state.perturbAmount.toFixed(2);
  if (parsed.face) return render(parsed.face);
  if (state.face) return render({ ...state.face, tags: schema.resolve(state.controls, Math.random) });
  return generate();
}

function applyLink(hash) {
  let parsed;
  try {
    parsed = parseShareHash(schema, hash);
  } catch (error) {
    showMessage(`This share link could not be read: ${error.message}. The current face and settings are kept.`);
    if (state.face) history.replaceState(null, "", shareHash(schema, state));
    return state.face ? Promise.resolve() : generate();
  }
  return applySettings(parsed);
}

async function importFile(file) {
  try {
    let obj;
    try {
      obj = JSON.parse(await file.text());
    } catch {
      throw new Error("it is not valid JSON");
    }
    const parsed = parseSettings(schema, obj);
    await applySettings(parsed);
    showMessage(`Imported the settings from ${file.name}.`, "info");
  } catch (error) {
    showMessage(`The settings file ${file.name} was not imported: ${error.message}. The current settings are kept.`);
  }
}

function saveBlob(blob, name) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

function wire() {
  $("generate").addEventListener("click", () => generate());
  $("keep-noise").addEventListener("change", (e) => { state.keepNoise = e.target.checked; });
  $("amount").addEventListener("input", (e) => {
    state.perturbAmount = Number(e.target.value);
    $("amount-out").value = state.perturbAmount.toFixed(2);
  });
  $("perturb").addEventListener("click", () => state.face && render({
    seed: null, z: perturb(state.face.z, state.perturbAmount), tags: state.face.tags,
  }));
  $("download").addEventListener("click", () => $("face").toBlob((blob) => {
    saveBlob(blob, `anime-gan-${state.face?.seed ?? "perturbed"}.png`);
  }, "image/png"));
  $("share").addEventListener("click", async () => {
    const url = location.href;
    try {
      await navigator.clipboard.writeText(url);
      showMessage("The share link is copied (it is also in the address bar).", "info");
    } catch {
      showMessage(`Share link: ${url}`, "info");
    }
  });
  $("export").addEventListener("click", () => {
    const text = JSON.stringify(settingsObject(schema, state), null, 2);
    saveBlob(new Blob([text], { type: "application/json" }), "anime-gan-settings.json");
  });
  $("import").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    e.target.value = "";
    if (file) await importFile(file);
  });
  $("all-random").addEventListener("click", () => {
    state.controls = schema.defaultControls();
    writeControls($("controls"), schema, state.controls);
  });
  $("smooth").addEventListener("change", (e) => $("face").classList.toggle("smooth", e.target.checked));
  $("message-close").addEventListener("click", () => { $("message").hidden = true; });
  window.addEventListener("hashchange", () => applyLink(location.hash));
}

async function benchmark(n = 20, warmup = 3) {
  const times = [];
  for (let i = 0; i < warmup + n; i++) {
    const z = noiseFromSeed(i + 1, schema.zDim);
    const { ms } = await infer(z, schema.resolve(state.controls, Math.random));
    if (i >= warmup) times.push(ms);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { ...info, n, median_ms: median, mean_ms: times.reduce((a, b) => a + b, 0) / n, min_ms: sorted[0], times_ms: times };
}

async function start() {
  const response = await fetch("model/model.json");
  if (!response.ok) throw new Error("there is no exported model at model/model.json (run `anime-gan export`)");
  const model = await response.json();
  schema = new Schema(model);
  const variant = params.get("variant") ?? model.default_variant;
  const entry = model.models[variant];
  if (!entry) throw new Error(`the model has no "${variant}" variant (it has ${Object.keys(model.models).join(", ")})`);
  const cores = navigator.hardwareConcurrency || 1;
  const threads = Number(params.get("threads")) || (crossOriginIsolated ? Math.min(cores, 4) : 1);
  worker = new Worker("worker.js", { type: "module" });
  worker.onmessage = onWorkerMessage;
  const ready = new Promise((resolve, reject) => pending.set(0, { resolve, reject }));
  worker.postMessage({ type: "init", modelUrl: `model/${entry.file}`, threads, backend: params.get("backend") ?? "auto" });
  const { backend, threads: used } = await ready.catch((e) => { throw new Error(e.message); });
  info = { backend, threads: used, variant, resolution: model.resolution, model_bytes: entry.bytes };
  $("status").textContent = `${backend === "webgpu" ? "WebGPU" : `WASM · ${used} thread${used === 1 ? "" : "s"}`} · ${variant} model ${(entry.bytes / 1e6).toFixed(1)} MB`;
  $("model-info").textContent = `model: ${model.resolution}×${model.resolution} px, ${model.source.iteration ?? "?"} iterations, exported ${model.exported.slice(0, 10)}`;
  // at most 8x: a small model's face blown up further shows its noise more than its face
  document.querySelector(".stage").style.maxWidth = `${Math.max(192, 8 * model.resolution)}px`;
  buildControls($("controls"), schema, (key) => {
    state.controls = readControls($("controls"), schema);
    if (state.face) render({ ...state.face, tags: schema.resolve(state.controls, Math.random, state.face.tags, key) });
  });
  state.controls = schema.defaultControls();
  writeControls($("controls"), schema, state.controls);
  wire();
  for (const id of ["generate", "perturb", "download", "share", "export"]) $(id).disabled = false;
  await (location.hash.length > 1 ? applyLink(location.hash) : generate());
}

window.animeGan = {
  state,
  ready: start().catch((error) => {
    $("status").textContent = "not ready";
    showMessage(`The page could not start: ${error.message}.`);
    throw error;
  }),
  idle: async () => { while (running) await running; },
  settings: () => settingsObject(schema, state),
  benchmark,
};
