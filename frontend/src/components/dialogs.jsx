// Small dialogs for bulk actions: add to an album (existing or new), tag, confirm.
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useQuery } from "@tanstack/react-query";
import {
  Button,
  Dialog,
  DialogActions,
  DialogContent,
  DialogContentText,
  DialogTitle,
  List,
  ListItemButton,
  ListItemText,
  TextField,
} from "@mui/material";
import { albums } from "../api/client.js";

/** Choose an album, or name a new one; calls onPick({ id } | { name }). */
export function AlbumPicker({ open, onClose, onPick }) {
  const { t } = useTranslation();
  const [name, setName] = useState("");
  const list = useQuery({ queryKey: ["albums"], queryFn: albums.list, enabled: open });
  return (
    <Dialog open={open} onClose={onClose} fullWidth maxWidth="xs">
      <DialogTitle>{t("albums.addTo")}</DialogTitle>
      <DialogContent>
        <TextField
          autoFocus
          fullWidth
          margin="dense"
          label={t("albums.newName")}
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <List dense>
          {(list.data?.items || []).map((album) => (
            <ListItemButton key={album.id} onClick={() => onPick({ id: album.id })}>
              <ListItemText
                primary={album.title}
                secondary={t("albums.count", { count: album.asset_count })}
              />
            </ListItemButton>
          ))}
        </List>
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>{t("common.cancel")}</Button>
        <Button
          variant="contained"
          disabled={!name.trim()}
          onClick={() => onPick({ name: name.trim() })}
        >
          {t("albums.create")}
        </Button>
      </DialogActions>
    </Dialog>
  );
}

/** Ask for one line of text (a tag, a new name). */
export function TextDialog({ open, title, label, initial = "", submitLabel, onClose, onSubmit }) {
  const { t } = useTranslation();
  const [value, setValue] = useState(initial);
  return (
    <Dialog open={open} onClose={onClose} fullWidth maxWidth="xs">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim()) onSubmit(value.trim());
        }}
      >
        <DialogTitle>{title}</DialogTitle>
        <DialogContent>
          <TextField
            autoFocus
            fullWidth
            margin="dense"
            label={label}
            value={value}
            onChange={(e) => setValue(e.target.value)}
          />
        </DialogContent>
        <DialogActions>
          <Button onClick={onClose}>{t("common.cancel")}</Button>
          <Button type="submit" variant="contained" disabled={!value.trim()}>
            {submitLabel || t("common.save")}
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  );
}

/** Yes/no before something that cannot be undone. */
export function ConfirmDialog({ open, title, text, confirmLabel, onClose, onConfirm }) {
  const { t } = useTranslation();
  return (
    <Dialog open={open} onClose={onClose}>
      <DialogTitle>{title}</DialogTitle>
      <DialogContent>
        <DialogContentText>{text}</DialogContentText>
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>{t("common.cancel")}</Button>
        <Button color="error" variant="contained" onClick={onConfirm}>
          {confirmLabel}
        </Button>
      </DialogActions>
    </Dialog>
  );
}
