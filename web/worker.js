// The generator, run by onnxruntime-web in this worker so the page stays responsive.
//
// Messages in:  {type: "init", id: 0, modelUrl, threads, backend: "auto" | "wasm" | "webgpu",
//                sessionConfig: the variant's session options (model.json), profile: bool}
//               {type: "endProfiling", id}: onnxruntime prints its per-operator profile (JSON
//               lines) to this worker's console (anime_gan.export.bench_web --profile reads it)
//               {type: "run", id, z: Float32Array[n * zDim], c: Float32Array[n * 34], n}
// Messages out: {type: "progress", loaded, total}
//               {type: "ready", id: 0, backend, threads, requested, fallback, bytes}: backend is
//               the one actually running; fallback says why it is not the requested one
//               ("unavailable": no hardware WebGPU adapter, "failed": WebGPU could not run the model)
//               {type: "result", id, pixels: Uint8ClampedArray (RGBA, n images), ms}
//               {type: "error", id, message}
// The runtime's .mjs/.wasm files are served with the page under ort/ (nothing from a CDN).

let session = null;
let ort = null;

/** A hardware WebGPU adapter (a software fallback such as SwiftShader is far slower than WASM). */
async function webgpuAvailable() {
  if (!("gpu" in navigator)) return false;
  try {
    const adapter = await navigator.gpu.requestAdapter();
    return adapter !== null && !(adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter);
  } catch {
    return false;
  }
}

async function fetchWithProgress(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not download ${url} (HTTP ${response.status})`);
  const total = Number(response.headers.get("Content-Length")) || 0;
  const reader = response.body.getReader();
  const chunks = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    postMessage({ type: "progress", loaded, total });
  }
  const bytes = new Uint8Array(loaded);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

async function createSession(bytes, backend, threads, sessionConfig, profile) {
  const ortBase = new URL("ort/", self.location.href).href;
  ort = await import(backend === "webgpu" ? "./ort/ort.webgpu.min.mjs" : "./ort/ort.wasm.min.mjs");
  ort.env.wasm.wasmPaths = ortBase;
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.proxy = false; // this is already a worker
  // one provider only: onnxruntime would fall back from webgpu to wasm silently
  return ort.InferenceSession.create(bytes, {
    executionProviders: [backend],
    graphOptimizationLevel: "all",
    enableProfiling: Boolean(profile),
    // int8: fold the DequantizeLinear nodes into float32 weights once, at load time;
    // int8-static: keep the QDQ pairs, which become int8 convolutions (QLinearConv)
    extra: { session: sessionConfig },
  });
}

async function init({ id, modelUrl, threads, backend, sessionConfig, profile }) {
  const config = Object.fromEntries(Object.entries(sessionConfig ?? { "session.disable_quant_qdq": "1" })
    .map(([key, value]) => [key.replace(/^session\./, ""), value]));
  const bytes = await fetchWithProgress(modelUrl);
  const gpu = backend !== "wasm" && (await webgpuAvailable());
  let chosen = gpu ? "webgpu" : "wasm";
  let fallback = backend === "webgpu" && !gpu ? "unavailable" : null;
  try {
    session = await createSession(bytes, chosen, threads, config, profile);
  } catch (error) {
    if (chosen !== "webgpu") throw error;
    chosen = "wasm"; // a WebGPU adapter that cannot run the model: fall back to the CPU
    fallback = backend === "webgpu" ? "failed" : null;
    session = await createSession(bytes, chosen, threads, config, profile);
  }
  postMessage({
    type: "ready", id, backend: chosen, requested: backend, fallback, bytes: bytes.length,
    threads: chosen === "wasm" ? ort.env.wasm.numThreads : 0,
  });
}

/** NCHW floats in [-1, 1] -> RGBA bytes, image after image. */
function toRGBA(data, n, size) {
  const plane = size * size;
  const out = new Uint8ClampedArray(n * plane * 4);
  for (let k = 0; k < n; k++) {
    const src = k * 3 * plane;
    const dst = k * plane * 4;
    for (let i = 0; i < plane; i++) {
      out[dst + 4 * i] = (data[src + i] + 1) * 127.5;
      out[dst + 4 * i + 1] = (data[src + plane + i] + 1) * 127.5;
      out[dst + 4 * i + 2] = (data[src + 2 * plane + i] + 1) * 127.5;
      out[dst + 4 * i + 3] = 255;
    }
  }
  return out;
}

async function run({ id, z, c, n }) {
  const feeds = {
    z: new ort.Tensor("float32", z, [n, z.length / n]),
    c: new ort.Tensor("float32", c, [n, c.length / n]),
  };
  const start = performance.now();
  const { image } = await session.run(feeds);
  const ms = performance.now() - start;
  const pixels = toRGBA(image.data, n, image.dims[2]);
  postMessage({ type: "result", id, pixels, size: image.dims[2], ms }, [pixels.buffer]);
}

self.onmessage = async ({ data }) => {
  try {
    if (data.type === "init") await init(data);
    else if (data.type === "run") await run(data);
    else if (data.type === "endProfiling") {
      session.endProfiling();
      postMessage({ type: "profiled", id: data.id });
    }
  } catch (error) {
    postMessage({ type: "error", id: data.id, message: String(error?.message ?? error) });
  }
};
