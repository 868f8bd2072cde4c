/** This broker for `--runtime=miniflare`: the deploy bundle in workerd (Miniflare), state on disk as deployed. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Miniflare } from "miniflare";

const [port, script] = [Number(process.argv[2]), process.argv[3]!];
const dir = mkdtempSync(join(tmpdir(), "bench-broker-"));
const mf = new Miniflare({
  modules: true,
  scriptPath: script,
  compatibilityDate: "2026-04-26",
  compatibilityFlags: ["nodejs_compat"],
  durableObjects: {
    SESSIONS: { className: "SessionDO", useSQLite: true },
    SHARDS: { className: "TopicShardDO", useSQLite: true },
  },
  durableObjectsPersist: dir,
  // The default configuration (as `npm start`), plus the local stats token the benchmark reads.
  bindings: { STATS_TOKEN: "local-stats" },
  host: "127.0.0.1",
  port,
});
await mf.ready;
process.send?.({ type: "ready" });
const stop = async () => {
  await mf.dispose();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("disconnect", () => void stop());
