/**
 * Hostile input over the network, briefly: about 10 s of the network fuzzer (test/fuzz/network-fuzz.ts)
 * against its own broker and gateway. Random, mutated and truncated packets over WebSocket and TCP
 * must close only their own connections: no Durable Object may throw an uncaught error, and canary
 * clients on both paths must receive every QoS 1 message published meanwhile. `npm run fuzz` runs
 * the long version; a failure prints the seed, and `npm run fuzz -- --seed S --case K` replays a case.
 * FUZZ_SEED fixes the seed here too.
 */
import { describe, expect, it } from "vitest";
import { buildCorpus, formatReport, runNetworkFuzz } from "../fuzz/network-fuzz.js";

const SECONDS = 10;

describe("network fuzzing (short run)", () => {
  it("survives random, mutated and truncated packets over WebSocket and the gateway, and the canary gets every QoS 1 message", async () => {
    const seed = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : undefined;
    const report = await runNetworkFuzz({ seconds: SECONDS, ...(seed !== undefined ? { seed } : {}), concurrency: 4 });
    const text = formatReport(report, buildCorpus());
    console.log(text);
    expect(report.packets.ws, "packets sent over WebSocket").toBeGreaterThan(0);
    expect(report.packets.tcp, "packets sent through the gateway").toBeGreaterThan(0);
    expect(
      report.crashes.map((c) => c.line),
      `crash lines (seed ${report.seed})`,
    ).toEqual([]);
    expect(report.gatewayErrors, `gateway errors (seed ${report.seed})`).toEqual([]);
    expect(report.canary.problems, `canary problems (seed ${report.seed})`).toEqual([]);
    expect(report.canary.missing, `canary messages lost (seed ${report.seed})`).toEqual(Object.fromEntries(Object.keys(report.canary.missing).map((k) => [k, []])));
    expect(report.canary.ok).toBe(true);
  }, 90_000);
});
