// Share an asset, an album, or a selection (which becomes an album first): expiry,
// password, downloads; then the link to copy, and its QR code.
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { useQueryClient } from "@tanstack/react-query";
import {
  Alert,
  Box,
  Button,
  Dialog,
  DialogActions,
  DialogContent,
  DialogTitle,
  FormControlLabel,
  MenuItem,
  Stack,
  Switch,
  TextField,
} from "@mui/material";
import { albumOf, shares } from "../api/client.js";
import { errorText } from "../lib/errors.js";

const EXPIRY_DAYS = [0, 1, 7, 30, 365];

/** The public address of a share token. */
export function shareLink(token) {
  return `${window.location.origin}/s/${token}`;
}

export default function ShareDialog({ open, assets, albumId, onClose }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [days, setDays] = useState(7);
  const [password, setPassword] = useState("");
  const [allowDownload, setAllowDownload] = useState(true);
  const [link, setLink] = useState(null);
  const [qr, setQr] = useState(null);
  const [error, setError] = useState(null);
  const [copied, setCopied] = useState(false);

  useEffect(() => {
    if (!link) return;
    import("qrcode")
      .then((QR) => QR.toDataURL(link, { margin: 1, width: 200 }))
      .then(setQr, () => setQr(null));
  }, [link]);

  async function create() {
    setError(null);
    try {
      const input = { allow_download: allowDownload };
      if (albumId) input.album_id = albumId;
      else if (assets.length === 1) input.asset_id = assets[0].id;
      else {
        const name = t("share.albumName", { date: new Date().toLocaleDateString() });
        const album = await albumOf(
          name,
          assets.map((a) => a.id),
        );
        input.album_id = album.id;
      }
      if (days) input.expires_at = new Date(Date.now() + days * 86400000).toISOString();
      if (password) input.password = password;
      const body = await shares.create(input);
      setLink(shareLink(body.share.token));
      queryClient.invalidateQueries({ queryKey: ["shares"] });
      queryClient.invalidateQueries({ queryKey: ["albums"] });
    } catch (err) {
      setError(errorText(t, err));
    }
  }

  return (
    <Dialog open={open} onClose={onClose} fullWidth maxWidth="xs">
      <DialogTitle>{t("share.title")}</DialogTitle>
      <DialogContent>
        {error && <Alert severity="error">{error}</Alert>}
        {!link ? (
          <Stack spacing={2} sx={{ mt: 1 }}>
            <TextField
              select
              label={t("share.expiry")}
              value={days}
              onChange={(e) => setDays(Number(e.target.value))}
            >
              {EXPIRY_DAYS.map((d) => (
                <MenuItem key={d} value={d}>
                  {d ? t("share.days", { count: d }) : t("share.never")}
                </MenuItem>
              ))}
            </TextField>
            <TextField
              label={t("share.password")}
              type="password"
              autoComplete="new-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              helperText={t("share.passwordHelp")}
            />
            <FormControlLabel
              control={
                <Switch
                  checked={allowDownload}
                  onChange={(e) => setAllowDownload(e.target.checked)}
                />
              }
              label={t("share.allowDownload")}
            />
          </Stack>
        ) : (
          <Stack spacing={2} sx={{ mt: 1 }} alignItems="center">
            <TextField
              fullWidth
              label={t("share.link")}
              value={link}
              slotProps={{ htmlInput: { readOnly: true, "data-testid": "share-link" } }}
              onFocus={(e) => e.target.select()}
            />
            <Button
              variant="outlined"
              onClick={async () => {
                await navigator.clipboard?.writeText(link).catch(() => {});
                setCopied(true);
              }}
            >
              {copied ? t("share.copied") : t("share.copy")}
            </Button>
            {qr && (
              <Box component="img" src={qr} alt={t("share.qr")} sx={{ width: 200, height: 200 }} />
            )}
          </Stack>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>{link ? t("common.done") : t("common.cancel")}</Button>
        {!link && (
          <Button variant="contained" onClick={create}>
            {t("share.create")}
          </Button>
        )}
      </DialogActions>
    </Dialog>
  );
}
