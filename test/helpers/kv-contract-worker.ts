/**
 * A test-only Worker that runs the SyncKv contract (src/storage/kv-contract.ts) inside workerd
 * against a real Durable Object's `ctx.storage.kv` (SQLite-backed), one fresh object per case:
 * GET /?case=<name> answers {"error": null} or {"error": "<what failed>"}. Bundled and started
 * by test/integration/16-storage-contract.test.ts; never part of the broker.
 */
import { DurableObject } from "cloudflare:workers";
import { kvContract } from "../../src/storage/kv-contract.js";

interface Env {
  KV: DurableObjectNamespace<KvContractDO>;
}

export class KvContractDO extends DurableObject<Env> {
  async run(caseName: string): Promise<string | null> {
    const kvCase = kvContract.find((c) => c.name === caseName);
    if (!kvCase) return `no such case: ${caseName}`;
    try {
      kvCase.run(this.ctx.storage.kv);
      return null;
    } catch (error) {
      return error instanceof Error ? (error.stack ?? error.message) : String(error);
    }
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const caseName = new URL(request.url).searchParams.get("case") ?? "";
    const error = await env.KV.get(env.KV.newUniqueId()).run(caseName);
    return Response.json({ error });
  },
};
