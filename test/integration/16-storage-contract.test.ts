/**
 * The SyncKv contract against the real thing: a Durable Object's `ctx.storage.kv` (SQLite) in
 * workerd, through a test-only Worker (test/helpers/kv-contract-worker.ts), so MemoryKv, which
 * the unit tests run the stores on, is held to what production storage does.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll } from "vitest";
import { describeKvContract } from "../../src/storage/kv-contract.suite.js";

let dir: string;
let mf: Miniflare;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kv-contract-"));
  const scriptPath = join(dir, "worker.js");
  await build({
    entryPoints: ["test/helpers/kv-contract-worker.ts"],
    outfile: scriptPath,
    bundle: true,
    format: "esm",
    platform: "neutral",
    external: ["cloudflare:*", "node:*"],
    logLevel: "warning",
  });
  mf = new Miniflare({
    modules: true,
    scriptPath,
    modulesRoot: dir,
    compatibilityDate: "2026-04-26",
    compatibilityFlags: ["nodejs_compat"],
    durableObjects: { KV: { className: "KvContractDO", useSQLite: true } },
    durableObjectsPersist: join(dir, "state"),
    host: "127.0.0.1",
    port: 0,
  });
  url = (await mf.ready).toString();
});

afterAll(async () => {
  await mf?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describeKvContract("a Durable Object's ctx.storage.kv in workerd", {
  async run(caseName) {
    const res = await fetch(`${url}?case=${encodeURIComponent(caseName)}`);
    const { error } = (await res.json()) as { error: string | null };
    if (error !== null) throw new Error(error);
  },
});
