// Small helpers around faces: drawing RGBA pixels, file names, saving a file.

import { vectorId } from "./noise.js";

/** Draw one size x size RGBA image (or the k-th of several) into `canvas`. */
export function drawPixels(canvas, pixels, size, k = 0) {
  canvas.width = canvas.height = size;
  const plane = size * size * 4;
  canvas.getContext("2d").putImageData(new ImageData(pixels.slice(k * plane, (k + 1) * plane), size, size), 0, 0);
}

/** The RGBA pixels of a canvas (to keep a face without running the model again). */
export function canvasPixels(canvas) {
  return canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
}

/** What makes a face unique in a file name: its seed, else a hash of its noise and tags. */
export function faceId(face) {
  return face.seed !== null ? `s${face.seed}` : `z${vectorId([...face.z, ...face.tags])}`;
}

const slug = (text) => text.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "").toLowerCase();

/** A descriptive, unique file name: anime-gan_<model>_<seed or hash>_<hair>_<eyes>.<ext>. */
export function faceFileName(schema, model, face, ext = "png") {
  const colors = schema.exclusive.map((g) => {
    let best = null;
    for (const tag of g.tags) {
      const v = face.tags[schema.index.get(tag)];
      if (best === null || v > best[1]) best = [tag, v];
    }
    return slug(best[0]);
  });
  return [ "anime-gan", slug(model ?? "model"), faceId(face), ...colors ].join("_") + `.${ext}`;
}

export function saveBlob(blob, name) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}
