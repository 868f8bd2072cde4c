#!/usr/bin/env node
// Runs the broker locally in workerd (wrangler dev), offline: no telemetry, no update checks,
// no login. Durable Object state is kept in .state/ so a restart keeps sessions and retained
// messages. Stops its children on SIGINT/SIGTERM.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const host = process.env.HOST ?? "127.0.0.1";
const port = process.env.PORT ?? "8787";
const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  // The banner is where wrangler checks the registry for a newer version; hiding it skips that.
  WRANGLER_HIDE_BANNER: "true",
};

const wrangler = spawn(
  process.execPath,
  [
    join(root, "node_modules", "wrangler", "bin", "wrangler.js"),
    "dev",
    "--local",
    "--ip", host,
    "--port", port,
    "--persist-to", join(root, ".state"),
    "--show-interactive-dev-session=false",
  ],
  { cwd: root, env, stdio: "inherit" },
);

console.log(`broker: ws://${host}:${port}/mqtt (state in .state/)`);

const stop = (signal) => {
  if (!wrangler.killed) wrangler.kill(signal);
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
wrangler.on("exit", (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
