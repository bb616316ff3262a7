import { buildSync } from "esbuild";
import { defineConfig, type Plugin } from "vite";

// src/early/main.ts, bundled on its own and inlined at the top of index.html: it runs while the
// HTML is parsed, before the app's bundle is even requested, and starts the runs table's first
// page request (src/api/early.ts). Inline rather than a file of its own: a file would cost a
// request before the request it exists to start early.
const EARLY_MARKER = "<!-- early requests: src/early/main.ts, inlined by vite.config.ts -->";
function inlineEarlyScript(): Plugin {
  return {
    name: "nereid-inline-early-script",
    transformIndexHtml(html) {
      const out = buildSync({
        entryPoints: ["src/early/main.ts"],
        bundle: true,
        write: false,
        format: "iife",
        minify: true,
        target: "es2022",
        logLevel: "warning",
      });
      // At its marker: after <meta charset> (which must come in the first 1024 bytes) and before
      // the stylesheet (an inline script waits for the stylesheets above it).
      if (!html.includes(EARLY_MARKER)) throw new Error(`index.html has no ${EARLY_MARKER}`);
      return html.replace(EARLY_MARKER, `<script>${out.outputFiles[0]!.text.trim()}</script>`);
    },
  };
}

// Preact's JSX through esbuild's automatic runtime: no Babel preset needed.
export default defineConfig({
  plugins: [inlineEarlyScript()],
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
