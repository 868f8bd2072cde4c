/** This broker for `--runtime=miniflare`: the deploy bundle in workerd (Miniflare), state on disk as deployed. */
import { Miniflare } from "miniflare";

// The state directory is the caller's: it removes it after this process is gone (even if killed).
const [port, script, dir] = [Number(process.argv[2]), process.argv[3]!, process.argv[4]!];
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
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("disconnect", () => void stop());
