// The page: start-up, the model list, the status line, languages, and the test/benchmark hooks.
// Query options: ?model=<name> ?variant=fp32|fp16|int8|int8-static ?threads=N ?backend=auto|wasm|webgpu
// ?lang=en|ja ?profile=1 (onnxruntime's per-operator profile: animeGan.endProfiling())

import { LANGUAGES, currentLanguage, errorText, pickLanguage, setLanguage, storedLanguage, t, translatePage } from "./i18n.js";
import { loadModel } from "./loader.js";
import { describeModel, describeVariant, fetchCatalog, megabytes } from "./models.js";
import { noiseFromSeed } from "./noise.js";
import { Page } from "./page.js";
import { Schema } from "./schema.js";
import { settingsObject } from "./settings.js";
import { wirePage } from "./wiring.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
let catalog = null;
let info = {};
const page = new Page();

function statusText() {
  if (!info.backend) return t("load.starting");
  const backend = info.backend === "webgpu" ? "WebGPU" : t("status.wasm", { n: info.threads });
  const text = t("status.ready", { backend, variant: info.variant, mb: megabytes(info.model_bytes) });
  return info.fallback ? `${text} · ${t(`status.fallback.${info.fallback}`)}` : text;
}

function fillPickers() {
  const entry = catalog.models.find((m) => m.name === page.state.model);
  $("model-select").replaceChildren(...catalog.models.map((m) => {
    const option = new Option(m.error ? `${m.name} (${t("model.broken")})` : `${m.name} · ${m.resolution} px`, m.name);
    option.disabled = Boolean(m.error);
    return option;
  }));
  $("model-select").value = page.state.model;
  $("variant-select").replaceChildren(...Object.entries(entry.variants).map(([name, v]) => new Option(describeVariant(name, v), name)));
  $("variant-select").value = page.state.variant;
  $("model-desc").textContent = describeModel(entry);
}

/** Every text that depends on the language, after a switch. */
function translateAll() {
  translatePage();
  document.title = t("page.title");
  $("language").replaceChildren(...Object.entries(LANGUAGES).map(([code, name]) => new Option(name, code)));
  $("language").value = currentLanguage();
  $("status").textContent = statusText();
  if (!page.schema) return;
  $("model-info").textContent = t("model.footer", info.card);
  fillPickers();
  page.rebuildControls();
  page.showTexts();
}

function updateQuery(name, variant, defaultVariant) {
  params.set("model", name);
  if (variant === defaultVariant) params.delete("variant");
  else params.set("variant", variant);
  history.replaceState(null, "", `?${params}${location.hash}`);
}

/** Load model `name` (variant: null for its default) and make the page use it. */
async function useModel(name, variant = null) {
  const entry = catalog.models.find((m) => m.name === name && !m.error);
  if (!entry) {
    const names = catalog.models.filter((m) => !m.error).map((m) => m.name).join(", ");
    throw new Error(t("load.unknownModel", { name, names }));
  }
  const cores = navigator.hardwareConcurrency || 1;
  const threads = Number(params.get("threads")) || (crossOriginIsolated ? Math.min(cores, 4) : 1);
  const loaded = await loadModel(entry, variant, {
    threads, backend: params.get("backend") ?? "auto", previous: page.engine, profile: params.get("profile") === "1",
  });
  const { card, ready } = loaded;
  info = {
    model: name, backend: ready.backend, threads: ready.threads, requested_backend: ready.requested,
    fallback: ready.fallback, variant: loaded.variant, resolution: card.resolution,
    model_bytes: card.models[loaded.variant].bytes, downloaded_bytes: ready.bytes,
    progress: loaded.progress, asked: loaded.asked,
  };
  page.useModel(new Schema(card), loaded.engine, name, loaded.variant);
  $("status").textContent = statusText();
  info.card = { r: card.resolution, iterations: card.source.iteration ?? "?", date: card.exported.slice(0, 10) };
  $("model-info").textContent = t("model.footer", info.card);
  // at most 8x: a small model's face blown up further shows its noise more than its face
  document.querySelector(".stage").style.maxWidth = `${Math.max(192, 8 * card.resolution)}px`;
  fillPickers();
  updateQuery(name, loaded.variant, card.default_variant);
}

async function switchModel(name, variant = null) {
  page.clearMessage();
  page.setEnabled(false);
  try {
    await useModel(name, variant);
    await page.afterModelSwitch();
  } catch (error) {
    page.showMessage(t("msg.loadFailed", { reason: errorText(error) }));
    fillPickers(); // back to the model still in use
  } finally {
    page.setEnabled(Boolean(page.engine));
  }
}

function wire() {
  $("language").addEventListener("change", async (e) => {
    await setLanguage(e.target.value, true);
    params.delete("lang");
    history.replaceState(null, "", `?${params}${location.hash}`);
    translateAll();
  });
  $("model-select").addEventListener("change", (e) => switchModel(e.target.value));
  $("variant-select").addEventListener("change", (e) => switchModel(page.state.model, e.target.value));
  page.onOpenOtherModel = (name) => switchModel(name);
}

async function benchmark(n = 20, warmup = 3) {
  const times = [];
  for (let i = 0; i < warmup + n; i++) {
    const z = noiseFromSeed(i + 1, page.schema.zDim);
    const { ms } = await page.engine.run(z, page.schema.resolve(page.state.controls, Math.random), 1);
    if (i >= warmup) times.push(ms);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  const { progress, asked, card, ...rest } = info;
  return { ...rest, n, median_ms: median, mean_ms: times.reduce((a, b) => a + b, 0) / n, min_ms: sorted[0], times_ms: times };
}

async function start() {
  await setLanguage(pickLanguage(params.get("lang"), storedLanguage(), navigator.languages));
  translateAll();
  catalog = await fetchCatalog();
  wirePage(page);
  wire();
  const wanted = params.get("model") ?? catalog.default;
  if (catalog.models.some((m) => m.name === wanted && !m.error)) {
    await useModel(wanted, params.get("variant"));
  } else {
    const names = catalog.models.filter((m) => !m.error).map((m) => m.name).join(", ");
    await useModel(catalog.default);
    page.showMessage(t("msg.modelFallback", { name: wanted, names, fallback: catalog.default }));
  }
  page.setEnabled(true);
  await page.firstFace(location.hash);
}

window.animeGan = {
  state: page.state,
  get info() { return info; },
  get schema() { return page.schema; },
  ready: start().catch((error) => {
    $("status").textContent = t("load.notReady");
    page.showMessage(t("msg.startFailed", { reason: errorText(error) }));
    throw error;
  }),
  idle: () => page.idle(),
  settings: () => settingsObject(page.schema, page.state),
  benchmark,
  endProfiling: () => page.engine.endProfiling(),
};
