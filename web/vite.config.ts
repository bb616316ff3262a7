import { defineConfig } from "vite";

// Preact's JSX through esbuild's automatic runtime: no Babel preset needed.
export default defineConfig({
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    target: "es2022",
    // Hashed JS and CSS files (the notebook pages in their own chunk, loaded on demand): the
    // server embeds them all, and `/assets/` is cached forever.
    assetsInlineLimit: 0,
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  server: {
    // `npm run dev` proxies the API to a running server (NEREID_URL, default the usual port).
    proxy: { "/api": process.env.NEREID_URL ?? "http://127.0.0.1:4870" },
  },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
});
