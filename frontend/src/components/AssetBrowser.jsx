// A grid with selection, bulk actions and the viewer: the library, an album, a tag.
// The same actions are offered for one asset from the viewer.
import { lazy, Suspense, useState } from "react";
import { useTranslation } from "react-i18next";
import { useQueryClient } from "@tanstack/react-query";
import { AppBar, IconButton, Snackbar, Toolbar, Tooltip, Typography } from "@mui/material";
import CloseIcon from "@mui/icons-material/Close";
import DeleteIcon from "@mui/icons-material/Delete";
import DownloadIcon from "@mui/icons-material/Download";
import FavoriteIcon from "@mui/icons-material/Favorite";
import LibraryAddIcon from "@mui/icons-material/LibraryAdd";
import LocalOfferIcon from "@mui/icons-material/LocalOffer";
import RemoveCircleIcon from "@mui/icons-material/RemoveCircleOutlined";
import ShareIcon from "@mui/icons-material/Share";
import { albumOf, albums, assets as assetsApi, tags } from "../api/client.js";
import AssetGrid from "./AssetGrid.jsx";
import { AlbumPicker, TextDialog } from "./dialogs.jsx";
import { downloadAll } from "./download.js";
import { ownerSource } from "./media.js";
import LazyViewer from "../viewer/LazyViewer.jsx";
import { errorText } from "../lib/errors.js";

const ShareDialog = lazy(() => import("./ShareDialog.jsx"));

export default function AssetBrowser({ list, albumId, emptyText, allYears, onJumpYear }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [selected, setSelected] = useState(() => new Set());
  const [viewing, setViewing] = useState(null);
  const [dialog, setDialog] = useState(null);
  const [message, setMessage] = useState(null);

  const refresh = () => {
    queryClient.invalidateQueries({ queryKey: ["assets"] });
    queryClient.invalidateQueries({ queryKey: ["albums"] });
    queryClient.invalidateQueries({ queryKey: ["tags"] });
    queryClient.invalidateQueries({ queryKey: ["usage"] });
  };

  async function run(fn, done) {
    try {
      await fn();
      setMessage(done);
      setSelected(new Set());
      refresh();
    } catch (err) {
      setMessage(errorText(t, err));
    }
  }

  /** Runs a named action on some assets; the viewer calls it for one. */
  function act(action, targets) {
    const ids = targets.map((a) => a.id);
    switch (action) {
      case "trash":
        // the viewer stays open on the next item, unless this was the last one
        if (viewing !== null && viewing >= list.items.length - 1) setViewing(null);
        return run(() => assetsApi.bulk("trash", ids), t("library.trashed", { count: ids.length }));
      case "favorite":
        return run(
          () => assetsApi.favorite(ids, !targets.every((a) => a.favorite)),
          t("library.favorited"),
        );
      case "download":
        return downloadAll(ownerSource, targets);
      case "removeFromAlbum":
        return run(
          () => albums.removeAssets(albumId, ids),
          t("albums.removed", { count: ids.length }),
        );
      default:
        return setDialog({ action, targets });
    }
  }

  const selectedAssets = () => list.items.filter((a) => selected.has(a.id));
  const closeDialog = () => setDialog(null);

  return (
    <>
      {selected.size > 0 && (
        <AppBar
          position="sticky"
          color="default"
          sx={{ top: { xs: 56, sm: 64 } }}
          data-testid="selection-bar"
        >
          <Toolbar variant="dense">
            <IconButton
              edge="start"
              aria-label={t("library.clearSelection")}
              onClick={() => setSelected(new Set())}
            >
              <CloseIcon />
            </IconButton>
            <Typography sx={{ flex: 1 }} data-testid="selection-count">
              {t("library.selected", { count: selected.size })}
            </Typography>
            {[
              ["addToAlbum", <LibraryAddIcon key="i" />, t("actions.addToAlbum")],
              ["tag", <LocalOfferIcon key="i" />, t("actions.tag")],
              ["favorite", <FavoriteIcon key="i" />, t("actions.favorite")],
              ["share", <ShareIcon key="i" />, t("actions.share")],
              ["download", <DownloadIcon key="i" />, t("actions.download")],
              ...(albumId
                ? [["removeFromAlbum", <RemoveCircleIcon key="i" />, t("actions.removeFromAlbum")]]
                : []),
              ["trash", <DeleteIcon key="i" />, t("actions.trash")],
            ].map(([action, icon, label]) => (
              <Tooltip key={action} title={label}>
                <IconButton aria-label={label} onClick={() => act(action, selectedAssets())}>
                  {icon}
                </IconButton>
              </Tooltip>
            ))}
          </Toolbar>
        </AppBar>
      )}
      <AssetGrid
        list={list}
        selected={selected}
        onSelectedChange={setSelected}
        onOpen={setViewing}
        emptyText={emptyText}
        allYears={allYears}
        onJumpYear={onJumpYear}
      />
      <LazyViewer
        items={list.items}
        viewing={viewing}
        onViewing={setViewing}
        onAction={act}
        more={list}
      />
      <AlbumPicker
        open={dialog?.action === "addToAlbum"}
        onClose={closeDialog}
        onPick={(pick) => {
          const ids = dialog.targets.map((a) => a.id);
          closeDialog();
          run(
            async () => {
              if (pick.id) await albums.addAssets(pick.id, ids);
              else await albumOf(pick.name, ids);
            },
            t("albums.added", { count: ids.length }),
          );
        }}
      />
      {dialog?.action === "tag" && (
        <TextDialog
          open
          title={t("actions.tag")}
          label={t("tags.name")}
          onClose={closeDialog}
          onSubmit={(name) => {
            const ids = dialog.targets.map((a) => a.id);
            closeDialog();
            run(() => tags.attach([name], ids), t("tags.attached", { count: ids.length }));
          }}
        />
      )}
      {dialog?.action === "share" && (
        <Suspense fallback={null}>
          <ShareDialog
            open
            assets={dialog.targets}
            albumId={dialog.targets.length === 0 ? albumId : undefined}
            onClose={() => {
              closeDialog();
              setSelected(new Set());
            }}
          />
        </Suspense>
      )}
      <Snackbar
        open={!!message}
        autoHideDuration={4000}
        onClose={() => setMessage(null)}
        message={message}
      />
    </>
  );
}
