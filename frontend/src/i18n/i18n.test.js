import { describe, expect, it } from "vitest";
import en from "./en.js";
import ru from "./ru.js";
import { initialLanguage } from "./index.js";

// Plural suffixes differ between languages; a key counts once per base name.
function keys(obj, prefix = "") {
  return Object.entries(obj).flatMap(([k, v]) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? keys(v, prefix + k + ".")
      : [prefix + k.replace(/_(one|few|many|other)$/, "")],
  );
}

describe("translations", () => {
  it("Russian has every English key and no other", () => {
    expect([...new Set(keys(ru))].sort()).toEqual([...new Set(keys(en))].sort());
  });

  it("Russian has all four plural forms wherever English has a count", () => {
    const counted = Object.keys(en.trash).filter((k) => k.endsWith("_other"));
    for (const key of counted) {
      const base = key.replace(/_other$/, "");
      for (const form of ["one", "few", "many", "other"]) {
        expect(ru.trash[`${base}_${form}`], `${base}_${form}`).toBeTruthy();
      }
    }
  });
});

describe("initialLanguage", () => {
  it("prefers the saved choice, then the browser's languages, then English", () => {
    expect(initialLanguage("ru", ["en-US"])).toBe("ru");
    expect(initialLanguage(null, ["de-DE", "ru-RU"])).toBe("ru");
    expect(initialLanguage(null, ["de-DE"])).toBe("en");
  });
});
