/** This broker for the benchmark: the bundled Worker in workerd (Miniflare), state on disk as deployed. */
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
  // Queue limit as mosquitto is configured in this benchmark (max_queued_messages 10000).
  bindings: { MAX_QUEUED_MESSAGES: "10000", MAX_INFLIGHT: "20" },
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
