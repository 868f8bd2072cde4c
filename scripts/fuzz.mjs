#!/usr/bin/env node
// npm run fuzz [-- --seconds N] [-- --seed S] [-- --concurrency C] [-- --verbose] [-- --network-only | --props-only]
// npm run fuzz -- --seed S --case K      replays case K of seed S and prints its bytes and workerd's lines
//
// Hostile input, bounded in time (default 60 s in all): a quarter of it goes to the fast-check
// properties of the codec and the session core (src/**/*.fuzz.test.ts, run by vitest with
// FUZZ_SECONDS per property), the rest to the network fuzzer (test/fuzz/network-fuzz.ts), which
// starts its own broker in workerd (Miniflare, 127.0.0.1, a free port) and TCP gateway, fuzzes
// them over WebSocket and TCP while canary clients exchange QoS 1 messages, stops both and
// reports. Exits non-zero on any crash, property failure or canary loss.
import { execFileSync, spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { bundleForNode } from "./bundle-node.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name, fallback) => {
  const i = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i === -1) return fallback;
  const v = args[i].includes("=") ? args[i].slice(name.length + 1) : args[i + 1];
  if (v === undefined || Number.isNaN(Number(v))) {
    console.error(`fuzz: ${name} needs a number`);
    process.exit(2);
  }
  return Number(v);
};
if (flag("--help") || flag("-h")) {
  console.log("npm run fuzz [-- --seconds N (60)] [--seed S] [--concurrency C (6)] [--verbose] [--network-only | --props-only]\nnpm run fuzz -- --seed S --case K   (replay one network case)");
  process.exit(0);
}
const seconds = value("--seconds", 60);
const seed = value("--seed", undefined);
const replay = value("--case", undefined);
const concurrency = value("--concurrency", 6);
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true" };
const runProps = !flag("--network-only") && replay === undefined;
const runNetwork = !flag("--props-only");
const propsShare = runNetwork ? 0.25 : 1;
/** Properties in the *.fuzz.test.ts files (each gets an equal share of the property time). */
const PROPERTIES = 11;
let failed = false;

if (runProps) {
  const perProperty = Math.max(0.5, (seconds * propsShare) / PROPERTIES);
  console.log(`fuzz: fast-check properties, about ${perProperty.toFixed(1)} s each${seed !== undefined ? `, seed ${seed}` : ""}`);
  const result = spawnSync(
    process.execPath,
    [join(root, "node_modules", "vitest", "vitest.mjs"), "run", "--project", "unit", "src/protocol/codec/codec.fuzz.test.ts", "src/protocol/session/session.fuzz.test.ts"],
    { cwd: root, stdio: "inherit", env: { ...env, FUZZ_SECONDS: String(perProperty), ...(seed !== undefined ? { FUZZ_SEED: String(seed) } : {}) } },
  );
  if (result.status !== 0) failed = true;
}

if (runNetwork) {
  // The Worker bundle (as the integration tests' globalSetup builds it) and the fuzzer itself.
  execFileSync(process.execPath, [join(root, "node_modules", "wrangler", "bin", "wrangler.js"), "deploy", "--dry-run", "--outdir", "dist"], { cwd: root, env, stdio: ["ignore", "ignore", "inherit"] });
  const outfile = join(root, "dist", "fuzz-network.mjs");
  await bundleForNode(join(root, "test", "fuzz", "network-fuzz.ts"), outfile, ["miniflare"]);
  process.chdir(root); // the broker helper loads dist/index.js relative to the working directory
  const fuzz = await import(pathToFileURL(outfile).href);
  if (replay !== undefined) {
    if (seed === undefined) {
      console.error("fuzz: --case needs the --seed of the run that reported it");
      process.exit(2);
    }
    const { crashes } = await fuzz.replayCase(seed, replay);
    console.log(crashes.length === 0 ? "replay: no crash line" : `replay: ${crashes.length} crash line(s)`);
    if (crashes.length > 0) failed = true;
  } else {
    const networkSeconds = Math.max(5, Math.round(seconds * (runProps ? 1 - propsShare : 1)));
    const report = await fuzz.runNetworkFuzz({ seconds: networkSeconds, seed, concurrency, verbose: flag("--verbose"), log: (line) => console.log(`fuzz: ${line}`) });
    console.log(fuzz.formatReport(report, fuzz.buildCorpus()));
    if (!report.ok) failed = true;
  }
}

process.exit(failed ? 1 : 0);
