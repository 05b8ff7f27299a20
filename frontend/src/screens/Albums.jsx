// Albums with covers and counts; create one.
import { useState } from "react";
import { Link as RouterLink, useNavigate } from "react-router";
import { useTranslation } from "react-i18next";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Box, Button, Card, CardActionArea, CardContent, Stack, Typography } from "@mui/material";
import { albums } from "../api/client.js";
import { TextDialog } from "../components/dialogs.jsx";

export default function Albums() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [creating, setCreating] = useState(false);
  const list = useQuery({ queryKey: ["albums"], queryFn: albums.list });
  return (
    <Box sx={{ p: 2 }}>
      <Stack direction="row" alignItems="center" sx={{ mb: 2 }}>
        <Typography variant="h5" component="h1" sx={{ flex: 1 }}>
          {t("nav.albums")}
        </Typography>
        <Button variant="contained" onClick={() => setCreating(true)}>
          {t("albums.new")}
        </Button>
      </Stack>
      {list.data && !list.data.items.length && (
        <Typography color="text.secondary">{t("albums.none")}</Typography>
      )}
      <Box
        sx={{
          display: "grid",
          gap: 2,
          gridTemplateColumns: "repeat(auto-fill, minmax(180px, 1fr))",
        }}
      >
        {(list.data?.items || []).map((album) => (
          <Card key={album.id} data-testid="album-card">
            <CardActionArea component={RouterLink} to={`/albums/${album.id}`}>
              <Box sx={{ aspectRatio: "1", overflow: "hidden", bgcolor: "action.hover" }}>
                {album.cover?.thumb_url && (
                  <img
                    src={album.cover.thumb_url}
                    alt=""
                    loading="lazy"
                    style={{ width: "100%", height: "100%", objectFit: "cover", display: "block" }}
                  />
                )}
              </Box>
              <CardContent>
                <Typography noWrap>{album.title}</Typography>
                <Typography variant="body2" color="text.secondary">
                  {t("albums.count", { count: album.asset_count })}
                </Typography>
              </CardContent>
            </CardActionArea>
          </Card>
        ))}
      </Box>
      {creating && (
        <TextDialog
          open
          title={t("albums.new")}
          label={t("albums.name")}
          submitLabel={t("albums.create")}
          onClose={() => setCreating(false)}
          onSubmit={async (name) => {
            const body = await albums.create(name);
            queryClient.invalidateQueries({ queryKey: ["albums"] });
            setCreating(false);
            navigate(`/albums/${body.album.id}`);
          }}
        />
      )}
    </Box>
  );
}
