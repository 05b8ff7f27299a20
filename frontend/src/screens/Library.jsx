// The library (or one tag of it): filters, then the grid.
import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useParams } from "react-router";
import { useTranslation } from "react-i18next";
import { Box, Chip, Stack, ToggleButton, ToggleButtonGroup, Typography } from "@mui/material";
import { assets } from "../api/client.js";
import AssetBrowser from "../components/AssetBrowser.jsx";
import { useAssetList } from "../components/useAssetList.js";
import { libraryYears } from "../lib/years.js";

const FILTERS = {
  all: {},
  photos: { type: "photo" },
  videos: { type: "video" },
  favorites: { favorite: true },
};

export default function Library() {
  const { t } = useTranslation();
  const { tag } = useParams();
  const [filter, setFilter] = useState("all");
  const [jump, setJump] = useState(null);
  const params = { ...FILTERS[filter], tag };
  const years = useQuery({
    queryKey: ["assets", "years", params],
    queryFn: () => libraryYears((page) => assets.list({ ...params, ...page })),
  });
  const from = jump ? { to: `${jump + 1}-01-01` } : {};
  const list = useAssetList(["assets", "library", params, from], (cursor, limit) =>
    assets.list({ ...params, ...from, cursor, limit }),
  );
  return (
    <Box sx={{ p: { xs: 1, sm: 2 } }}>
      <Stack direction="row" alignItems="center" spacing={2} sx={{ mb: 1, flexWrap: "wrap" }}>
        <Typography variant="h5" component="h1" sx={{ flex: 1 }}>
          {tag ? t("tags.title", { tag }) : t("nav.library")}
        </Typography>
        <ToggleButtonGroup
          size="small"
          exclusive
          value={filter}
          onChange={(_, value) => {
            if (!value) return;
            setFilter(value);
            setJump(null);
          }}
          aria-label={t("library.filter")}
        >
          {Object.keys(FILTERS).map((key) => (
            <ToggleButton key={key} value={key}>
              {t("library.filters." + key)}
            </ToggleButton>
          ))}
        </ToggleButtonGroup>
      </Stack>
      {jump && (
        <Chip
          sx={{ mb: 1 }}
          label={t("library.fromYear", { year: jump })}
          onDelete={() => setJump(null)}
          onClick={() => setJump(null)}
        />
      )}
      <AssetBrowser list={list} allYears={years.data} onJumpYear={setJump} />
    </Box>
  );
}
