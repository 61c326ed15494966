// Images out of the page: faces side by side as one PNG, and as an animated GIF (gifenc, bundled
// by build.mjs) or animated WebP (each frame encoded by the browser, then put into one RIFF file).

import { GIFEncoder, applyPalette, quantize } from "./vendor/gifenc.js";

/** RGBA frames (Uint8ClampedArray, size x size each) scaled up by an integer `scale`. */
function scaledCanvas(frames, size, scale, columns = frames.length) {
  const rows = Math.ceil(frames.length / columns);
  const canvas = document.createElement("canvas");
  canvas.width = columns * size * scale;
  canvas.height = rows * size * scale;
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  const tile = document.createElement("canvas");
  tile.width = tile.height = size;
  frames.forEach((rgba, i) => {
    tile.getContext("2d").putImageData(new ImageData(rgba, size, size), 0, 0);
    ctx.drawImage(tile, (i % columns) * size * scale, Math.floor(i / columns) * size * scale, size * scale, size * scale);
  });
  return canvas;
}

/** The scale that makes a face at least 128 px wide in exported files (nearest neighbour). */
export const exportScale = (size) => Math.max(1, Math.floor(128 / size));

const toBlob = (canvas, type, quality) => new Promise((resolve) => canvas.toBlob(resolve, type, quality));

/** The frames side by side as a PNG. */
export function pngStrip(frames, size) {
  return toBlob(scaledCanvas(frames, size, exportScale(size)), "image/png");
}

/** The frames forth and back (A -> B -> A) as frame indices, for a seamless loop. */
export function pingPong(n) {
  const forth = [...Array(n).keys()];
  return n > 2 ? [...forth, ...forth.slice(1, -1).reverse()] : forth;
}

/** An animated GIF, looping, one palette for all frames, `delay` ms per frame. */
export function gif(frames, size, delay = 120) {
  const scale = exportScale(size);
  const big = frames.map((f) => scaledCanvas([f], size, scale).getContext("2d").getImageData(0, 0, size * scale, size * scale).data);
  const all = new Uint8ClampedArray(big.reduce((n, f) => n + f.length, 0));
  big.reduce((offset, f) => (all.set(f, offset), offset + f.length), 0);
  const palette = quantize(all, 256);
  const encoder = GIFEncoder();
  for (const k of pingPong(frames.length)) {
    encoder.writeFrame(applyPalette(big[k], palette), size * scale, size * scale, { palette, delay, repeat: 0 });
  }
  encoder.finish();
  return new Blob([encoder.bytes()], { type: "image/gif" });
}

const fourcc = (bytes, at) => String.fromCharCode(...bytes.subarray(at, at + 4));

/** The chunks of a still WebP file (RIFF....WEBP, then [fourcc, size, data] chunks). */
function webpChunks(bytes) {
  if (fourcc(bytes, 0) !== "RIFF" || fourcc(bytes, 8) !== "WEBP") throw new Error("the browser did not encode WebP");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks = [];
  for (let at = 12; at + 8 <= bytes.length;) {
    const length = view.getUint32(at + 4, true);
    chunks.push({ id: fourcc(bytes, at), data: bytes.subarray(at + 8, at + 8 + length) });
    at += 8 + length + (length & 1);
  }
  return chunks;
}

function chunk(id, data) {
  const out = new Uint8Array(8 + data.length + (data.length & 1));
  out.set([...id].map((c) => c.charCodeAt(0)));
  new DataView(out.buffer).setUint32(4, data.length, true);
  out.set(data, 8);
  return out;
}

const uint24 = (view, at, v) => { view.setUint8(at, v & 255); view.setUint8(at + 1, (v >> 8) & 255); view.setUint8(at + 2, (v >> 16) & 255); };

/** An animated WebP, looping, `delay` ms per frame (VP8X + ANIM + one ANMF per frame). */
export async function animatedWebp(frames, size, delay = 120, quality = 0.92) {
  const scale = exportScale(size);
  const side = size * scale;
  const stills = [];
  for (const f of frames) {
    const blob = await toBlob(scaledCanvas([f], size, scale), "image/webp", quality);
    if (!blob || blob.type !== "image/webp") throw new Error("this browser cannot encode WebP");
    stills.push(webpChunks(new Uint8Array(await blob.arrayBuffer())).filter((c) => ["VP8 ", "VP8L", "ALPH"].includes(c.id)));
  }
  const header = new Uint8Array(10);
  const hv = new DataView(header.buffer);
  hv.setUint8(0, 0x02 | (stills.some((s) => s.some((c) => c.id === "ALPH" || c.id === "VP8L")) ? 0x10 : 0)); // animation (+ alpha)
  uint24(hv, 4, side - 1);
  uint24(hv, 7, side - 1);
  const anim = new Uint8Array(6); // background colour 0 (transparent black), loop count 0 (forever)
  const parts = [chunk("VP8X", header), chunk("ANIM", anim)];
  for (const k of pingPong(frames.length)) {
    const body = stills[k].map((c) => chunk(c.id, c.data));
    const frame = new Uint8Array(16 + body.reduce((n, b) => n + b.length, 0));
    const fv = new DataView(frame.buffer);
    uint24(fv, 6, side - 1); // x, y offsets 0 (bytes 0-5), then width - 1 and height - 1
    uint24(fv, 9, side - 1);
    uint24(fv, 12, delay);
    fv.setUint8(15, 0x02); // no blending, no disposal
    body.reduce((at, b) => (frame.set(b, at), at + b.length), 16);
    parts.push(chunk("ANMF", frame));
  }
  const size32 = 4 + parts.reduce((n, p) => n + p.length, 0);
  const riff = new Uint8Array(8 + size32);
  riff.set([..."RIFF"].map((c) => c.charCodeAt(0)));
  new DataView(riff.buffer).setUint32(4, size32, true);
  riff.set([..."WEBP"].map((c) => c.charCodeAt(0)), 8);
  parts.reduce((at, p) => (riff.set(p, at), at + p.length), 12);
  return new Blob([riff], { type: "image/webp" });
}
