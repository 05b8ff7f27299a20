// My shares: what each covers, its state, views, copying the link, and revoke (after a
// confirmation: a revoked link stops working for good).
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import {
  Box,
  Button,
  Chip,
  List,
  ListItem,
  ListItemText,
  Snackbar,
  Stack,
  Typography,
} from "@mui/material";
import { shares } from "../api/client.js";
import { formatDateTime } from "../lib/format.js";
import { shareLink } from "../components/ShareDialog.jsx";
import { ConfirmDialog } from "../components/dialogs.jsx";
import { errorText } from "../lib/errors.js";

export default function Shares() {
  const { t, i18n } = useTranslation();
  const queryClient = useQueryClient();
  const [revoking, setRevoking] = useState(null);
  const [message, setMessage] = useState(null);
  const list = useQuery({ queryKey: ["shares"], queryFn: shares.list });
  const items = list.data?.items || [];
  return (
    <Box sx={{ p: 2, maxWidth: 900 }}>
      <Typography variant="h5" component="h1">
        {t("nav.shares")}
      </Typography>
      {list.data && !items.length && (
        <Typography color="text.secondary">{t("share.none")}</Typography>
      )}
      <List>
        {items.map((share) => {
          const { state, token } = share;
          return (
            <ListItem key={share.id} divider data-testid="share-row">
              <ListItemText
                primary={
                  share.type === "album"
                    ? t("share.album", { title: share.album_title })
                    : t("share.asset", { name: share.asset_filename })
                }
                secondary={[
                  t("share.views", { count: share.view_count || 0 }),
                  share.expires_at
                    ? t("share.expires", { when: formatDateTime(share.expires_at, i18n.language) })
                    : t("share.never"),
                  share.password_protected ? t("share.withPassword") : null,
                ]
                  .filter(Boolean)
                  .join(" · ")}
              />
              <Stack direction="row" spacing={1} alignItems="center">
                <Chip
                  size="small"
                  label={t("share.states." + state)}
                  color={state === "active" ? "success" : "default"}
                />
                {token && state === "active" && (
                  <Button
                    size="small"
                    onClick={async () => {
                      await navigator.clipboard?.writeText(shareLink(token)).catch(() => {});
                      setMessage(t("share.copied"));
                    }}
                  >
                    {t("share.copy")}
                  </Button>
                )}
                {state === "active" && (
                  <Button size="small" color="error" onClick={() => setRevoking(share)}>
                    {t("share.revoke")}
                  </Button>
                )}
              </Stack>
            </ListItem>
          );
        })}
      </List>
      <ConfirmDialog
        open={!!revoking}
        title={t("share.revoke")}
        text={t("share.revokeText")}
        confirmLabel={t("share.revoke")}
        onClose={() => setRevoking(null)}
        onConfirm={async () => {
          const share = revoking;
          setRevoking(null);
          try {
            await shares.revoke(share.id);
          } catch (err) {
            setMessage(errorText(t, err));
          }
          queryClient.invalidateQueries({ queryKey: ["shares"] });
        }}
      />
      <Snackbar
        open={!!message}
        autoHideDuration={4000}
        onClose={() => setMessage(null)}
        message={message}
      />
    </Box>
  );
}
