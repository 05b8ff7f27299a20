import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The app builds into ../static, which `itcloud serve` serves with the SPA fallback;
// file names carry content hashes so the server can mark them immutable.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "../static",
    emptyOutDir: true,
    chunkSizeWarningLimit: 1600,
  },
  server: {
    proxy: { "/api": "http://127.0.0.1:8080", "/blobs": "http://127.0.0.1:8080" },
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.js"],
    include: ["src/**/*.test.{js,jsx}"],
    reporters: ["tap-flat"],
  },
});
