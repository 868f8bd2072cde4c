/** Builds the web pages and bundles the Worker exactly as `wrangler deploy` would, once before the integration tests. */
import { execFileSync } from "node:child_process";

export default function setup(): void {
  // The production build of the pages (lit's development build would warn in the page tests).
  execFileSync("npx", ["vite", "build", "--config", "web/vite.config.ts", "--logLevel", "warn"], { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, NODE_ENV: "production" } });
  execFileSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", "dist"], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true" },
  });
}
