/**
 * describeKvContract: the SyncKv contract (kv-contract.ts) as a vitest suite, one test per case.
 * In-process, each case gets a fresh KV from `makeKv`; for a KV that lives elsewhere (a Durable
 * Object in workerd) `remote.run(name)` runs the named case there and rejects with its failure.
 */
import { describe, it } from "vitest";
import { kvContract } from "./kv-contract.js";
import type { SyncKv } from "./sync-kv.js";

export interface RemoteKv {
  run(caseName: string): Promise<void>;
}

export function describeKvContract(name: string, makeKv: (() => SyncKv) | RemoteKv): void {
  describe(`SyncKv contract: ${name}`, () => {
    for (const kvCase of kvContract) {
      it(kvCase.name, async () => {
        if (typeof makeKv === "function") kvCase.run(makeKv());
        else await makeKv.run(kvCase.name);
      });
    }
  });
}
