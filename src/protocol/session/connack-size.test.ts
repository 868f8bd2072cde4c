/** A CONNACK, accepting or refusing, never exceeds the client's Maximum Packet Size [MQTT-3.1.2-24]. */
import type { IConnackPacket } from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { decodePacket, encodePacket } from "../codec/codec.js";
import { ALLOWED } from "./auth-verdict.js";
import { forVersion, newSession, ok, only, packets, route, sent } from "./test-support.js";
import { fitConnack } from "./wire.js";

const { connectPacket } = forVersion(5);
const size = (p: IConnackPacket) => encodePacket(p, 5).byteLength;

describe("CONNACK within the client's Maximum Packet Size [MQTT-3.1.2-24]", () => {
  it("an accepting CONNACK leaves out the properties that repeat their defaults when they would not fit", () => {
    const { session } = newSession({ topicAliasMaximum: 0 });
    const full = packets(session.receive("k0", route("c0"), ok(connectPacket("c0")), 0, ALLOWED), "connack")[0]!;
    expect(size(full)).toBeGreaterThan(16);
    const actions = session.receive("k1", route("c0"), ok(connectPacket("c0", { properties: { maximumPacketSize: 16 } })), 0, ALLOWED);
    const connack = packets(actions, "connack")[0]!;
    expect(connack.reasonCode).toBe(0);
    expect(size(connack)).toBeLessThanOrEqual(16);
    // What it leaves out means the same when absent (§3.2.2.3): retain, wildcards, ids, sharing available.
    expect(connack.properties).not.toHaveProperty("retainAvailable");
    expect(connack.properties).toHaveProperty("maximumPacketSize");
  });

  it("[MQTT-3.2.2-19] a refusing CONNACK drops its Reason String when it would not fit", () => {
    // Receive Maximum 0 is a Protocol Error (§3.1.2.11.3): CONNACK 0x82.
    const bytes = encodePacket(connectPacket("c1", { properties: { receiveMaximum: 0, maximumPacketSize: 8 } }), 5);
    const { session } = newSession();
    const connack = packets(session.receive("k1", route("c1"), decodePacket(bytes, undefined), 0, ALLOWED), "connack")[0]!;
    expect(connack).toMatchObject({ reasonCode: 0x82 });
    expect(connack.properties?.reasonString).toBeUndefined();
    expect(size(connack)).toBeLessThanOrEqual(8);
    // With room, the reason is told.
    const roomy = encodePacket(connectPacket("c2", { properties: { receiveMaximum: 0 } }), 5);
    const told = packets(newSession().session.receive("k2", route("c2"), decodePacket(roomy, undefined), 0, ALLOWED), "connack")[0]!;
    expect(told.properties?.reasonString).toContain("Receive Maximum");
  });

  it("fitConnack leaves a CONNACK that fits, and every packet but CONNACK, as it is", () => {
    const connack: IConnackPacket = { cmd: "connack", reasonCode: 0, sessionPresent: false, properties: { reasonString: "x", receiveMaximum: 10 } };
    expect(fitConnack(connack, 1000)).toBe(connack);
    expect(fitConnack(connack, undefined)).toBe(connack);
    expect(fitConnack({ cmd: "pingresp" }, 1)).toEqual({ cmd: "pingresp" });
  });
});

describe("a CONNACK that cannot fit the client's Maximum Packet Size is not sent [MQTT-3.1.2-24]", () => {
  const longId = `assigned-${"x".repeat(40)}`;

  it("[MQTT-3.2.2-16] an accepting CONNACK whose Assigned Client Identifier does not fit refuses the connection with CONNACK 0x80, and nothing is taken", () => {
    const { session } = newSession({ topicAliasMaximum: 0 });
    const actions = session.receive("k1", route(longId, true), ok(connectPacket("", { properties: { maximumPacketSize: 30 } })), 0, ALLOWED);
    const [connack] = packets(actions, "connack");
    // The identifier is not left out (the client must learn it), so the connection cannot go on;
    // no other code applies, so 0x80 Unspecified error (§3.2.2.2).
    expect(connack).toMatchObject({ reasonCode: 0x80 });
    expect(size(connack!)).toBeLessThanOrEqual(30);
    expect(only(actions, "close")).toEqual([expect.objectContaining({ connId: "k1", error: true })]);
    expect(session.current).toBeNull();
    expect(session.record).toBeUndefined();
  });

  it("the live connection keeps the session when a newcomer's CONNACK could not fit", () => {
    const { session } = newSession();
    session.receive("k0", route("c0"), ok(connectPacket("c0")), 0, ALLOWED);
    const actions = session.receive("k1", route("c0"), ok(connectPacket("c0", { properties: { maximumPacketSize: 6, requestResponseInformation: true } })), 0, ALLOWED);
    expect(sent(actions, "k0")).toEqual([]);
    expect(session.current?.connId).toBe("k0");
  });

  it("a CONNACK that fits no Maximum Packet Size that small (4 bytes) is not sent at all: the connection just closes", () => {
    for (const properties of [{ maximumPacketSize: 4 }, { maximumPacketSize: 4, receiveMaximum: 0 }]) {
      const { session } = newSession();
      const actions = session.receive("k1", route("c1"), decodePacket(encodePacket(connectPacket("c1", { properties }), 5), undefined), 0, ALLOWED);
      expect(sent(actions)).toEqual([]);
      expect(only(actions, "close")).toEqual([expect.objectContaining({ connId: "k1", error: true })]);
      expect(session.current).toBeNull();
    }
  });
});
