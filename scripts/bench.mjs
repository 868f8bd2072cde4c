#!/usr/bin/env node
// npm run bench [-- --quick] [-- --runtime=miniflare]: builds the gateway and the benchmark (and,
// for --runtime=miniflare, the Worker bundle), installs mosquitto for a full run when it is missing
// and this runs as root (--quick never installs anything: mosquitto is skipped with a message),
// then runs bench/run.ts. By default this broker is started as `npm start` starts it.
import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { build } from "esbuild";
import { buildGateway } from "./build-gateway.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true" };

if (args.includes("--runtime=miniflare")) {
  execFileSync(process.execPath, [join(root, "node_modules", "wrangler", "bin", "wrangler.js"), "deploy", "--dry-run", "--outdir", "dist"], { cwd: root, env, stdio: ["ignore", "ignore", "inherit"] });
}
await buildGateway();
const common = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  logLevel: "warning",
  external: ["bufferutil", "utf-8-validate", "miniflare"],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
};
await build({
  ...common,
  entryPoints: {
    "bench-run": join(root, "bench/run.ts"),
    "bench-loadgen": join(root, "bench/loadgen.ts"),
    "bench-aedes": join(root, "bench/servers/aedes.ts"),
    "bench-ours": join(root, "bench/servers/ours.ts"),
  },
  outdir: join(root, "dist"),
  outExtension: { ".js": ".mjs" },
});

const hasMosquitto = spawnSync("/usr/sbin/mosquitto", ["-h"]).error === undefined;
if (!hasMosquitto && !args.includes("--quick") && process.getuid?.() === 0) {
  console.log("bench: installing mosquitto (apt-get install mosquitto)");
  spawnSync("bash", ["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto"], { stdio: "inherit" });
}
const result = spawnSync(process.execPath, [join(root, "dist", "bench-run.mjs"), ...args], { cwd: root, env: { ...env, BENCH_ROOT: root, NODE_PATH: join(root, "node_modules") }, stdio: "inherit" });
process.exit(result.status ?? 1);
