// The page's rows of faces: the grid (several faces per click), the history strip, and the
// interpolation strip. Each shows canvases or thumbnails and reports clicks to callbacks.

import { t, tagLabel } from "./i18n.js";
import { drawPixels } from "./faces.js";

export const HISTORY_SIZE = 24;

function button(cls, text, title, onClick) {
  const b = document.createElement("button");
  b.className = cls;
  b.textContent = text;
  b.title = title;
  b.setAttribute("aria-label", title);
  b.addEventListener("click", onClick);
  return b;
}

/**
 * Fill the grid with `faces` (pixels: their RGBA images one after another). Each cell opens its
 * face on click and has keep / download / share buttons: `actions.open(k)`, `.keep(k)`, ...
 */
export function showGrid(root, faces, pixels, size, actions) {
  root.replaceChildren(...faces.map((face, k) => {
    const cell = document.createElement("figure");
    cell.className = "cell";
    const canvas = document.createElement("canvas");
    drawPixels(canvas, pixels, size, k);
    const open = document.createElement("button");
    open.className = "open";
    open.title = t("grid.open");
    open.append(canvas);
    open.addEventListener("click", () => actions.open(k, canvas));
    const tools = document.createElement("figcaption");
    tools.append(
      button("keep", "★", t("grid.keep"), () => actions.keep(k, canvas)),
      button("save", "⤓", t("grid.download"), () => actions.download(k, canvas)),
      button("link", "↗", t("grid.share"), () => actions.share(k)),
    );
    cell.append(open, tools);
    return cell;
  }));
}

/** The canvas of grid cell k (to redraw it in place). */
export const gridCanvas = (root, k) => root.children[k]?.querySelector("canvas");

/**
 * Put a face at the front of the history strip. `entry`: {face, ms, url (data URL), model};
 * `actions.open(entry)` returns to it, `actions.pick(entry, "a" | "b")` makes it an end of the
 * interpolation.
 */
export function addHistory(root, schema, entry, actions) {
  const item = document.createElement("figure");
  item.className = "thumb-item";
  const img = document.createElement("img");
  img.src = entry.url;
  img.alt = schema.namesFromVector(entry.face.tags).map(tagLabel).join(", ");
  const thumb = document.createElement("button");
  thumb.className = "thumb";
  thumb.title = `${img.alt} (${entry.model})`;
  thumb.append(img);
  thumb.addEventListener("click", () => actions.open(entry));
  const picks = document.createElement("figcaption");
  picks.append(
    button("pick-a", "A", t("history.pickA"), () => actions.pick(entry, "a")),
    button("pick-b", "B", t("history.pickB"), () => actions.pick(entry, "b")),
  );
  item.append(thumb, picks);
  root.prepend(item);
  while (root.children.length > HISTORY_SIZE) root.lastChild.remove();
}

/** Show the interpolation frames; a click on one opens it (`onOpen(k, canvas)`). */
export function showStrip(root, count, pixels, size, onOpen) {
  root.replaceChildren(...[...Array(count).keys()].map((k) => {
    const canvas = document.createElement("canvas");
    drawPixels(canvas, pixels, size, k);
    const b = document.createElement("button");
    b.className = "frame";
    b.title = t("interp.open");
    b.append(canvas);
    b.addEventListener("click", () => onOpen(k, canvas));
    return b;
  }));
}
