// The generator's worker, seen from the page: load a model (with download progress), run it.

/** One worker running one model. `onProgress({loaded, total})` follows the download. */
export class Engine {
  constructor(onProgress = () => {}) {
    this.worker = new Worker("worker.js", { type: "module" });
    this.pending = new Map();
    this.nextId = 1;
    this.worker.onmessage = ({ data }) => {
      if (data.type === "progress") return onProgress(data);
      const id = data.id ?? 0;
      const waiting = this.pending.get(id);
      if (!waiting) return;
      this.pending.delete(id);
      if (data.type === "error") waiting.reject(new Error(data.message));
      else waiting.resolve(data);
    };
  }

  #call(id, message, transfer = []) {
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  /** Download and open the model; resolves {backend, threads, requested, fallback, bytes}. */
  load(modelUrl, threads, backend, sessionConfig, profile = false) {
    return this.#call(0, { type: "init", modelUrl, threads, backend, sessionConfig, profile });
  }

  /** Print onnxruntime's profile of the runs so far to the worker's console. */
  endProfiling() {
    return this.#call(this.nextId++, { type: "endProfiling" });
  }

  /** n faces: z [n * zDim], c [n * tags] -> {pixels (RGBA, n images), size, ms}. */
  run(z, c, n = 1) {
    return this.#call(this.nextId++, { type: "run", z, c, n });
  }

  terminate() {
    this.worker.terminate();
    for (const { reject } of this.pending.values()) reject(new Error("the model was replaced"));
    this.pending.clear();
  }
}
