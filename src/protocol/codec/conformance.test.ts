/**
 * The conformance table (test/conformance/cases.ts) through the codec and the session core, as
 * the session object runs them: each forbidden packet gets the answer the specification gives.
 * MQTT 5: DISCONNECT (CONNACK for a CONNECT) with the reason code, then close; 3.1.1: close, nothing sent.
 */
import type { Packet } from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { CASES, type ConformanceCase, MALFORMED, PROTOCOL_ERROR, connectBytes, packet, props, publish, rows, str, subscribe, u16, type Version } from "../../../test/conformance/cases.js";
import { ALLOWED } from "../session/auth-verdict.js";
import { deliverNow, forVersion, message, newSession, ok, only, publishes, route, sent, settle, subscribePacket } from "../session/test-support.js";
import { connectSummary, decodePacket } from "./codec.js";
import { checkPacket } from "./validate.js";

/**
 * What the session answers `c.bytes` with, on a connection that CONNECTed first unless `connect`
 * (and, with `c.delivery`, that was delivered one message at that QoS).
 */
function answer(c: ConformanceCase, v: Version) {
  const connect = c.connect === true;
  const { session } = newSession();
  if (!connect) forVersion(v).connect(session, "k1", "c1");
  let packetId = 0;
  if (c.delivery) {
    settle(session, session.receive("k1", route("c1"), ok(subscribePacket([["a/b", 2]])), 1));
    const [p] = publishes(deliverNow(session, "t/a", [{ seq: 1, message: message("a/b", "x", c.delivery) }]).actions);
    expect(p).toMatchObject({ qos: c.delivery });
    packetId = p!.messageId!;
  }
  const bytes = c.bytes(v, packetId);
  const input = decodePacket(bytes, connect ? undefined : v);
  const clientId = connect ? (connectSummary(bytes)?.clientId ?? "x") : "c1";
  const actions = session.receive("k1", route(clientId), input, 1, input.ok && input.packet.cmd === "connect" ? ALLOWED : undefined);
  return { input, packets: sent(actions, "k1"), closes: only(actions, "close").filter((a) => a.connId === "k1") };
}

describe("conformance table: every forbidden packet gets the specification's answer", () => {
  for (const { c, v, clause } of rows()) {
    const answerText = v === 5 ? `${c.connect ? "CONNACK" : "DISCONNECT"} 0x${c.reason5!.toString(16)}` : "close";
    it(`${clause} ${c.name} (MQTT ${v === 5 ? "5.0" : "3.1.1"}): ${answerText}`, () => {
      const { input, packets, closes } = answer(c, v);
      // MQTT 5: with the Reason String that says why (§4.13.1; the client did not set Request Problem Information 0).
      if (v === 5) expect(packets).toEqual([expect.objectContaining({ cmd: c.connect ? "connack" : "disconnect", reasonCode: c.reason5, properties: { reasonString: expect.any(String) } })]);
      // 3.1.1 has no DISCONNECT from the server, and a bad CONNECT gets no CONNACK [MQTT-3.1.4-1].
      else expect(packets).toEqual([]);
      expect(closes).toEqual([expect.objectContaining({ error: true })]);
      // The clause named in the table is the one the codec names, where the codec decides.
      if (!input.ok && input.error !== "unacceptable-protocol" && clause.startsWith("[")) expect(input.detail).toContain(clause);
    });
  }

  it("covers both versions and both kinds of error", () => {
    const all = rows();
    expect(all.filter((r) => r.v === 5).length).toBeGreaterThan(50);
    expect(all.filter((r) => r.v === 4).length).toBeGreaterThan(35);
    expect(new Set(CASES.map((c) => c.reason5))).toEqual(new Set([MALFORMED, PROTOCOL_ERROR, 0x94, undefined]));
  });
});

