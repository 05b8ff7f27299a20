// Web Worker: SHA-256 of a File, read in 4 MiB slices so memory stays flat for large
// videos. Posts { progress } while reading and { hex } (or { error }) at the end.
import { createSHA256 } from "hash-wasm";

const SLICE = 4 * 1024 * 1024;

self.onmessage = async (event) => {
  const file = event.data;
  try {
    const hasher = await createSHA256();
    hasher.init();
    for (let offset = 0; offset < file.size; offset += SLICE) {
      const chunk = new Uint8Array(await file.slice(offset, offset + SLICE).arrayBuffer());
      hasher.update(chunk);
      self.postMessage({ progress: Math.min(file.size, offset + SLICE) });
    }
    self.postMessage({ hex: hasher.digest("hex") });
  } catch (err) {
    self.postMessage({ error: String(err) });
  }
};
