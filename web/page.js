// The faces: the current face, history, the tag controls, settings files and share links (the
// grid: grid.js; the buttons: wiring.js). One queue runs the model: while a run is in flight,
// only the latest request of each kind (face, grid, strip) waits behind it.

import { buildControls, readControls, writeControls } from "./controls.js";
import { canvasPixels, drawPixels } from "./faces.js";
import { addHistory } from "./gallery.js";
import { Grid } from "./grid.js";
import { errorText, t, tagLabel } from "./i18n.js";
import { Interpolation } from "./interpolation.js";
import { noiseFromSeed, randomSeed } from "./noise.js";
import { parseSettings, parseShareHash, shareHash } from "./settings.js";

const $ = (id) => document.getElementById(id);

export class Page {
  constructor() {
    this.state = {
      controls: {}, keepNoise: false, perturbAmount: 0.3, face: null, model: null, variant: null,
      count: 1, expert: false, grid: [], gridOpen: null,
    };
    this.schema = null;
    this.engine = null;
    this.queue = new Map();
    this.running = null;
    this.timing = null; // what the timing line says: [key, vars]
    this.grid = new Grid(this);
    this.interp = new Interpolation(this);
    this.onOpenOtherModel = null;
  }

  // ---- messages and the run queue

  showMessage(text, kind = "error") {
    $("message-text").textContent = text;
    $("message").className = `message ${kind}`;
    $("message").hidden = false;
  }

  /** A new action starts: the banner of an earlier one goes. */
  clearMessage() {
    $("message").hidden = true;
  }

  schedule(kind, job) {
    this.queue.set(kind, job);
    if (!this.running) {
      this.running = (async () => {
        try {
          while (this.queue.size) {
            const [key, next] = this.queue.entries().next().value;
            this.queue.delete(key);
            await next();
          }
        } finally {
          this.running = null;
        }
      })();
    }
    return this.running;
  }

  async idle() {
    while (this.running) await this.running;
  }

  /** Run the model on faces [{z, tags}] in one batch. */
  infer(faces) {
    const { zDim, tags } = this.schema;
    const z = new Float32Array(faces.length * zDim);
    const c = new Float32Array(faces.length * tags.length);
    faces.forEach((f, k) => { z.set(f.z, k * zDim); c.set(f.tags, k * tags.length); });
    return this.engine.run(z, c, faces.length);
  }

  async guarded(job) {
    $("busy").hidden = false;
    try {
      await job();
    } catch (error) {
      this.showMessage(t("msg.generateFailed", { reason: errorText(error) }));
    } finally {
      $("busy").hidden = true;
    }
  }

  // ---- the current face

  showTexts() {
    const face = this.state.face;
    if (this.timing) $("timing").textContent = t(...this.timing);
    if (!face) return;
    $("noise-info").textContent = face.seed !== null ? t("face.seed", { seed: face.seed }) : t("face.customNoise");
    $("face-tags").replaceChildren(...this.schema.namesFromVector(face.tags).map((tag) => {
      const span = document.createElement("span");
      span.textContent = tagLabel(tag);
      return span;
    }));
  }

  /** `face` is on the stage now: texts, the address bar's link, the expert sliders. */
  showFace(face, ms, source = "generated") {
    this.state.face = face;
    this.timing = source === "history" ? ["timing.fromHistory", { ms: ms.toFixed(1) }] : ["timing.generated", { ms: ms.toFixed(1) }];
    $("timing").dataset.ms = source === "history" ? "" : ms.toFixed(2);
    this.showTexts();
    history.replaceState(null, "", shareHash(this.schema, this.state));
    if (this.state.expert) writeControls($("controls"), this.schema, this.state.controls, face.tags);
  }

  remember(face, ms, canvas = $("face")) {
    const entry = { face, ms, url: canvas.toDataURL("image/png"), model: this.state.model, controls: { ...this.state.controls } };
    addHistory($("history"), this.schema, entry, {
      open: (e) => this.openHistory(e),
      pick: (e, slot) => this.interp.pick(e, slot),
    });
  }

  render(face) {
    return this.schedule("face", () => this.guarded(async () => {
      const { pixels, size, ms } = await this.infer([face]);
      drawPixels($("face"), pixels, size);
      this.showFace(face, ms);
      this.remember(face, ms);
    }));
  }

  /** Put a face drawn elsewhere (a grid cell, a strip frame) on the stage, into history. */
  openDrawn(face, canvas, ms, remember = true) {
    drawPixels($("face"), canvasPixels(canvas), canvas.width);
    this.showFace(face, ms);
    if (remember) this.remember(face, ms);
  }

  async openHistory(entry) {
    this.clearMessage();
    if (entry.model !== this.state.model) await this.onOpenOtherModel?.(entry.model);
    if (entry.model !== this.state.model) return; // the switch failed (its message says why)
    this.state.controls = { ...entry.controls };
    writeControls($("controls"), this.schema, this.state.controls, entry.face.tags);
    const image = new Image();
    await new Promise((resolve) => { image.onload = resolve; image.src = entry.url; });
    const canvas = $("face");
    canvas.width = canvas.height = image.width;
    canvas.getContext("2d").drawImage(image, 0, 0);
    this.showFace(entry.face, entry.ms, "history");
  }

  // ---- generating and the controls

  newFace(previous) {
    const keep = this.state.keepNoise && previous;
    const seed = keep ? previous.seed : randomSeed();
    const z = keep ? previous.z : noiseFromSeed(seed, this.schema.zDim);
    return { seed, z, tags: this.schema.resolve(this.state.controls, Math.random) };
  }

