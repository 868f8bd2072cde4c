/**
 * The browser client (/) and the operator's console (/dashboard), built into public/, which
 * Workers Static Assets serve next to the broker (wrangler.toml [assets]). Everything, mqtt.js
 * included, is bundled from npm: the pages work offline from `npm start`.
 */
import { resolve } from "node:path";
import { defineConfig } from "vite";

const root = resolve(import.meta.dirname);

export default defineConfig({
  root,
  base: "/",
  publicDir: false,
  build: {
    outDir: resolve(root, "../public"),
    emptyOutDir: true,
    target: "es2022",
    rollupOptions: {
      input: {
        client: resolve(root, "index.html"),
        dashboard: resolve(root, "dashboard/index.html"),
      },
    },
  },
});
