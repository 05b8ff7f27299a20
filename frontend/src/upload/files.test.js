import { describe, expect, it } from "vitest";
import { filesFromDrop } from "./files.js";

const file = (name) => ({
  isFile: true,
  isDirectory: false,
  file: (resolve) => resolve({ name }),
});

/** A folder whose reader hands out its children two at a time, as browsers do in
 * batches (up to 100 in Chromium). */
const folder = (children) => ({
  isFile: false,
  isDirectory: true,
  createReader() {
    let at = 0;
    return {
      readEntries(resolve) {
        const batch = children.slice(at, at + 2);
        at += batch.length;
        resolve(batch);
      },
    };
  },
});

const drop = (entries, files = []) => ({
  items: entries.map((entry) => ({ webkitGetAsEntry: () => entry })),
  files,
});

describe("filesFromDrop", () => {
  it("walks dropped folders and their subfolders, batch after batch", async () => {
    const tree = [
      file("top.jpg"),
      folder([file("a.jpg"), file("b.jpg"), folder([file("c.mp4")]), file("d.jpg"), folder([])]),
    ];
    const names = (await filesFromDrop(drop(tree))).map((f) => f.name);
    expect(names).toEqual(["top.jpg", "a.jpg", "b.jpg", "c.mp4", "d.jpg"]);
  });

  it("takes the plain file list when the browser gives no entries", async () => {
    const files = [{ name: "x.jpg" }];
    expect(await filesFromDrop({ items: [], files })).toEqual(files);
  });
});
