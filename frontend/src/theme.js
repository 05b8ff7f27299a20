import { createTheme } from "@mui/material/styles";

/** Light and dark schemes; the mode (light/dark/system) is chosen in Settings. */
export const theme = createTheme({
  colorSchemes: { light: true, dark: true },
  cssVariables: { colorSchemeSelector: "class" },
  palette: { primary: { main: "#1565c0" } },
});
