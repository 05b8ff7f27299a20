// Tags with counts: open, rename, delete.
import { useState } from "react";
import { Link as RouterLink } from "react-router";
import { useTranslation } from "react-i18next";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import {
  Box,
  IconButton,
  List,
  ListItem,
  ListItemButton,
  ListItemText,
  Typography,
} from "@mui/material";
import DeleteIcon from "@mui/icons-material/Delete";
import EditIcon from "@mui/icons-material/Edit";
import { tags } from "../api/client.js";
import { ConfirmDialog, TextDialog } from "../components/dialogs.jsx";

export default function Tags() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [dialog, setDialog] = useState(null);
  const list = useQuery({ queryKey: ["tags"], queryFn: tags.list });
  const done = () => {
    queryClient.invalidateQueries({ queryKey: ["tags"] });
    setDialog(null);
  };
  return (
    <Box sx={{ p: 2, maxWidth: 720 }}>
      <Typography variant="h5" component="h1">
        {t("nav.tags")}
      </Typography>
      {list.data && !list.data.items.length && (
        <Typography color="text.secondary">{t("tags.none")}</Typography>
      )}
      <List>
        {(list.data?.items || []).map((tag) => (
          <ListItem
            key={tag.id}
            disablePadding
            secondaryAction={
              <>
                <IconButton
                  aria-label={t("tags.rename", { tag: tag.name })}
                  onClick={() => setDialog({ kind: "rename", tag })}
                >
                  <EditIcon />
                </IconButton>
                <IconButton
                  aria-label={t("tags.delete", { tag: tag.name })}
                  onClick={() => setDialog({ kind: "delete", tag })}
                >
                  <DeleteIcon />
                </IconButton>
              </>
            }
          >
            <ListItemButton component={RouterLink} to={`/tags/${encodeURIComponent(tag.name)}`}>
              <ListItemText
                primary={tag.name}
                secondary={t("albums.count", { count: tag.asset_count })}
              />
            </ListItemButton>
          </ListItem>
        ))}
      </List>
      {dialog?.kind === "rename" && (
        <TextDialog
          open
          title={t("tags.rename", { tag: dialog.tag.name })}
          label={t("tags.name")}
          initial={dialog.tag.name}
          onClose={() => setDialog(null)}
          onSubmit={async (name) => {
            await tags.rename(dialog.tag.id, name);
            done();
          }}
        />
      )}
      <ConfirmDialog
        open={dialog?.kind === "delete"}
        title={dialog ? t("tags.delete", { tag: dialog.tag.name }) : ""}
        text={t("tags.deleteText")}
        confirmLabel={t("common.delete")}
        onClose={() => setDialog(null)}
        onConfirm={async () => {
          await tags.remove(dialog.tag.id);
          done();
        }}
      />
    </Box>
  );
}
