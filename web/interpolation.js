// Interpolation between two faces of the history: ends A and B, a method (linear, spherical,
// polar: noise.js), a number of steps; the strip of faces in between, exported as a PNG strip or
// an animated GIF / WebP.

import { animatedWebp, gif, pngStrip } from "./encode.js";
import { faceId, saveBlob } from "./faces.js";
import { showStrip } from "./gallery.js";
import { t } from "./i18n.js";
import { interpolateNoise, interpolateTags } from "./noise.js";

const $ = (id) => document.getElementById(id);
const EXPORTS = ["strip-png", "strip-gif", "strip-webp"];

export class Interpolation {
  constructor(page) {
    this.page = page;
    this.a = null;
    this.b = null;
    this.frames = null; // {faces, pixels, size}
  }

  /** Make history entry `entry` end `slot` ("a" or "b"); both set: draw the strip. */
  pick(entry, slot) {
    this.page.clearMessage();
    if (entry.model !== this.page.state.model) {
      this.page.showMessage(t("interp.otherModel", { model: entry.model }));
      return Promise.resolve();
    }
    this[slot] = entry;
    $(`interp-${slot}`).src = entry.url;
    $(`interp-${slot}`).alt = slot.toUpperCase();
    return this.draw();
  }

  clear() {
    this.a = this.b = this.frames = null;
    for (const slot of ["a", "b"]) $(`interp-${slot}`).removeAttribute("src");
    $("strip").replaceChildren();
    for (const id of EXPORTS) $(id).disabled = true;
  }

  method() {
    return $("interp-method").value;
  }

  steps() {
    return Math.min(16, Math.max(3, Math.round(Number($("interp-steps").value)) || 8));
  }

  /** The faces from A to B, ends included. */
  faces() {
    const [n, method] = [this.steps(), this.method()];
    return [...Array(n).keys()].map((k) => {
      const x = k / (n - 1);
      if (k === 0) return this.a.face;
      if (k === n - 1) return this.b.face;
      return { seed: null, z: interpolateNoise(this.a.face.z, this.b.face.z, x, method), tags: interpolateTags(this.a.face.tags, this.b.face.tags, x) };
    });
  }

  draw() {
    if (!this.a || !this.b) return Promise.resolve();
    const page = this.page;
    return page.schedule("strip", () => page.guarded(async () => {
      const faces = this.faces();
      const { pixels, size, ms } = await page.infer(faces);
      this.frames = { faces, pixels, size, method: this.method() };
      showStrip($("strip"), faces.length, pixels, size, (k, canvas) => page.openDrawn(faces[k], canvas, ms / faces.length));
      for (const id of EXPORTS) $(id).disabled = false;
    }));
  }

  frameImages() {
    const { faces, pixels, size } = this.frames;
    const plane = size * size * 4;
    return faces.map((_, k) => pixels.slice(k * plane, (k + 1) * plane));
  }

  fileName(ext) {
    const { faces, method } = this.frames;
    const ends = `${faceId(faces[0])}-${faceId(faces[faces.length - 1])}`;
    return `anime-gan_${this.page.state.model}_${method}-${faces.length}_${ends}.${ext}`;
  }

  async save(kind) {
    if (!this.frames) return;
    const { size } = this.frames;
    try {
      const frames = this.frameImages();
      const blob = kind === "png" ? await pngStrip(frames, size) : kind === "gif" ? gif(frames, size) : await animatedWebp(frames, size);
      saveBlob(blob, this.fileName(kind));
    } catch (error) {
      this.page.showMessage(t("interp.saveFailed", { kind: kind.toUpperCase(), reason: error.message }));
    }
  }

  wire() {
    $("interp-method").addEventListener("change", () => this.draw());
    // on input, not change: a change would fire again on blur, redrawing the strip under the click
    $("interp-steps").addEventListener("input", () => {
      if ($("interp-steps").value !== "") this.draw();
    });
    $("strip-png").addEventListener("click", () => this.save("png"));
    $("strip-gif").addEventListener("click", () => this.save("gif"));
    $("strip-webp").addEventListener("click", () => this.save("webp"));
  }
}
