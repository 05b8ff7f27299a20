// English and Russian, switchable, defaulting to the browser's language; the choice
// is remembered in localStorage.
import i18n from "i18next";
import { initReactI18next } from "react-i18next";
import en from "./en.js";
import ru from "./ru.js";

export const LANGUAGES = ["en", "ru"];

/** The saved language, else the browser's first supported one, else English. */
export function initialLanguage(saved, browserLanguages) {
  if (LANGUAGES.includes(saved)) return saved;
  for (const tag of browserLanguages || []) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return "en";
}

const saved = typeof localStorage !== "undefined" ? localStorage.getItem("itcloud.lang") : null;
const browser = typeof navigator !== "undefined" ? navigator.languages : [];

i18n.use(initReactI18next).init({
  resources: { en: { translation: en }, ru: { translation: ru } },
  lng: initialLanguage(saved, browser),
  fallbackLng: "en",
  interpolation: { escapeValue: false },
});

i18n.on("languageChanged", (lng) => {
  if (typeof document !== "undefined") document.documentElement.lang = lng;
});
if (typeof document !== "undefined") document.documentElement.lang = i18n.language;

/** Switch and remember the language. */
export function setLanguage(lng) {
  localStorage.setItem("itcloud.lang", lng);
  return i18n.changeLanguage(lng);
}

export default i18n;
