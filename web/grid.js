// Grid mode: several faces per click (page.state.grid, in one batched run). A cell opens its face
// on the stage, keeps it in the history, downloads it or copies its share link; the opened cell
// (page.state.gridOpen) follows every redraw.

import { faceFileName, saveBlob } from "./faces.js";
import { gridCanvas, showGrid } from "./gallery.js";
import { t } from "./i18n.js";
import { shareHash } from "./settings.js";

const $ = (id) => document.getElementById(id);

export class Grid {
  constructor(page) {
    this.page = page;
  }

  /** Draw `faces` ([{seed, z, tags}]) into the grid (queued as the "grid" run). */
  render(faces) {
    const page = this.page;
    const s = page.state;
    return page.schedule("grid", () => page.guarded(async () => {
      const { pixels, size, ms } = await page.infer(faces);
      const per = ms / faces.length;
      s.grid = faces;
      $("grid-card").hidden = false;
      showGrid($("grid"), faces, pixels, size, {
        open: (k, canvas) => { s.gridOpen = k; page.openDrawn(faces[k], canvas, per); },
        keep: (k, canvas) => page.remember(faces[k], per, canvas),
        download: (k, canvas) => canvas.toBlob((blob) => saveBlob(blob, faceFileName(page.schema, s.model, faces[k]))),
        share: (k) => page.copyLink(`${location.origin}${location.pathname}${location.search}${shareHash(page.schema, s, faces[k])}`),
      });
      const k = s.gridOpen;
      if (k !== null && k < faces.length) page.openDrawn(faces[k], gridCanvas($("grid"), k), per, false);
      page.timing = ["timing.grid", { n: faces.length, ms: ms.toFixed(1), per: per.toFixed(1) }];
      $("timing").textContent = t(...page.timing);
    }));
  }

  hide() {
    this.page.state.grid = [];
    this.page.state.gridOpen = null;
    $("grid-card").hidden = true;
    $("grid").replaceChildren();
  }
}
