// The upload queue: hashes each file, creates the upload, sends the bytes straight to
// storage (one PUT, or parts that resume after a failure), finalizes, with a few files
// in flight at once; failures are retried with back-off, then left for the user to
// retry. Subscribers get a fresh snapshot after every change.

const CONCURRENCY = 4;
const MAX_ATTEMPTS = 4;

/** Back-off before attempt `n` (1-based): 1 s, 2 s, 4 s ... capped at 30 s. */
export function backoffMs(attempt) {
  return Math.min(30000, 1000 * 2 ** (attempt - 1));
}

const EXT_TYPES = {
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  gif: "image/gif",
  bmp: "image/bmp",
  heic: "image/heic",
  heif: "image/heif",
  mp4: "video/mp4",
  mov: "video/quicktime",
  webm: "video/webm",
  mkv: "video/x-matroska",
  m4v: "video/x-m4v",
};

/** The content type to announce: the browser's, else from the extension. */
export function contentTypeOf(file) {
  if (file.type) return file.type;
  const ext = (file.name.split(".").pop() || "").toLowerCase();
  return EXT_TYPES[ext] || "application/octet-stream";
}

/** Is this a file the library takes (photos and videos)? */
export function isMedia(file) {
  return /^(image|video)\//.test(contentTypeOf(file));
}

let nextId = 1;

export class UploadQueue {
  /**
   * @param {{ hash: (file: File) => Promise<string>, api: any, put: Function,
   *   sleep?: (ms: number) => Promise<void>, now?: () => number }} deps
   */
  constructor(deps) {
    this.deps = { sleep: (ms) => new Promise((r) => setTimeout(r, ms)), now: Date.now, ...deps };
    this.items = [];
    this.listeners = new Set();
    this.running = 0;
    this.snapshot = this.buildSnapshot();
    this.onFinished = () => {};
  }

  subscribe = (fn) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  getSnapshot = () => this.snapshot;

  emit() {
    this.snapshot = this.buildSnapshot();
    for (const fn of this.listeners) fn();
  }

  buildSnapshot() {
    const items = this.items.map((i) => ({ ...i }));
    const total = items.reduce((s, i) => s + i.size, 0);
    const sent = items.reduce((s, i) => s + i.sent, 0);
    const elapsed = this.startedAt ? (this.deps.now() - this.startedAt) / 1000 : 0;
    const speed = elapsed > 0 ? this.bytesThisRun / elapsed : 0;
    const pending = items.filter((i) => !["done", "duplicate", "failed"].includes(i.status));
    const remaining = pending.reduce((s, i) => s + (i.size - i.sent), 0);
    return {
      items,
      total,
      sent,
      speed,
      secondsLeft: speed > 0 ? remaining / speed : null,
      active: pending.length > 0,
      done: items.filter((i) => i.status === "done").length,
      duplicates: items.filter((i) => i.status === "duplicate").length,
      failed: items.filter((i) => i.status === "failed").length,
    };
  }

  /** Queue files (non-media files are skipped and reported as failed at once). */
  add(files) {
    if (!this.running && !this.snapshot.active) {
      this.startedAt = this.deps.now();
      this.bytesThisRun = 0;
    }
    for (const file of files) {
      const media = isMedia(file);
      this.items.push({
        id: nextId++,
        file,
        name: file.webkitRelativePath || file.name,
        size: file.size,
        sent: 0,
        status: media ? "queued" : "failed",
        error: media ? null : "unsupported",
        attempts: 0,
        assetId: null,
      });
    }
    this.emit();
    this.pump();
  }

  /** Put a failed file back in the queue. */
  retry(id) {
    const item = this.items.find((i) => i.id === id);
    if (item && item.status === "failed" && item.error !== "unsupported") {
      item.status = "queued";
      item.error = null;
      item.errorCode = null;
      item.attempts = 0;
      this.emit();
      this.pump();
    }
  }

  /** Forget finished files. */
  clearFinished() {
    this.items = this.items.filter((i) => !["done", "duplicate"].includes(i.status));
    this.emit();
  }

  pump() {
    while (this.running < CONCURRENCY) {
      const item = this.items.find((i) => i.status === "queued");
      if (!item) break;
      item.status = "hashing";
      this.running++;
      this.run(item).finally(() => {
        this.running--;
        this.emit();
        this.pump();
        if (!this.snapshot.active) this.onFinished();
      });
    }
  }

  async run(item) {
    for (;;) {
      item.attempts++;
      try {
        await this.attempt(item);
        return;
      } catch (err) {
        const permanent = err && err.status >= 400 && err.status < 500 && err.status !== 408;
        if (permanent || item.attempts >= MAX_ATTEMPTS) {
          item.status = "failed";
          item.error = (err && err.message) || "failed";
          item.errorCode = err && err.code;
          return;
        }
        item.status = "waiting";
        this.emit();
        await this.deps.sleep(backoffMs(item.attempts));
      }
    }
  }

  progress(item, base) {
    return (loaded) => {
      const value = base + loaded;
      this.bytesThisRun += Math.max(0, value - item.sent);
      item.sent = value;
      this.emit();
    };
  }

  async attempt(item) {
    const { api, hash, put } = this.deps;
    if (!item.sha256) {
      item.status = "hashing";
      this.emit();
      item.sha256 = await hash(item.file);
    }
    let upload;
    if (item.assetId) {
      // a retry: continue the same upload (stored parts are kept)
      upload = await api.parts(item.assetId).catch(() => null);
    }
    if (!upload) {
      const created = await api.create({
        filename: item.file.name,
        content_type: contentTypeOf(item.file),
        size_bytes: item.file.size,
        sha256: item.sha256,
      });
      if (created.duplicate) {
        item.status = "duplicate";
        item.sent = item.size;
        return;
      }
      item.assetId = created.asset.id;
      upload = { parts: [], upload: created.upload };
    }
    item.status = "uploading";
    item.sent = 0;
    this.emit();
    let parts;
    if (upload.upload.method === "PUT") {
      await put(upload.upload.url, item.file, upload.upload.headers, this.progress(item, 0));
    } else {
      parts = await this.sendParts(item, upload);
    }
    item.status = "finalizing";
    this.emit();
    await api.finalize(item.assetId, parts);
    item.sent = item.size;
    item.status = "done";
  }

  async sendParts(item, { parts: stored, upload }) {
    const { put } = this.deps;
    const done = new Map(stored.map((p) => [p.part_number, p.etag]));
    let base = stored.reduce((s, p) => s + p.size_bytes, 0);
    item.sent = base;
    for (const part of upload.parts) {
      if (done.has(part.part_number)) continue;
      const offset = (part.part_number - 1) * upload.part_size;
      const blob = item.file.slice(offset, offset + part.size_bytes);
      const etag = await put(part.url, blob, {}, this.progress(item, base));
      done.set(part.part_number, etag);
      base += part.size_bytes;
    }
    return [...done.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([part_number, etag]) => ({ part_number, etag }));
  }
}
