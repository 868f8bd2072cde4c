/**
 * The broker's own limits, each with its reason code and a log line: client ids (length,
 * control characters: review F1), topic length and levels, session expiry (F16), publish rate
 * per connection, and takeover storms. Run for MQTT 3.1.1 and 5.0.
 */
import type { IConnackPacket, IConnectPacket, ISubackPacket } from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { Reason } from "../errors.js";
import { forVersion, newSession, ok, only, packets, publishPacket, route, sent, settle, subscribePacket } from "./test-support.js";
import { ALLOWED } from "./auth-verdict.js";

const connackCode = (p: IConnackPacket | undefined) => p?.reasonCode ?? p?.returnCode;

describe.each([4, 5] as const)("MQTT %s: limits", (version) => {
  const { connectPacket, connect, connected } = forVersion(version);
  const v5 = version === 5;
  /** The CONNACK code for a refused CONNECT (3.1.1 has fewer codes). */
  const refusedWith = (actions: ReturnType<typeof connect>) => connackCode(packets(actions, "connack")[0]);
  const tryConnect = (session: ReturnType<typeof newSession>["session"], connId: string, clientId: string, opts: Partial<IConnectPacket> = {}, now = 0) =>
    session.receive(connId, route(clientId), ok(connectPacket(clientId, opts)), now, ALLOWED);

  it("refuses a client id longer than MAX_CLIENT_ID_LENGTH bytes: 0x85 / 0x02 [MQTT-3.1.3-8]", () => {
    const { session } = newSession({ maxClientIdBytes: 30 });
    const id = "é".repeat(16); // 32 bytes, 16 characters
    const actions = tryConnect(session, "k1", id);
    expect(refusedWith(actions)).toBe(v5 ? Reason.ClientIdentifierNotValid : 2);
    expect(only(actions, "close")).toHaveLength(1);
    expect(session.record).toBeUndefined();
  });

  it("refuses a user name over 1024 bytes (it must fit the socket attachment): 0x86 / 0x04", () => {
    const { session } = newSession();
    expect(refusedWith(tryConnect(session, "k1", "c1", { username: "u".repeat(1025), password: Buffer.from("p") }))).toBe(v5 ? Reason.BadUserNameOrPassword : 4);
    expect(session.current).toBeNull();
  });

  it("refuses control characters in a client id (review F1): 0x85 / 0x02", () => {
    for (const id of ["\u0001wildcard", "a\nb", "x\u007f", "y\u0085"]) {
      const { session } = newSession();
      expect(refusedWith(tryConnect(session, "k1", id))).toBe(v5 ? Reason.ClientIdentifierNotValid : 2);
    }
  });

  it("a PUBLISH to a topic beyond MAX_TOPIC_LENGTH / MAX_TOPIC_LEVELS is not routed; MQTT 5 says 0x90, 3.1.1 is acknowledged; counted", () => {
    const { session } = connected({ maxTopicBytes: 16, maxTopicLevels: 3 });
    for (const topic of ["a".repeat(17), "a/b/c/d"]) {
      const actions = session.receive("k1", route("c1"), ok(publishPacket(topic, "x", 1, 7)), 0);
      expect(only(actions, "route")).toEqual([]);
      expect(packets(actions, "puback")[0]).toMatchObject(v5 ? { messageId: 7, reasonCode: Reason.TopicNameInvalid } : { messageId: 7 });
      expect(only(actions, "log")[0]).toMatchObject({ counter: "publish_refused_topic_limit" });
    }
    // QoS 2 in 3.1.1: PUBREC, and the PUBREL that follows gets its PUBCOMP.
    const q2 = session.receive("k1", route("c1"), ok(publishPacket("a/b/c/d", "x", 2, 8)), 0);
    expect(packets(q2, "pubrec")[0]).toMatchObject(v5 ? { messageId: 8, reasonCode: Reason.TopicNameInvalid } : { messageId: 8 });
    if (!v5) expect(packets(session.receive("k1", route("c1"), ok({ cmd: "pubrel", messageId: 8 }), 0), "pubcomp")[0]).toMatchObject({ messageId: 8 });
  });

  it("a filter beyond the topic limits is refused on its own in SUBACK (0x8F / 0x80)", () => {
    const { session } = connected({ maxTopicBytes: 16, maxTopicLevels: 3 });
    const actions = settle(
      session,
      session.receive(
        "k1",
        route("c1"),
        ok(
          subscribePacket([
            ["a/+", 1],
            ["a/b/c/#", 1],
            ["x".repeat(17), 0],
          ]),
        ),
        0,
      ),
    );
    expect((packets(actions, "suback")[0] as ISubackPacket).granted).toEqual(v5 ? [1, Reason.TopicFilterInvalid, Reason.TopicFilterInvalid] : [1, 0x80, 0x80]);
  });

  it("a will topic beyond the topic limits refuses the CONNECT", () => {
    const { session } = newSession({ maxTopicLevels: 2 });
    const actions = tryConnect(session, "k1", "c1", { will: { topic: "a/b/c", payload: Buffer.from("bye"), qos: 0, retain: false } });
    expect(refusedWith(actions)).toBe(v5 ? Reason.TopicNameInvalid : 3);
  });

  it("more PUBLISH per second than MAX_PUBLISH_RATE (twice that in a burst) ends the connection: 0x96 in MQTT 5", () => {
    const { session } = connected({ maxPublishRate: 5 });
    for (let i = 0; i < 10; i++) expect(only(session.receive("k1", route("c1"), ok(publishPacket("a/b", "x", 0)), 0), "close")).toEqual([]);
    const actions = session.receive("k1", route("c1"), ok(publishPacket("a/b", "x", 0)), 0);
    expect(only(actions, "close")).toHaveLength(1);
    if (v5) expect(packets(actions, "disconnect")[0]).toMatchObject({ reasonCode: Reason.MessageRateTooHigh });
    // At the rate, a connection goes on for ever.
    const { session: steady } = connected({ maxPublishRate: 5 });
    for (let i = 0; i < 100; i++) expect(only(steady.receive("k1", route("c1"), ok(publishPacket("a/b", "x", 0)), i * 200), "close")).toEqual([]);
  });

  it("more PUBLISH bytes per second than MAX_PUBLISH_BYTES_PER_SECOND ends the connection", () => {
    const { session } = connected({ maxPublishBytesPerSecond: 1000 });
    expect(only(session.receive("k1", route("c1"), ok(publishPacket("a/b", "x".repeat(1500), 0)), 0), "close")).toEqual([]);
    expect(only(session.receive("k1", route("c1"), ok(publishPacket("a/b", "x".repeat(600), 0)), 0), "close")).toHaveLength(1);
  });

  it("caps a persistent session's expiry at MAX_SESSION_EXPIRY (review F16)", () => {
    const { session } = newSession({ maxSessionExpiry: 60 });
    connect(session, "k1", "c1", v5 ? { clean: false, properties: { sessionExpiryInterval: 0xffffffff } } : { clean: false });
    session.connectionLost("k1", 1000);
    expect(session.record?.expiresAt).toBe(61_000);
    expect(only(session.timer(61_000), "log")).toContainEqual(expect.objectContaining({ counter: "sessions_expired" }));
    expect(session.record).toBeUndefined();
  });

  it("past MAX_TAKEOVERS_PER_MINUTE, a takeover is refused (0x9F / 0x03) and the live connection keeps the session", () => {
    const { session } = newSession({ maxTakeoversPerMinute: 3 });
    connect(session, "k0", "c1");
    for (let i = 1; i <= 3; i++) connect(session, `k${i}`, "c1", {}, i * 1000);
    const refused = tryConnect(session, "k4", "c1", {}, 4000);
    expect(refusedWith(refused)).toBe(v5 ? Reason.ConnectionRateExceeded : 3);
    expect(only(refused, "log")).toContainEqual(expect.objectContaining({ counter: "takeovers_refused" }));
    expect(sent(refused, "k3")).toEqual([]);
    expect(session.current?.connId).toBe("k3");
    // A minute after the first takeovers, one is allowed again.
    connect(session, "k5", "c1", {}, 61_001);
    expect(session.current?.connId).toBe("k5");
  });
});

