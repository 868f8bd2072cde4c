/**
 * The reliability soak, briefly: one minute of test/soak/soak.ts with 60 clients at 80 msg/s
 * (`npm run soak` runs the long version: 200 clients for 10 minutes). Persistent subscribers that
 * are disconnected, killed and taken over meanwhile must get every acknowledged QoS 1/2 message,
 * QoS 2 exactly once. Everything else the soak checks (order, wills, retained state, memory and
 * storage: a minute is all warm-up) is printed here, and fails `npm run soak`.
 * SOAK_SEED fixes the seed.
 */
import { describe, expect, it } from "vitest";
import { formatReport, runSoak, summaryLine } from "../soak/soak.js";

describe("soak (short run)", () => {
  it("loses no acknowledged QoS 1/2 message and duplicates no QoS 2 one under churn, reconnects, takeovers and wills", async () => {
    const seed = process.env.SOAK_SEED !== undefined ? Number(process.env.SOAK_SEED) : undefined;
    const report = await runSoak({ minutes: 1, clients: 60, rate: 80, drainSeconds: 30, sampleSeconds: 3, ...(seed !== undefined ? { seed } : {}) });
    console.log(formatReport(report));
    const q = report.qos;
    expect(q[1].acked, "QoS 1 publishes acknowledged").toBeGreaterThan(0);
    expect(q[2].acked, "QoS 2 publishes acknowledged").toBeGreaterThan(0);
    expect(report.wills.expected, "wills of killed clients").toBeGreaterThan(0);
    const w = report.wills;
    expect(
      { lostQos1: q[1].lost, lostQos2: q[2].lost, duplicatedQos2: q[2].duplicated, willsLost: w.lost, willsUnexpected: w.unexpected },
      `${summaryLine(report)}\n${report.examples.join("\n")}`,
    ).toEqual({
      lostQos1: 0,
      lostQos2: 0,
      duplicatedQos2: 0,
      willsLost: 0,
      willsUnexpected: 0,
    });
  }, 180_000);
});
