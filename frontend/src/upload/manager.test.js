import { describe, expect, it } from "vitest";
import { UploadQueue } from "./queue.js";
import { warnWhileActive } from "./manager.js";

const file = { name: "a.jpg", size: 10, type: "image/jpeg", slice: () => ({}) };

/** A queue whose one file stays in its PUT (`sending` resolves then) until `release()`. */
function stalledQueue() {
  let release;
  let sent;
  const sending = new Promise((resolve) => (sent = resolve));
  const put = () =>
    new Promise((resolve) => {
      release = () => resolve(null);
      sent();
    });
  const queue = new UploadQueue({
    api: {
      create: async () => ({ asset: { id: "a1" }, upload: { method: "PUT", url: "/put" } }),
      finalize: async () => ({}),
    },
    put,
    hash: async () => "sha",
    sleep: async () => {},
  });
  const done = new Promise((resolve) => (queue.onFinished = resolve));
  return { queue, sending, done, release: () => release() };
}

function leave(listener) {
  const event = new Event("beforeunload", { cancelable: true });
  listener(event);
  return event.defaultPrevented;
}

describe("leaving the page", () => {
  it("asks first while a file is in flight, and not once the uploads are over", async () => {
    const { queue, sending, done, release } = stalledQueue();
    const listener = warnWhileActive(queue);
    expect(leave(listener)).toBe(false);
    queue.add([file]);
    await sending;
    expect(leave(listener)).toBe(true);
    release();
    await done;
    expect(leave(listener)).toBe(false);
  });
});
