import { describe, expect, it, vi } from "vitest";
import { backoffMs, contentTypeOf, UploadQueue } from "./queue.js";

const file = (name, size = 10, type = "image/jpeg") => ({
  name,
  size,
  type,
  slice: (a, b) => ({ a, b }),
});

function fakeApi(overrides = {}) {
  let n = 0;
  return {
    create: vi.fn(async () => ({
      asset: { id: "asset-" + ++n },
      upload: { method: "PUT", url: "/put", headers: {} },
      duplicate: false,
    })),
    parts: vi.fn(async () => ({ parts: [], upload: { method: "PUT", url: "/put2", headers: {} } })),
    finalize: vi.fn(async () => ({})),
    ...overrides,
  };
}

function finished(queue) {
  return new Promise((resolve) => {
    queue.onFinished = () => resolve(queue.getSnapshot());
  });
}

const deps = (api, put) => ({
  api,
  put,
  hash: async (f) => "sha-" + f.name,
  sleep: async () => {},
});

describe("UploadQueue", () => {
  it("uploads every file with at most four in flight", async () => {
    let inFlight = 0;
    let most = 0;
    const put = vi.fn(async (url, body, headers, progress) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 1));
      progress(10);
      inFlight--;
      return null;
    });
    const api = fakeApi();
    const queue = new UploadQueue(deps(api, put));
    const done = finished(queue);
    queue.add(Array.from({ length: 12 }, (_, i) => file(`p${i}.jpg`)));
    const snap = await done;
    expect(snap.done).toBe(12);
    expect(snap.sent).toBe(120);
    expect(most).toBe(4);
    expect(api.finalize).toHaveBeenCalledTimes(12);
  });

  it("reports duplicates without sending their bytes", async () => {
    const api = fakeApi({ create: vi.fn(async () => ({ asset: { id: "x" }, duplicate: true })) });
    const put = vi.fn();
    const queue = new UploadQueue(deps(api, put));
    const done = finished(queue);
    queue.add([file("same.jpg")]);
    const snap = await done;
    expect(snap.duplicates).toBe(1);
    expect(put).not.toHaveBeenCalled();
  });

  it("retries a failed PUT on the same upload, then lists a permanent failure", async () => {
    const put = vi
      .fn()
      .mockRejectedValueOnce(Object.assign(new Error("network"), { status: 0 }))
      .mockResolvedValueOnce(null);
    const api = fakeApi();
    const queue = new UploadQueue(deps(api, put));
    let done = finished(queue);
    queue.add([file("a.jpg")]);
    let snap = await done;
    expect(snap.done).toBe(1);
    expect(api.create).toHaveBeenCalledTimes(1);
    expect(api.parts).toHaveBeenCalledWith("asset-1");

    const refused = fakeApi({
      create: vi.fn(async () => {
        throw Object.assign(new Error("quota exceeded"), { status: 413, code: "quota_exceeded" });
      }),
    });
    const queue2 = new UploadQueue(deps(refused, put));
    done = finished(queue2);
    queue2.add([file("b.jpg")]);
    snap = await done;
    expect(snap.failed).toBe(1);
    expect(snap.items[0].error).toBe("quota exceeded");
    expect(snap.items[0].errorCode).toBe("quota_exceeded");
    expect(refused.create).toHaveBeenCalledTimes(1);
  });

  it("sends multipart uploads part by part and skips parts already stored", async () => {
    const upload = {
      method: "multipart",
      part_size: 5,
      parts: [
        { part_number: 1, size_bytes: 5, url: "/p1" },
        { part_number: 2, size_bytes: 5, url: "/p2" },
      ],
    };
    const put = vi
      .fn()
      .mockResolvedValueOnce('"e1"')
      .mockRejectedValueOnce(Object.assign(new Error("reset"), { status: 0 }))
      .mockResolvedValueOnce('"e2"');
    const api = fakeApi({
      create: vi.fn(async () => ({ asset: { id: "big" }, upload, duplicate: false })),
      parts: vi.fn(async () => ({
        parts: [{ part_number: 1, etag: '"e1"', size_bytes: 5 }],
        upload,
      })),
    });
    const queue = new UploadQueue(deps(api, put));
    const done = finished(queue);
    queue.add([file("big.mp4", 10, "video/mp4")]);
    await done;
    expect(put.mock.calls.map((c) => c[0])).toEqual(["/p1", "/p2", "/p2"]);
    expect(api.finalize).toHaveBeenCalledWith("big", [
      { part_number: 1, etag: '"e1"' },
      { part_number: 2, etag: '"e2"' },
    ]);
  });

  it("skips files that are not photos or videos", () => {
    const queue = new UploadQueue(deps(fakeApi(), vi.fn()));
    queue.add([file("notes.txt", 5, "text/plain")]);
    expect(queue.getSnapshot().items[0]).toMatchObject({ status: "failed", error: "unsupported" });
  });
});

describe("helpers", () => {
  it("backs off exponentially up to 30 s", () => {
    expect([1, 2, 3, 10].map(backoffMs)).toEqual([1000, 2000, 4000, 30000]);
  });
  it("guesses a content type from the extension when the browser gives none", () => {
    expect(contentTypeOf({ name: "IMG_1.HEIC", type: "" })).toBe("image/heic");
    expect(contentTypeOf({ name: "a.jpg", type: "image/jpeg" })).toBe("image/jpeg");
  });
});
