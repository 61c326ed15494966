// Assemble the page into web/dist: the page's own files (*.html, *.css, *.js, locales/*.json),
// the onnxruntime-web runtime files it loads and the gifenc GIF encoder (vendor/), both from
// node_modules, pinned by package-lock.json, so nothing comes from a CDN.
// `make web` runs `npm ci` (when node_modules is missing) and then this script. The runtime files
// also get gzip-compressed copies (<name>.gz) that the server sends when the browser accepts gzip.

import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
const ortDist = join(here, "node_modules", "onnxruntime-web", "dist");

const PAGE = readdirSync(here).filter((name) => /\.(html|css|js)$/.test(name));
const LOCALES = readdirSync(join(here, "locales")).filter((name) => name.endsWith(".json"));
// vendored ES modules: [file in node_modules, name under dist/vendor/]
const VENDOR = [["gifenc/dist/gifenc.esm.js", "gifenc.js"], ["gifenc/LICENSE.md", "gifenc.LICENSE.md"]];
// WASM build (the default) and the WebGPU build (used when the browser has a WebGPU adapter).
const RUNTIME = [
  "ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm",
  "ort.webgpu.min.mjs", "ort-wasm-simd-threaded.asyncify.mjs", "ort-wasm-simd-threaded.asyncify.wasm",
];

if (!existsSync(ortDist) || !existsSync(join(here, "node_modules", VENDOR[0][0]))) {
  console.error("web/node_modules is missing or out of date: run `npm ci` in web/ (or `make web`).");
  process.exit(1);
}
rmSync(dist, { recursive: true, force: true });
for (const folder of ["ort", "locales", "vendor"]) mkdirSync(join(dist, folder), { recursive: true });
for (const name of PAGE) copyFileSync(join(here, name), join(dist, name));
for (const name of LOCALES) copyFileSync(join(here, "locales", name), join(dist, "locales", name));
for (const [from, to] of VENDOR) copyFileSync(join(here, "node_modules", from), join(dist, "vendor", to));
for (const name of RUNTIME) {
  const target = join(dist, "ort", name);
  copyFileSync(join(ortDist, name), target);
  // precompressed copies: `anime-gan serve` sends them to browsers that accept gzip
  writeFileSync(`${target}.gz`, gzipSync(readFileSync(target), { level: 9 }));
}
const { version } = JSON.parse(readFileSync(join(ortDist, "..", "package.json"), "utf8"));
console.log(`web/dist: ${PAGE.length} page files, ${LOCALES.length} languages, gifenc + onnxruntime-web ${version} (${RUNTIME.length} files in ort/)`);
