#!/usr/bin/env node
// npm run bench [-- --quick]: builds the Worker bundle, the gateway and the benchmark, installs
// mosquitto when it is missing and this runs as root (or skips it with a message), then runs.
import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { build } from "esbuild";
import { buildGateway } from "./build-gateway.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true" };

execFileSync(process.execPath, [join(root, "node_modules", "wrangler", "bin", "wrangler.js"), "deploy", "--dry-run", "--outdir", "dist"], { cwd: root, env, stdio: ["ignore", "ignore", "inherit"] });
await buildGateway();
const common = { bundle: true, platform: "node", format: "esm", target: "node20", logLevel: "warning", external: ["bufferutil", "utf-8-validate", "miniflare"],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } };
await build({ ...common, entryPoints: { "bench-run": join(root, "bench/run.ts"), "bench-loadgen": join(root, "bench/loadgen.ts"), "bench-aedes": join(root, "bench/servers/aedes.ts"), "bench-ours": join(root, "bench/servers/ours.ts") }, outdir: join(root, "dist"), outExtension: { ".js": ".mjs" } });

const hasMosquitto = spawnSync("/usr/sbin/mosquitto", ["-h"]).error === undefined;
if (!hasMosquitto && process.getuid?.() === 0) {
  console.log("bench: installing mosquitto (apt-get install mosquitto)");
  spawnSync("bash", ["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto"], { stdio: "inherit" });
}
const result = spawnSync(process.execPath, [join(root, "dist", "bench-run.mjs"), ...process.argv.slice(2)], { cwd: root, env: { ...env, BENCH_ROOT: root, NODE_PATH: join(root, "node_modules") }, stdio: "inherit" });
process.exit(result.status ?? 1);
