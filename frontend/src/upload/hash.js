// Hashes a file in a Web Worker, off the main thread.

/** @returns {Promise<string>} the SHA-256 as lowercase hex */
export function sha256File(file) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./hashWorker.js", import.meta.url), { type: "module" });
    worker.onmessage = (event) => {
      if (event.data.hex) {
        worker.terminate();
        resolve(event.data.hex);
      } else if (event.data.error) {
        worker.terminate();
        reject(new Error(event.data.error));
      }
    };
    worker.onerror = (event) => {
      worker.terminate();
      reject(new Error(event.message || "hashing failed"));
    };
    worker.postMessage(file);
  });
}
