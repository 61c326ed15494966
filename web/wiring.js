// The page's buttons and inputs, wired to the Page (page.js).

import { writeControls } from "./controls.js";
import { faceFileName, saveBlob } from "./faces.js";
import { perturb } from "./noise.js";
import { settingsObject } from "./settings.js";

const $ = (id) => document.getElementById(id);
const MAX_COUNT = 20;

export function wirePage(page) {
  const s = page.state;
  $("generate").addEventListener("click", () => { page.clearMessage(); page.generate(); });
  const count = (e) => Math.min(MAX_COUNT, Math.max(1, Math.round(Number(e.target.value)) || 1));
  $("count").addEventListener("input", (e) => { s.count = count(e); });
  $("count").addEventListener("change", (e) => { e.target.value = String(count(e)); });
  $("keep-noise").addEventListener("change", (e) => { s.keepNoise = e.target.checked; });
  $("amount").addEventListener("input", (e) => {
    s.perturbAmount = Number(e.target.value);
    $("amount-out").value = s.perturbAmount.toFixed(2);
  });
  $("perturb").addEventListener("click", () => {
    page.clearMessage();
    if (s.face) page.render({ seed: null, z: perturb(s.face.z, s.perturbAmount), tags: s.face.tags });
  });
  $("download").addEventListener("click", () => $("face").toBlob((blob) => {
    saveBlob(blob, faceFileName(page.schema, s.model, s.face));
  }, "image/png"));
  $("share").addEventListener("click", () => page.copyLink(location.href));
  $("export").addEventListener("click", () => {
    const text = JSON.stringify(settingsObject(page.schema, s), null, 2);
    saveBlob(new Blob([text], { type: "application/json" }), `anime-gan-settings_${s.model}.json`);
  });
  $("import").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    e.target.value = "";
    if (file) await page.importFile(file);
  });
  $("all-random").addEventListener("click", () => {
    page.clearMessage();
    s.controls = page.schema.defaultControls();
    writeControls($("controls"), page.schema, s.controls, s.face?.tags);
    page.refresh(null, true);
  });
  $("reset").addEventListener("click", () => {
    s.controls = page.schema.defaultControls();
    writeControls($("controls"), page.schema, s.controls, s.face?.tags);
  });
  $("fix-all").addEventListener("click", () => page.fixAll());
  $("expert").addEventListener("change", (e) => { s.expert = e.target.checked; page.rebuildControls(); });
  $("smooth").addEventListener("change", (e) => $("face").classList.toggle("smooth", e.target.checked));
  $("message-close").addEventListener("click", () => page.clearMessage());
  window.addEventListener("hashchange", () => page.applyLink(location.hash));
  page.interp.wire();
}