describe("what the rules must still let through", () => {
  /** The session's answer to an acknowledgement on a connection with nothing in flight. */
  const ackAnswer = (v: Version, cmd: "puback" | "pubrec" | "pubrel" | "pubcomp") => {
    const { session } = newSession();
    forVersion(v).connect(session, "k1", "c1");
    const actions = session.receive("k1", route("c1"), ok({ cmd, messageId: 7, ...(v === 5 ? { reasonCode: 0 } : {}) } as Packet), 1);
    return { packets: sent(actions, "k1"), closes: only(actions, "close") };
  };

  it("[MQTT-4.3.3-11] a PUBREL for a packet id with no QoS 2 message from the client gets PUBCOMP, 0x92 Packet Identifier not found in 5.0 (§3.7.2.1)", () => {
    expect(ackAnswer(5, "pubrel")).toEqual({ packets: [{ cmd: "pubcomp", messageId: 7, reasonCode: 0x92 }], closes: [] });
    expect(ackAnswer(4, "pubrel")).toEqual({ packets: [{ cmd: "pubcomp", messageId: 7 }], closes: [] });
  });

  // Doubtful: the text names no answer to a PUBACK, PUBREC or PUBCOMP for an id with nothing in
  // flight. 0x92 is "not an error during recovery" (§3.6.2.1), and such an acknowledgement can
  // repeat one already handled or cross a takeover, so it is not treated as a Protocol Error.
  it("an acknowledgement for a packet id with nothing in flight is no error: PUBACK and PUBCOMP are ignored, PUBREC gets PUBREL 0x92 (§3.6.2.1)", () => {
    for (const v of [5, 4] as const) {
      expect(ackAnswer(v, "puback")).toEqual({ packets: [], closes: [] });
      expect(ackAnswer(v, "pubcomp")).toEqual({ packets: [], closes: [] });
      expect(ackAnswer(v, "pubrec")).toEqual({ packets: [{ cmd: "pubrel", messageId: 7, ...(v === 5 ? { reasonCode: 0x92 } : {}) }], closes: [] });
    }
  });

  const accepted = (bytes: Uint8Array, v: Version) => expect(checkPacket(bytes, v)).toBeUndefined();

  it("[MQTT-3.1.2-18] MQTT 5 allows a Password without a User Name (§3.1.2.9), which 3.1.1 forbids [MQTT-3.1.2-22]", () => {
    const bytes = connectBytes(5, { flags: 0x42, rest: [0, 3, 1, 2, 3] });
    expect(checkPacket(bytes, undefined)).toBeUndefined();
    expect(checkPacket(connectBytes(4, { flags: 0x42, rest: [0, 3, 1, 2, 3] }), undefined)?.clause).toBe("[MQTT-3.1.2-22]");
  });

  it("User Property may appear more than once, with the same name (§3.3.2.3.7)", () => {
    accepted(publish(5, str("a"), [0x26, ...str("k"), ...str("1"), 0x26, ...str("k"), ...str("2")]), 5);
  });

  it("§3.4.2.1 an MQTT 5 acknowledgement may leave out its Reason Code and properties, or only its properties", () => {
    accepted(packet(0x40, u16(1)), 5);
    accepted(packet(0x40, u16(1), 0x10), 5);
    accepted(packet(0x40, u16(1), 0x10, props(0x1f, ...str("why"))), 5);
  });

  it("§3.15.2.1 an AUTH with a Remaining Length of 0 is Reason Code 0x00 (which the session then refuses: only re-authentication is offered)", () => {
    expect(decodePacket(packet(0xf0), 5)).toEqual({ ok: true, packet: { cmd: "auth", reasonCode: 0 } });
  });

  it("§3.14.2.1 an MQTT 5 DISCONNECT may leave out its Reason Code and properties", () => {
    accepted(packet(0xe0), 5);
    accepted(packet(0xe0, 0x04), 5);
  });

  it("[MQTT-4.7.1-1] valid filters: #, +, +/x/#, a//b, /, and a Shared Subscription $share/g/+/a", () => {
    for (const filter of ["#", "+", "+/x/#", "a//b", "/", "$share/g/+/a", "sport/tennis/#"]) accepted(subscribe(5, [...str(filter), 0x2a]), 5);
    // In 3.1.1 "$share/" is an ordinary prefix: "$share//a" is a valid filter there.
    accepted(subscribe(4, [...str("$share//a"), 1]), 4);
  });

  it("an empty Topic Name with a Topic Alias is the session's to resolve (§3.3.2.3.4)", () => {
    accepted(publish(5, str(""), [0x23, ...u16(1)]), 5);
  });

  it("a Payload Format Indicator of 0 or 1 passes; 0xED does not (§3.3.2.3.2, see docs/CONFORMANCE.md)", () => {
    accepted(publish(5, str("a"), [0x01, 0]), 5);
    accepted(publish(5, str("a"), [0x01, 1]), 5);
    expect(checkPacket(publish(5, str("a"), [0x01, 0xed]), 5)?.kind).toBe("protocol-error");
  });

  it("the Will Properties may carry the message properties and a Will Delay Interval (§3.1.3.2)", () => {
    const will = [...props(0x18, 0, 0, 0, 5, 0x01, 1, 0x02, 0, 0, 0, 9, 0x03, ...str("t"), 0x08, ...str("r"), 0x09, 0, 1, 7, 0x26, ...str("k"), ...str("v")), ...str("w/t"), 0, 1, 0x78];
    expect(checkPacket(connectBytes(5, { flags: 0x0e, rest: will }), undefined)).toBeUndefined();
  });
});