  generate() {
    if (this.state.count === 1) {
      this.grid.hide();
      return this.render(this.newFace(this.state.face));
    }
    const faces = [...Array(this.state.count).keys()].map((k) => this.newFace(this.state.grid[k] ?? (k === 0 ? this.state.face : null)));
    this.state.gridOpen = 0;
    return this.grid.render(faces);
  }

  /** Draw again with the same noise: `changed` (a control) is drawn again, or every random
   * tag when `all`, or none when `changed` is null. */
  refresh(changed, all = false) {
    const retag = (f) => ({ ...f, tags: this.schema.resolve(this.state.controls, Math.random, all ? null : f.tags, changed) });
    const jobs = [];
    if (this.state.grid.length) jobs.push(this.grid.render(this.state.grid.map(retag)));
    if (this.state.face && (this.state.gridOpen === null || !this.state.grid.length)) jobs.push(this.render(retag(this.state.face)));
    return Promise.all(jobs);
  }

  onControlChange(key) {
    this.clearMessage();
    this.state.controls = readControls($("controls"), this.schema, this.state.controls);
    if (!this.state.expert) {
      for (const [a, b] of this.schema.opposites) {
        const other = key === a ? b : key === b ? a : null;
        if (other && this.state.controls[key] === "on" && this.state.controls[other] === "on") {
          this.state.controls[other] = "off";
          writeControls($("controls"), this.schema, this.state.controls);
          this.showMessage(t("controls.oppositeSwitched", { a: tagLabel(key), b: tagLabel(other) }), "info");
        }
      }
    }
    return this.refresh(key);
  }

  rebuildControls() {
    buildControls($("controls"), this.schema, this.state.expert, (key) => this.onControlChange(key));
    writeControls($("controls"), this.schema, this.state.controls, this.state.face?.tags ?? null);
    $("controls-hint").textContent = t(this.state.expert ? "controls.hintExpert" : "controls.hint");
    $("fix-all").hidden = $("reset").hidden = !this.state.expert;
  }

  /** Every random control takes the current face's value (expert mode's "fix all"). */
  fixAll() {
    const face = this.state.face?.tags;
    if (!face) return;
    const s = this.schema;
    const controls = { ...this.state.controls };
    for (const g of s.exclusive) {
      if (controls[g.name] === "random") controls[g.name] = Object.fromEntries(g.tags.map((tag) => [tag, s.toValue(face[s.index.get(tag)])]));
    }
    for (const tag of s.independent) if (controls[tag] === "random") controls[tag] = s.toValue(face[s.index.get(tag)]);
    this.state.controls = s.normalize(controls);
    writeControls($("controls"), s, this.state.controls, face);
    return this.refresh(null);
  }

  // ---- settings files and links

  applySettings(parsed) {
    Object.assign(this.state, { controls: parsed.controls, keepNoise: parsed.keepNoise, perturbAmount: parsed.perturbAmount });
    writeControls($("controls"), this.schema, this.state.controls, parsed.face?.tags ?? this.state.face?.tags);
    $("keep-noise").checked = this.state.keepNoise;
    $("amount").value = String(this.state.perturbAmount);
    $("amount-out").value = this.state.perturbAmount.toFixed(2);
    if (parsed.face) return this.render(parsed.face);
    if (this.state.face) return this.render({ ...this.state.face, tags: this.schema.resolve(this.state.controls, Math.random) });
    return this.generate();
  }

  applyLink(hash) {
    this.clearMessage();
    let parsed;
    try {
      parsed = parseShareHash(this.schema, hash);
    } catch (error) {
      const kept = this.state.face !== null;
      this.showMessage(t(kept ? "msg.linkKept" : "msg.linkFresh", { reason: errorText(error) }));
      if (kept) {
        history.replaceState(null, "", shareHash(this.schema, this.state));
        return Promise.resolve();
      }
      return this.generate();
    }
    return this.applySettings(parsed);
  }

  async importFile(file) {
    this.clearMessage();
    try {
      let obj;
      try {
        obj = JSON.parse(await file.text());
      } catch {
        throw new Error(t("err.notJson"));
      }
      await this.applySettings(parseSettings(this.schema, obj));
      this.showMessage(t("msg.imported", { file: file.name }), "info");
    } catch (error) {
      this.showMessage(t("msg.importFailed", { file: file.name, reason: errorText(error) }));
    }
  }

  async copyLink(url) {
    try {
      await navigator.clipboard.writeText(url);
      this.showMessage(t("msg.linkCopied"), "info");
    } catch {
      this.showMessage(t("msg.linkShown", { url }), "info");
    }
  }

  // ---- models

  useModel(schema, engine, name, variant) {
    const sameTags = this.schema && this.schema.tags.join() === schema.tags.join();
    Object.assign(this, { schema, engine });
    Object.assign(this.state, { model: name, variant });
    if (!sameTags) this.state.controls = schema.defaultControls();
    this.rebuildControls();
  }

  /** After a model switch: the same noise and tags on the new model, where they fit. */
  afterModelSwitch() {
    const fits = (f) => f.z.length === this.schema.zDim && f.tags.length === this.schema.tags.length;
    this.interp.clear();
    const jobs = [];
    if (this.state.grid.length && this.state.grid.every(fits)) jobs.push(this.grid.render(this.state.grid));
    else this.grid.hide();
    if (this.state.face && fits(this.state.face)) jobs.push(this.render(this.state.face));
    else jobs.push(this.generate());
    return Promise.all(jobs);
  }

  firstFace(hash) {
    return hash.length > 1 ? this.applyLink(hash) : this.generate();
  }

  setEnabled(on) {
    for (const id of ["generate", "perturb", "download", "share", "export", "model-select", "variant-select"]) $(id).disabled = !on;
  }
}
