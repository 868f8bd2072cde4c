#!/usr/bin/env node
// npm run soak [-- --minutes N (10)] [--clients N (200)] [--seed S] [--rate R (200 msg/s)] [--drain S (30)] [--quiet]
//
// The reliability soak (test/soak/soak.ts): its own broker in workerd (Miniflare, 127.0.0.1, a
// free port) and TCP gateway, clients mixing QoS 0/1/2 over WebSocket and the gateway, MQTT 3.1.1
// and 5.0, with subscribes and unsubscribes, reconnects, takeovers, retained updates and wills,
// checking that nothing acknowledged at QoS 1/2 is lost, that QoS 2 reaches the application once,
// that wills fire when they must (and only then), and that memory and storage stay flat. Prints
// the figures and exits non-zero on any violation, growth over the second half included.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { bundleForNode } from "./bundle-node.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("-h")) {
  console.log("npm run soak [-- --minutes N (10)] [--clients N (200)] [--seed S] [--rate R (200 msg/s in total)] [--drain S (30)] [--quiet]");
  process.exit(0);
}
const value = (name, fallback) => {
  const i = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i === -1) return fallback;
  const v = args[i].includes("=") ? args[i].slice(name.length + 1) : args[i + 1];
  if (v === undefined || Number.isNaN(Number(v)) || Number(v) < 0) {
    console.error(`soak: ${name} needs a number`);
    process.exit(2);
  }
  return Number(v);
};
const minutes = value("--minutes", 10);
const clients = value("--clients", 200);
const seed = value("--seed", undefined);
const rate = value("--rate", 200);
const drainSeconds = value("--drain", 30);
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true" };

// The Worker bundle and its pages (as the integration tests' globalSetup builds them) and the soak itself.
if (!existsSync(join(root, "public"))) {
  execFileSync(process.execPath, [join(root, "node_modules", "vite", "bin", "vite.js"), "build", "--config", "web/vite.config.ts", "--logLevel", "warn"], {
    cwd: root,
    env: { ...env, NODE_ENV: "production" },
    stdio: ["ignore", "ignore", "inherit"],
  });
}
execFileSync(process.execPath, [join(root, "node_modules", "wrangler", "bin", "wrangler.js"), "deploy", "--dry-run", "--outdir", "dist"], { cwd: root, env, stdio: ["ignore", "ignore", "inherit"] });
const outfile = join(root, "dist", "soak.mjs");
await bundleForNode(join(root, "test", "soak", "soak.ts"), outfile, ["miniflare"]);
process.chdir(root); // the broker helper loads dist/index.js relative to the working directory
const soak = await import(pathToFileURL(outfile).href);
const quiet = args.includes("--quiet");
const report = await soak.runSoak({ minutes, clients, seed, rate, drainSeconds, failOnGrowth: true, log: (line) => quiet || console.log(`soak: ${line}`) });
console.log(soak.formatReport(report));
process.exit(report.ok ? 0 : 1);