describe("MQTT 5: Reason Strings within the client's Maximum Packet Size (review F26)", () => {
  const { connect } = forVersion(5);
  it("a DISCONNECT whose Reason String would not fit is sent without it [MQTT-3.14.2-3]", () => {
    const { session } = newSession();
    connect(session, "k1", "c1", { properties: { maximumPacketSize: 20 } });
    const actions = session.fail("k1", Reason.ProtocolError, "a reason string much longer than twenty bytes", 0);
    const disconnect = packets(actions, "disconnect")[0]!;
    expect(disconnect.reasonCode).toBe(Reason.ProtocolError);
    expect(disconnect.properties?.reasonString).toBeUndefined();
    const { session: roomy } = newSession();
    connect(roomy, "k1", "c1", { properties: { maximumPacketSize: 1000 } });
    expect(packets(roomy.fail("k1", Reason.ProtocolError, "fits", 0), "disconnect")[0]!.properties?.reasonString).toBe("fits");
  });
});

describe("QoS 1/2 from the client awaiting the broker's acknowledgement (review F15, F27)", () => {
  it("MQTT 5: more QoS 1 and 2 messages than Receive Maximum in flight is 0x93 (§4.9)", () => {
    const { connect } = forVersion(5);
    const { session } = newSession({ receiveMaximum: 3 });
    connect(session, "k1", "c1");
    for (let id = 1; id <= 2; id++) expect(only(session.receive("k1", route("c1"), ok(publishPacket("a/b", "x", 1, id)), 0), "route")).toHaveLength(1);
    expect(only(session.receive("k1", route("c1"), ok(publishPacket("a/b", "x", 2, 3)), 0), "route")).toHaveLength(1);
    const over = session.receive("k1", route("c1"), ok(publishPacket("a/b", "x", 1, 4)), 0);
    expect(packets(over, "disconnect")[0]).toMatchObject({ reasonCode: Reason.ReceiveMaximumExceeded });
  });

  it("a QoS 1 message whose route completed no longer counts", () => {
    const { connect } = forVersion(5);
    const { session } = newSession({ receiveMaximum: 2 });
    connect(session, "k1", "c1");
    for (let id = 1; id <= 10; id++) {
      const actions = session.receive("k1", route("c1"), ok(publishPacket("a/b", "x", 1, id)), 0);
      expect(packets(settle(session, actions), "puback")).toHaveLength(1);
    }
  });

  it("a PUBREL before the PUBREC does not bring the released packet id back (review F27)", () => {
    const { connect } = forVersion(4);
    const { session, kv } = newSession();
    connect(session, "k1", "c1");
    const route2 = only(session.receive("k1", route("c1"), ok(publishPacket("a/b", "x", 2, 5)), 0), "route")[0]!;
    expect(packets(session.receive("k1", route("c1"), ok({ cmd: "pubrel", messageId: 5 }), 0), "pubcomp")).toHaveLength(1);
    session.routed(route2.routeId!, 0);
    expect(kv.get("in2:00005")).toBeUndefined();
    // A new QoS 2 PUBLISH with that id is routed, not only acknowledged.
    expect(only(session.receive("k1", route("c1"), ok(publishPacket("a/b", "y", 2, 5)), 0), "route")).toHaveLength(1);
  });
});
