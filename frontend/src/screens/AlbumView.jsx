// One album: the same grid and viewer, rename, delete, share, remove from album.
import { lazy, Suspense, useState } from "react";
import { useNavigate, useParams } from "react-router";
import { useTranslation } from "react-i18next";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Box, Button, Stack, Typography } from "@mui/material";
import { albums, assets } from "../api/client.js";
import AssetBrowser from "../components/AssetBrowser.jsx";
import { ConfirmDialog, TextDialog } from "../components/dialogs.jsx";
import { useAssetList } from "../components/useAssetList.js";

const ShareDialog = lazy(() => import("../components/ShareDialog.jsx"));

export default function AlbumView() {
  const { t } = useTranslation();
  const { albumId } = useParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [dialog, setDialog] = useState(null);
  const album = useQuery({ queryKey: ["albums", albumId], queryFn: () => albums.get(albumId) });
  const list = useAssetList(["assets", "album", albumId], (cursor, limit) =>
    assets.list({ album_id: albumId, cursor, limit }),
  );
  const name = album.data?.album?.title || "";
  return (
    <Box sx={{ p: { xs: 1, sm: 2 } }}>
      <Stack direction="row" alignItems="center" spacing={1} sx={{ mb: 1, flexWrap: "wrap" }}>
        <Typography variant="h5" component="h1" sx={{ flex: 1 }} data-testid="album-title">
          {name}
        </Typography>
        <Button onClick={() => setDialog("share")}>{t("actions.share")}</Button>
        <Button onClick={() => setDialog("rename")}>{t("albums.rename")}</Button>
        <Button color="error" onClick={() => setDialog("delete")}>
          {t("albums.delete")}
        </Button>
      </Stack>
      <AssetBrowser list={list} albumId={albumId} emptyText={t("albums.empty")} />
      {dialog === "rename" && (
        <TextDialog
          open
          title={t("albums.rename")}
          label={t("albums.name")}
          initial={name}
          onClose={() => setDialog(null)}
          onSubmit={async (value) => {
            await albums.rename(albumId, value);
            queryClient.invalidateQueries({ queryKey: ["albums"] });
            setDialog(null);
          }}
        />
      )}
      <ConfirmDialog
        open={dialog === "delete"}
        title={t("albums.delete")}
        text={t("albums.deleteText")}
        confirmLabel={t("albums.delete")}
        onClose={() => setDialog(null)}
        onConfirm={async () => {
          await albums.remove(albumId);
          queryClient.invalidateQueries({ queryKey: ["albums"] });
          navigate("/albums");
        }}
      />
      {dialog === "share" && (
        <Suspense fallback={null}>
          <ShareDialog open albumId={albumId} assets={[]} onClose={() => setDialog(null)} />
        </Suspense>
      )}
    </Box>
  );
}
