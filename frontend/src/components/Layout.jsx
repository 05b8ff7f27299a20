// The signed-in frame: a skip link to the content for keyboard users, the app bar with
// the upload button, navigation (a drawer on phones), drag-and-drop of files and folders
// anywhere on the page, and the upload panel.
import { lazy, Suspense, useCallback, useEffect, useRef, useState } from "react";
import { Link as RouterLink, Outlet, useLocation } from "react-router";
import { useTranslation } from "react-i18next";
import { useQueryClient } from "@tanstack/react-query";
import {
  AppBar,
  Box,
  Button,
  Drawer,
  IconButton,
  List,
  ListItemButton,
  ListItemIcon,
  ListItemText,
  Menu,
  MenuItem,
  Toolbar,
  Typography,
  useMediaQuery,
} from "@mui/material";
import MenuIcon from "@mui/icons-material/Menu";
import PhotoLibraryIcon from "@mui/icons-material/PhotoLibrary";
import CollectionsIcon from "@mui/icons-material/Collections";
import LocalOfferIcon from "@mui/icons-material/LocalOffer";
import ShareIcon from "@mui/icons-material/Share";
import DeleteIcon from "@mui/icons-material/Delete";
import SettingsIcon from "@mui/icons-material/Settings";
import CloudUploadIcon from "@mui/icons-material/CloudUpload";
import { useAuth } from "../auth/AuthContext.jsx";
import { filesFromDrop } from "../upload/files.js";

const UploadPanel = lazy(() => import("../upload/UploadPanel.jsx"));
const DRAWER = 220;

const NAV = [
  { to: "/", key: "nav.library", icon: <PhotoLibraryIcon /> },
  { to: "/albums", key: "nav.albums", icon: <CollectionsIcon /> },
  { to: "/tags", key: "nav.tags", icon: <LocalOfferIcon /> },
  { to: "/shares", key: "nav.shares", icon: <ShareIcon /> },
  { to: "/trash", key: "nav.trash", icon: <DeleteIcon /> },
  { to: "/settings", key: "nav.settings", icon: <SettingsIcon /> },
];

/** Whether the navigation entry `to` is the section `pathname` is in (an album's page
 * is in Albums). */
function isCurrent(to, pathname) {
  return to === "/" ? pathname === "/" : pathname.startsWith(to);
}

