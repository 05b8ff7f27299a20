// Language, theme, storage used against the quota, the signed-in devices by name, and
// sign-out everywhere (after a confirmation).
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useQuery } from "@tanstack/react-query";
import {
  Box,
  Button,
  FormControlLabel,
  LinearProgress,
  List,
  ListItem,
  ListItemText,
  Paper,
  Radio,
  RadioGroup,
  Stack,
  Typography,
} from "@mui/material";
import { useColorScheme } from "@mui/material/styles";
import { assets, auth } from "../api/client.js";
import { useAuth } from "../auth/AuthContext.jsx";
import { ConfirmDialog } from "../components/dialogs.jsx";
import LanguageSelect from "../components/LanguageSelect.jsx";
import { deviceName } from "../lib/device.js";
import { formatBytes, formatDateTime } from "../lib/format.js";

export default function Settings() {
  const { t, i18n } = useTranslation();
  const { user, signOut } = useAuth();
  const { mode, setMode } = useColorScheme();
  const [confirming, setConfirming] = useState(false);
  const usage = useQuery({ queryKey: ["usage"], queryFn: assets.usage });
  const sessions = useQuery({ queryKey: ["sessions"], queryFn: auth.sessions });
  const units = t("units", { returnObjects: true });
  const u = usage.data;
  const size = (n) => formatBytes(n, i18n.language, units);

  return (
    <Stack spacing={2} sx={{ p: 2, maxWidth: 720 }}>
      <Typography variant="h5" component="h1">
        {t("nav.settings")}
      </Typography>
      <Paper sx={{ p: 2 }}>
        <Typography variant="h6" component="h2" gutterBottom>
          {t("settings.appearance")}
        </Typography>
        <LanguageSelect />
        <RadioGroup
          row
          aria-label={t("settings.theme")}
          value={mode || "system"}
          onChange={(e) => setMode(e.target.value)}
          sx={{ mt: 1 }}
        >
          {["light", "dark", "system"].map((m) => (
            <FormControlLabel
              key={m}
              value={m}
              control={<Radio />}
              label={t("settings.themes." + m)}
            />
          ))}
        </RadioGroup>
      </Paper>
      <Paper sx={{ p: 2 }}>
        <Typography variant="h6" component="h2" gutterBottom>
          {t("settings.storage")}
        </Typography>
        {u && (
          <Box data-testid="usage">
            <Typography>
              {u.quota_bytes
                ? t("settings.usedOf", { used: size(u.used_bytes), quota: size(u.quota_bytes) })
                : t("settings.used", { used: size(u.used_bytes) })}
            </Typography>
            {u.quota_bytes ? (
              <LinearProgress
                variant="determinate"
                value={Math.min(100, (100 * u.used_bytes) / u.quota_bytes)}
                aria-label={t("settings.storage")}
                sx={{ my: 1 }}
              />
            ) : null}
            <Typography variant="body2" color="text.secondary">
              {t("settings.counts", { photos: u.photos, videos: u.videos, trashed: u.trashed })}
            </Typography>
          </Box>
        )}
      </Paper>
      <Paper sx={{ p: 2 }}>
        <Typography variant="h6" component="h2" gutterBottom>
          {t("settings.sessions")}
        </Typography>
        <Typography variant="body2">{user?.email}</Typography>
        <List dense>
          {(sessions.data?.sessions || []).map((s) => (
            <ListItem key={s.id} disableGutters>
              <ListItemText
                primary={deviceName(s.user_agent) || t("settings.unknownDevice")}
                title={s.user_agent || undefined}
                secondary={t("settings.lastUsed", {
                  when: formatDateTime(s.last_used_at || s.created_at, i18n.language),
                })}
              />
            </ListItem>
          ))}
        </List>
        <Stack direction="row" spacing={1}>
          <Button variant="outlined" onClick={() => signOut(false)}>
            {t("auth.signOut")}
          </Button>
          <Button color="error" variant="outlined" onClick={() => setConfirming(true)}>
            {t("settings.signOutEverywhere")}
          </Button>
        </Stack>
      </Paper>
      <ConfirmDialog
        open={confirming}
        title={t("settings.signOutEverywhere")}
        text={t("settings.signOutEverywhereText")}
        confirmLabel={t("settings.signOutEverywhere")}
        onClose={() => setConfirming(false)}
        onConfirm={() => signOut(true)}
      />
    </Stack>
  );
}
