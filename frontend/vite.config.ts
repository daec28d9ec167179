import { defineConfig } from "vite";

// The bundle goes where the Python package serves it from (git-ignored build output).
export default defineConfig({
  base: "/",
  build: {
    outDir: "../src/onegrid/web/static/dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
  server: { proxy: { "/api": "http://127.0.0.1:8000" } },
});
