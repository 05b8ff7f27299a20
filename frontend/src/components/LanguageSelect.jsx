import { MenuItem, TextField } from "@mui/material";
import { useTranslation } from "react-i18next";
import { LANGUAGES, setLanguage } from "../i18n/index.js";

const NAMES = { en: "English", ru: "Русский" };

export default function LanguageSelect() {
  const { t, i18n } = useTranslation();
  return (
    <TextField
      select
      size="small"
      label={t("settings.language")}
      value={i18n.resolvedLanguage}
      onChange={(e) => setLanguage(e.target.value)}
      slotProps={{ htmlInput: { "data-testid": "language" } }}
    >
      {LANGUAGES.map((lng) => (
        <MenuItem key={lng} value={lng} lang={lng}>
          {NAMES[lng]}
        </MenuItem>
      ))}
    </TextField>
  );
}
