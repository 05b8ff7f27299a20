// My shares: what each covers, its state, views, and revoke.
import { useTranslation } from "react-i18next";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Box, Button, Chip, List, ListItem, ListItemText, Stack, Typography } from "@mui/material";
import { shares } from "../api/client.js";
import { formatDateTime } from "../lib/format.js";
import { shareLink } from "../components/ShareDialog.jsx";

/** active | expired | revoked, from the share's fields when the server gives no state. */
export function shareState(share, now = Date.now()) {
  if (share.state) return share.state;
  if (share.revoked_at) return "revoked";
  if (share.expires_at && new Date(share.expires_at).getTime() <= now) return "expired";
  return "active";
}

export default function Shares() {
  const { t, i18n } = useTranslation();
  const queryClient = useQueryClient();
  const list = useQuery({ queryKey: ["shares"], queryFn: shares.list });
  const items = list.data?.items || list.data?.shares || [];
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
          const state = shareState(share);
          const token = share.token;
          return (
            <ListItem key={share.id || token} divider data-testid="share-row">
              <ListItemText
                primary={
                  share.album_name ||
                  share.title ||
                  (share.album_id ? t("share.album") : t("share.asset"))
                }
                secondary={[
                  t("share.views", { count: share.view_count || 0 }),
                  share.expires_at
                    ? t("share.expires", { when: formatDateTime(share.expires_at, i18n.language) })
                    : t("share.never"),
                  share.has_password ? t("share.withPassword") : null,
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
                    onClick={() => navigator.clipboard?.writeText(shareLink(token))}
                  >
                    {t("share.copy")}
                  </Button>
                )}
                {state === "active" && (
                  <Button
                    size="small"
                    color="error"
                    onClick={async () => {
                      await shares.revoke(share.id || token);
                      queryClient.invalidateQueries({ queryKey: ["shares"] });
                    }}
                  >
                    {t("share.revoke")}
                  </Button>
                )}
              </Stack>
            </ListItem>
          );
        })}
      </List>
    </Box>
  );
}
