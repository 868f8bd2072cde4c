/**
 * The layout's rules, checked: the pure cores (the MQTT protocol core, authentication, the topic
 * shard core, the stats core, the edge connection) import neither the runtime (`cloudflare:*`,
 * `node:*`) nor the shells that wrap them (Durable Objects, the Worker, the gateway). A test, so a
 * crossing fails `npm test` with the file and the import that crossed.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = join(import.meta.dirname);

/** Pure code: folders and single files. */
const PURE = [
  "protocol",
  "contracts",
  "auth",
  "edge",
  "topics/topic-shard.ts",
  "topics/lanes.ts",
  "topics/message-log.ts",
  "topics/retained-store.ts",
  "topics/subscriptions.ts",
  "topics/wildcard-link.ts",
  "topics/recipient.ts",
  "stats/broker-stats.ts",
  "stats/report.ts",
];
/** What no pure file may import. */
const SHELLS = [
  /^cloudflare:/,
  /^node:/,
  /\/session\/(session-do|router|auth-gate|counters|attachment)\.js$/,
  /\/worker\//,
  /\/gateway\//,
  /topic-shard-do\.js$/,
  /stats-do\.js$/,
  /\/objects\/(stub-cache|faults)\.js$/,
];

function files(path: string): string[] {
  const full = join(SRC, path);
  if (statSync(full).isFile()) return [full];
  return readdirSync(full, { recursive: true, encoding: "utf8" })
    .map((f) => join(full, f))
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && statSync(f).isFile());
}

function imports(file: string): string[] {
  return [...readFileSync(file, "utf8").matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/gm)].map((m) => m[1]!);
}

describe("layout boundaries", () => {
  it("the pure cores import neither the runtime nor the shells", () => {
    const crossings: string[] = [];
    for (const file of PURE.flatMap(files)) {
      for (const spec of imports(file)) if (SHELLS.some((rule) => rule.test(spec))) crossings.push(`${relative(SRC, file)} imports ${spec}`);
    }
    expect(crossings).toEqual([]);
  });

  it("checks real files (the rules would not pass vacuously)", () => {
    expect(PURE.flatMap(files).length).toBeGreaterThan(40);
    expect(imports(join(SRC, "session", "session-do.ts"))).toContain("cloudflare:workers");
  });
});
