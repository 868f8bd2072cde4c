#!/usr/bin/env node
// Runs the broker locally: the Worker in workerd (wrangler dev, offline: no telemetry, no update
// checks, no login) at ws://127.0.0.1:8787/mqtt, and the TCP gateway at mqtt://127.0.0.1:1883.
// Durable Object state is kept in .state/ (or STATE_DIR) so a restart keeps sessions and retained
// messages. PORT and GATEWAY_PORT move the two listeners (the benchmark runs it on free ports).
// SIGINT/SIGTERM stop both children; if one exits, the other is stopped too.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join, resolve } from "node:path";
import { buildGateway } from "./build-gateway.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const host = process.env.HOST ?? "127.0.0.1";
const port = process.env.PORT ?? "8787";
const stateDir = process.env.STATE_DIR ? resolve(process.env.STATE_DIR) : join(root, ".state");
const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  // The banner is where wrangler checks the registry for a newer version; hiding it skips that.
  WRANGLER_HIDE_BANNER: "true",
};

const gatewayFile = await buildGateway();
// The web pages (/ and /dashboard) are static assets: built before wrangler serves them.
await new Promise((done, fail) =>
  spawn(process.execPath, [join(root, "node_modules", "vite", "bin", "vite.js"), "build", "--config", "web/vite.config.ts", "--logLevel", "warn"], { cwd: root, stdio: "inherit" })
    .on("exit", (code) => (code === 0 ? done() : fail(new Error(`start: building the web pages failed (exit ${code})`)))),
);
const children = [];
const run = (name, args, extraEnv = {}) => {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...env, ...extraEnv }, stdio: "inherit" });
  child.on("exit", (code, signal) => {
    console.log(`start: ${name} exited (${signal ?? code})`);
    stopAll("SIGTERM");
    process.exitCode = code ?? 0;
  });
  children.push(child);
};

run("wrangler", [
  join(root, "node_modules", "wrangler", "bin", "wrangler.js"),
  "dev", "--local", "--ip", host, "--port", port,
  "--persist-to", stateDir,
  "--show-interactive-dev-session=false",
]);
run("gateway", [gatewayFile, "--wait-for-worker", "60"], {
  GATEWAY_WORKER_URL: process.env.GATEWAY_WORKER_URL ?? `ws://${host}:${port}/mqtt`,
  // Matches .dev.vars, so the local Worker believes the gateway's client addresses.
  GATEWAY_SECRET: process.env.GATEWAY_SECRET ?? "local-gateway-secret",
});
console.log(`start: broker ws://${host}:${port}/mqtt, gateway mqtt://127.0.0.1:${process.env.GATEWAY_PORT ?? 1883} (state in ${stateDir})`);

let stopping = false;
function stopAll(signal) {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill(signal);
}
process.on("SIGINT", () => stopAll("SIGINT"));
process.on("SIGTERM", () => stopAll("SIGTERM"));
