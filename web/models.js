// The models the server offers (models/index.json, written by `anime-gan serve`), how each is
// described to the visitor, and whether its download needs the visitor's consent first.

import { t } from "./i18n.js";

/** Downloads from this size on ask first on a metered connection (the 128 px int8 model is 4.6 MB). */
export const LARGE_DOWNLOAD_BYTES = 2e6;

export const megabytes = (bytes) => (bytes / 1e6).toFixed(1);

/** The server's list of models: {default, models: [{name, path, resolution, variants, source, ...}]}. */
export async function fetchCatalog() {
  const response = await fetch("models/index.json");
  if (!response.ok) throw new Error(t("load.noCatalog"));
  const catalog = await response.json();
  const usable = catalog.models.filter((m) => !m.error);
  if (!usable.length) throw new Error(t("load.noModels"));
  return catalog;
}

/** One line about a model: resolution, iterations, network, when it was exported. */
export function describeModel(entry) {
  if (entry.error) return entry.error;
  const s = entry.source ?? {};
  const parts = [t("model.resolution", { r: entry.resolution })];
  if (s.iteration != null) parts.push(t("model.iterations", { n: s.iteration }));
  else if (s.note) parts.push(s.note);
  if (s.generator) parts.push(`${s.generator}${s.channels ? ` ${s.channels}ch` : ""}${s.res_blocks ? ` × ${s.res_blocks}` : ""}`);
  if (entry.exported) parts.push(t("model.exported", { date: entry.exported.slice(0, 10) }));
  return parts.join(" · ");
}

/** A variant as the picker lists it: name, size, PSNR against PyTorch. */
export function describeVariant(name, variant) {
  const psnr = variant.parity?.psnr_db;
  return t("model.variant", { name, mb: megabytes(variant.bytes), psnr: psnr == null ? "∞" : psnr.toFixed(0) });
}

/**
 * Why a download should be confirmed, or null: the visitor asked to save data, or the connection
 * is cellular or slow (the Network Information API, where the browser has it).
 */
export function meteredReason(connection = navigator.connection) {
  if (!connection) return null;
  if (connection.saveData) return "saveData";
  if (connection.type === "cellular") return "cellular";
  if (["slow-2g", "2g", "3g"].includes(connection.effectiveType)) return "slow";
  return null;
}

/** The smallest variant of a model (what to offer instead of a large one). */
export function smallestVariant(entry) {
  return Object.entries(entry.variants).sort((a, b) => a[1].bytes - b[1].bytes)[0][0];
}
