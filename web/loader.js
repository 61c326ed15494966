// Loading a model: its model.json, the visitor's consent on a metered connection, the download
// with a progress bar, and the worker that runs it.

import { Engine } from "./engine.js";
import { LocalizedError, t } from "./i18n.js";
import { LARGE_DOWNLOAD_BYTES, megabytes, meteredReason, smallestVariant } from "./models.js";

const $ = (id) => document.getElementById(id);

/** Ask before a large download on a metered connection; resolves the variant to download. */
export function confirmDownload(entry, variant, connection = navigator.connection) {
  const reason = meteredReason(connection);
  const bytes = entry.variants[variant].bytes;
  if (!reason || bytes < LARGE_DOWNLOAD_BYTES) return Promise.resolve({ variant, asked: null });
  const smaller = smallestVariant(entry);
  $("confirm-text").textContent = t(`load.metered.${reason}`, { mb: megabytes(bytes), model: entry.name });
  const other = $("confirm-smaller");
  other.hidden = smaller === variant;
  other.textContent = t("load.downloadSmaller", { variant: smaller, mb: megabytes(entry.variants[smaller].bytes) });
  $("confirm").hidden = false;
  $("status").textContent = t("load.waiting");
  return new Promise((resolve) => {
    const done = (choice) => {
      $("confirm").hidden = true;
      resolve({ variant: choice, asked: reason });
    };
    $("confirm-download").onclick = () => done(variant);
    other.onclick = () => done(smaller);
  });
}

function showProgress(loaded, total) {
  $("loading").hidden = false;
  $("load-progress").max = total || 1;
  $("load-progress").value = Math.min(loaded, total || loaded);
  $("load-text").textContent = t("load.progress", { loaded: megabytes(loaded), total: total ? megabytes(total) : "?" });
  $("status").textContent = t("load.downloading");
}

/**
 * Load model `entry` (from the catalog) with `variant` (null: its default): resolves
 * {card, engine, variant, ready, asked, progress}. `previous` (an Engine) is stopped once the new one runs.
 */
export async function loadModel(entry, variant, { threads, backend, previous, profile }) {
  const response = await fetch(`${entry.path}model.json`);
  if (!response.ok) throw new LocalizedError("load.noModelJson", { path: `${entry.path}model.json` });
  const card = await response.json();
  variant ??= card.default_variant;
  if (!card.models[variant]) {
    throw new LocalizedError("load.noVariant", { variant, variants: Object.keys(card.models).join(", ") });
  }
  const consent = await confirmDownload(entry, variant);
  variant = consent.variant;
  const file = card.models[variant];
  const progress = { loaded: 0, total: file.bytes, events: 0 };
  showProgress(0, file.bytes);
  const engine = new Engine(({ loaded, total }) => {
    Object.assign(progress, { loaded, total: total || file.bytes, events: progress.events + 1 });
    showProgress(loaded, total || file.bytes);
  });
  try {
    const config = file.session_config ?? card.session_config;
    const ready = await engine.load(`${entry.path}${file.file}`, threads, backend, config, profile);
    previous?.terminate(); // only now: until the new model runs, the old one keeps the page working
    return { card, engine, variant, ready, asked: consent.asked, progress };
  } catch (error) {
    engine.terminate();
    throw error;
  } finally {
    $("loading").hidden = true;
  }
}
