// My shares: what each covers, its state, views, and revoke.
import { useTranslation } from "react-i18next";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Box, Button, Chip, List, ListItem, ListItemText, Stack, Typography } from "@mui/material";
import { shares } from "../api/client.js";
import { formatDateTime } from "../lib/format.js";
import { shareLink } from "../components/ShareDialog.jsx";

export default function Shares() {
  const { t, i18n } = useTranslation();
  const queryClient = useQueryClient();
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
                      await shares.revoke(share.id);
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