export default function Layout() {
  const { t } = useTranslation();
  const { user, signOut } = useAuth();
  const location = useLocation();
  const wide = useMediaQuery((theme) => theme.breakpoints.up("md"));
  const [navOpen, setNavOpen] = useState(false);
  const [uploadMenu, setUploadMenu] = useState(null);
  const [panel, setPanel] = useState(false);
  const [dragging, setDragging] = useState(false);
  const fileInput = useRef(null);
  const folderInput = useRef(null);
  const queryClient = useQueryClient();

  const startUpload = useCallback(
    async (files) => {
      if (!files.length) return;
      const { getQueue } = await import("../upload/manager.js");
      const queue = getQueue();
      if (!queue.wired) {
        queue.wired = true;
        let last = 0;
        queue.subscribe(() => {
          const now = Date.now();
          if (now - last > 2000) {
            last = now;
            queryClient.invalidateQueries({ queryKey: ["assets"] });
          }
        });
        queue.onFinished = () => {
          queryClient.invalidateQueries({ queryKey: ["assets"] });
          queryClient.invalidateQueries({ queryKey: ["usage"] });
        };
      }
      queue.add(files);
      setPanel(true);
    },
    [queryClient],
  );

  useEffect(() => {
    let depth = 0;
    const hasFiles = (e) => [...(e.dataTransfer?.types || [])].includes("Files");
    const enter = (e) => {
      if (!hasFiles(e)) return;
      depth++;
      setDragging(true);
    };
    const leave = () => {
      depth = Math.max(0, depth - 1);
      if (!depth) setDragging(false);
    };
    const over = (e) => {
      if (hasFiles(e)) e.preventDefault();
    };
    const drop = async (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth = 0;
      setDragging(false);
      startUpload(await filesFromDrop(e.dataTransfer));
    };
    window.addEventListener("dragenter", enter);
    window.addEventListener("dragleave", leave);
    window.addEventListener("dragover", over);
    window.addEventListener("drop", drop);
    return () => {
      window.removeEventListener("dragenter", enter);
      window.removeEventListener("dragleave", leave);
      window.removeEventListener("dragover", over);
      window.removeEventListener("drop", drop);
    };
  }, [startUpload]);

  const current = NAV.find((item) => isCurrent(item.to, location.pathname));
  const section = current ? t(current.key) : null;
  useEffect(() => {
    // the tab and screen readers name the section the user is in
    document.title = section ? `${section} · itcloud` : "itcloud";
  }, [section]);

  const nav = (
    <List component="nav" aria-label={t("nav.main")}>
      {NAV.map((item) => (
        <ListItemButton
          key={item.to}
          component={RouterLink}
          to={item.to}
          selected={item === current}
          onClick={() => setNavOpen(false)}
        >
          <ListItemIcon>{item.icon}</ListItemIcon>
          <ListItemText primary={t(item.key)} />
        </ListItemButton>
      ))}
    </List>
  );

  const onPicked = (e) => {
    startUpload([...e.target.files]);
    e.target.value = "";
  };

  return (
    <Box sx={{ display: "flex" }}>
      <Button
        href="#main"
        variant="contained"
        sx={{
          position: "fixed",
          left: 8,
          top: -64,
          zIndex: (theme) => theme.zIndex.tooltip,
          "&:focus": { top: 8 },
        }}
      >
        {t("nav.skip")}
      </Button>
      <AppBar position="fixed" sx={{ zIndex: (theme) => theme.zIndex.drawer + 1 }}>
        <Toolbar>
          {!wide && (
            <IconButton
              color="inherit"
              edge="start"
              aria-label={t("nav.open")}
              onClick={() => setNavOpen(true)}
            >
              <MenuIcon />
            </IconButton>
          )}
          <Typography variant="h6" component="div" sx={{ flex: 1 }}>
            itcloud
          </Typography>
          <Button
            color="inherit"
            startIcon={<CloudUploadIcon />}
            onClick={(e) => setUploadMenu(e.currentTarget)}
            aria-haspopup="menu"
          >
            {t("upload.button")}
          </Button>
          <Menu anchorEl={uploadMenu} open={!!uploadMenu} onClose={() => setUploadMenu(null)}>
            <MenuItem
              onClick={() => {
                setUploadMenu(null);
                fileInput.current.click();
              }}
            >
              {t("upload.files")}
            </MenuItem>
            <MenuItem
              onClick={() => {
                setUploadMenu(null);
                folderInput.current.click();
              }}
            >
              {t("upload.folder")}
            </MenuItem>
          </Menu>
          <input
            ref={fileInput}
            type="file"
            multiple
            accept="image/*,video/*"
            hidden
            data-testid="upload-input"
            onChange={onPicked}
          />
          <input ref={folderInput} type="file" webkitdirectory="" hidden onChange={onPicked} />
          {wide && (
            <Button color="inherit" onClick={() => signOut(false)} title={user?.email}>
              {t("auth.signOut")}
            </Button>
          )}
        </Toolbar>
      </AppBar>
      <Drawer
        variant={wide ? "permanent" : "temporary"}
        open={wide || navOpen}
        onClose={() => setNavOpen(false)}
        sx={{ width: DRAWER, flexShrink: 0, "& .MuiDrawer-paper": { width: DRAWER } }}
      >
        <Toolbar />
        {nav}
        {!wide && (
          <List>
            <ListItemButton onClick={() => signOut(false)}>
              <ListItemText primary={t("auth.signOut")} />
            </ListItemButton>
          </List>
        )}
      </Drawer>
      <Box component="main" id="main" tabIndex={-1} sx={{ flex: 1, minWidth: 0, outline: 0 }}>
        <Toolbar />
        <Outlet context={{ startUpload }} />
      </Box>
      {dragging && (
        <Box
          aria-hidden
          sx={{
            position: "fixed",
            inset: 0,
            zIndex: 1400,
            border: "4px dashed",
            borderColor: "primary.main",
            bgcolor: "rgba(21,101,192,0.12)",
            display: "flex",
            alignItems: "center",
            justifyContent: "center",
            pointerEvents: "none",
          }}
        >
          <Typography variant="h4">{t("upload.dropHere")}</Typography>
        </Box>
      )}
      {panel && (
        <Suspense fallback={null}>
          <UploadPanel onClose={() => setPanel(false)} />
        </Suspense>
      )}
    </Box>
  );
}
