import { describe, expect, it } from "vitest";
import { hasPreview } from "./media.js";

describe("hasPreview", () => {
  it("is true only for photos larger than the preview, or of unknown size", () => {
    expect(hasPreview({ width: 4000, height: 3000 })).toBe(true);
    expect(hasPreview({ width: 1536, height: 2049 })).toBe(true);
    expect(hasPreview({ width: 2048, height: 1536 })).toBe(false);
    expect(hasPreview({ width: 320, height: 240 })).toBe(false);
    expect(hasPreview({})).toBe(true);
  });
});
