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

/** [key, text] for every string, plural forms included. */
function strings(obj, prefix = "") {
  return Object.entries(obj).flatMap(([k, v]) =>
    v && typeof v === "object" ? strings(v, prefix + k + ".") : [[prefix + k, String(v)]],
  );
}

const placeholders = (text) => [...text.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();
const pluralBase = (key) => key.replace(/_(one|few|many|other)$/, "");

describe("translations", () => {
  it("Russian leaves no English words (names such as QR and ISO aside)", () => {
    const english = strings(ru).filter(([, text]) =>
      /[A-Za-z]{2,}/.test(text.replace(/\{\{\w+\}\}/g, "").replace(/\b(QR|ISO)\b/g, "")),
    );
    expect(english).toEqual([]);
  });

  it("Russian fills the same placeholders as English", () => {
    const enBase = new Map(strings(en).map(([k, text]) => [pluralBase(k), placeholders(text)]));
    for (const [key, text] of strings(ru)) {
      const wanted = enBase.get(pluralBase(key));
      // a Russian plural form may spell out the number ("один") instead of {{count}}
      expect(
        placeholders(text).filter((p) => p !== "count"),
        key,
      ).toEqual(wanted.filter((p) => p !== "count"));
    }
  });

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
