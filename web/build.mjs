// Assemble the page into web/dist: the page's own files and the onnxruntime-web runtime files
// it loads (from node_modules, pinned by package-lock.json), so nothing comes from a CDN.
// `make web` runs `npm ci` (when node_modules is missing) and then this script. The runtime files
// also get gzip-compressed copies (<name>.gz) that the server sends when the browser accepts gzip.

import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
const ortDist = join(here, "node_modules", "onnxruntime-web", "dist");

const PAGE = ["index.html", "style.css", "main.js", "worker.js", "controls.js", "settings.js", "noise.js"];
// WASM build (the default) and the WebGPU build (used when the browser has a WebGPU adapter).
const RUNTIME = [
  "ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm",
  "ort.webgpu.min.mjs", "ort-wasm-simd-threaded.asyncify.mjs", "ort-wasm-simd-threaded.asyncify.wasm",
];

if (!existsSync(ortDist)) {
  console.error("web/node_modules/onnxruntime-web is missing: run `npm ci` in web/ (or `make web`).");
  process.exit(1);
}
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, "ort"), { recursive: true });
for (const name of PAGE) copyFileSync(join(here, name), join(dist, name));
for (const name of RUNTIME) {
  const target = join(dist, "ort", name);
  copyFileSync(join(ortDist, name), target);
  // precompressed copies: `anime-gan serve` sends them to browsers that accept gzip
  writeFileSync(`${target}.gz`, gzipSync(readFileSync(target), { level: 9 }));
}
const { version } = JSON.parse(readFileSync(join(ortDist, "..", "package.json"), "utf8"));
console.log(`web/dist: ${PAGE.length} page files + onnxruntime-web ${version} (${RUNTIME.length} files in ort/)`);
