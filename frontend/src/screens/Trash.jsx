// The trash: restore, delete forever, empty; each tile shows the days it has left and
// opens in the viewer, which offers restore and delete forever.
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, Box, Button, Snackbar, Stack, Typography } from "@mui/material";
import { assets } from "../api/client.js";
import AssetGrid from "../components/AssetGrid.jsx";
import { ConfirmDialog } from "../components/dialogs.jsx";
import { useAssetList } from "../components/useAssetList.js";
import { daysLeft } from "../lib/format.js";
import LazyViewer from "../viewer/LazyViewer.jsx";
import { errorText } from "../lib/errors.js";

export default function Trash() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [selected, setSelected] = useState(() => new Set());
  const [confirm, setConfirm] = useState(null);
  const [message, setMessage] = useState(null);
  const [viewing, setViewing] = useState(null);
  const usage = useQuery({ queryKey: ["usage"], queryFn: assets.usage });
  const retention = usage.data?.trash_retention_days || 30;
  const list = useAssetList(["assets", "trash"], (cursor, limit) =>
    assets.list({ trashed: true, cursor, limit }),
  );

  async function run(fn, done) {
    setConfirm(null);
    try {
      await fn();
      setMessage(done);
      setSelected(new Set());
    } catch (err) {
      setMessage(errorText(t, err));
    }
    queryClient.invalidateQueries({ queryKey: ["assets"] });
    queryClient.invalidateQueries({ queryKey: ["usage"] });
  }

  const ids = [...selected];
  const restore = (targets) =>
    run(() => assets.bulk("restore", targets), t("trash.restored", { count: targets.length }));
  /** The viewer's actions on the one item it shows. */
  const act = (action, [asset]) => {
    setViewing(null);
    if (action === "restore") restore([asset.id]);
    else setConfirm({ kind: "purge", ids: [asset.id] });
  };
  return (
    <Box sx={{ p: { xs: 1, sm: 2 } }}>
      <Stack direction="row" alignItems="center" spacing={1} sx={{ mb: 1, flexWrap: "wrap" }}>
        <Typography variant="h5" component="h1" sx={{ flex: 1 }}>
          {t("nav.trash")}
        </Typography>
        {ids.length > 0 ? (
          <>
            <Typography data-testid="selection-count">
              {t("library.selected", { count: ids.length })}
            </Typography>
            <Button onClick={() => restore(ids)}>{t("trash.restore")}</Button>
            <Button color="error" onClick={() => setConfirm({ kind: "purge", ids })}>
              {t("trash.deleteForever")}
            </Button>
          </>
        ) : (
          <Button
            color="error"
            variant="outlined"
            disabled={!list.items.length}
            onClick={() => setConfirm({ kind: "empty" })}
          >
            {t("trash.empty")}
          </Button>
        )}
      </Stack>
      <Alert severity="info" sx={{ mb: 1 }}>
        {t("trash.retention", { count: retention })}
      </Alert>
      <AssetGrid
        list={list}
        selected={selected}
        onSelectedChange={setSelected}
        onOpen={setViewing}
        caption={(asset) => t("trash.daysLeft", { count: daysLeft(asset.deleted_at, retention) })}
        emptyText={t("trash.isEmpty")}
      />
      <LazyViewer
        items={list.items}
        viewing={viewing}
        onViewing={setViewing}
        onAction={act}
        actions={["restore", "purge"]}
        more={list}
      />
      <ConfirmDialog
        open={!!confirm}
        title={confirm?.kind === "empty" ? t("trash.empty") : t("trash.deleteForever")}
        text={t("trash.cannotUndo")}
        confirmLabel={t("trash.deleteForever")}
        onClose={() => setConfirm(null)}
        onConfirm={() =>
          confirm.kind === "empty"
            ? run(() => assets.emptyTrash(), t("trash.emptied"))
            : run(
                () => assets.bulk("purge", confirm.ids),
                t("trash.purged", { count: confirm.ids.length }),
              )
        }
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
