/**
 * Authentication and authorization in the session core: the shell's verdict on a CONNECT is
 * applied before anything else (a refused CONNECT never takes over a live session), and the
 * connection's rights are checked for publish, subscribe, delivery and the will. MQTT 5 clients
 * that connected with the "JWT" method re-authenticate with AUTH (§4.12.1); a token's expiry ends
 * the connection. Run for MQTT 3.1.1 and 5.0 where both apply.
 */
import type { IAuthPacket, IConnackPacket, ISubackPacket, Packet } from "mqtt-packet";
import { describe, expect, it } from "vitest";
import type { TopicRights } from "../../auth/authorizer.js";
import { Reason } from "../errors.js";
import { ALLOWED, type AuthVerdict } from "./auth-verdict.js";
import { forVersion, message, newSession, ok, only, packets, publishPacket, publishes, route, sent, settle, subscribePacket } from "./test-support.js";

/** Rights over topics under `prefix/` only (read, write and subscribe). */
const only_ = (prefix: string): TopicRights => ({ check: (_access, topic) => topic.startsWith(`${prefix}/`) });
const allowedAs = (rights: TopicRights, auth: Extract<AuthVerdict, { ok: true }>["auth"] = {}): AuthVerdict => ({ ok: true, auth, rights });
const refused = (reason: 0x86 | 0x87): AuthVerdict => ({ ok: false, reason, log: "refused in a test" });
const code = (p: IConnackPacket | undefined) => p?.reasonCode ?? p?.returnCode;

describe.each([4, 5] as const)("MQTT %s: credentials and rights", (version) => {
  const { connectPacket, connect } = forVersion(version);
  const v5 = version === 5;

  it("refused credentials get 0x86 / 0x04 or 0x87 / 0x05 and close; the live connection of that id is not taken over", () => {
    const { session } = newSession();
    connect(session, "live", "c1", { will: { topic: "w/c1", payload: Buffer.from("gone"), qos: 0, retain: false } });
    for (const [reason, old] of [
      [0x86, 4],
      [0x87, 5],
    ] as const) {
      const actions = session.receive("intruder", route("c1"), ok(connectPacket("c1")), 0, refused(reason));
      expect(code(packets(actions, "connack")[0])).toBe(v5 ? reason : old);
      expect(only(actions, "close").map((c) => c.connId)).toEqual(["intruder"]);
      expect(only(actions, "route")).toEqual([]); // no will fired
      expect(sent(actions, "live")).toEqual([]);
      expect(only(actions, "log")).toContainEqual(expect.objectContaining({ counter: "connects_refused_auth" }));
    }
    expect(session.current?.connId).toBe("live");
  });

  it("a will to a topic the client may not write refuses the CONNECT: 0x87 / 0x05", () => {
    const { session } = newSession();
    const actions = session.receive("k1", route("c1"), ok(connectPacket("c1", { will: { topic: "other/w", payload: Buffer.from("x"), qos: 0, retain: false } })), 0, allowedAs(only_("mine")));
    expect(code(packets(actions, "connack")[0])).toBe(v5 ? Reason.NotAuthorized : 5);
  });

  it("a PUBLISH the client may not write is not routed: PUBACK 0x87 in MQTT 5, acknowledged in 3.1.1, counted", () => {
    const { session } = newSession();
    session.receive("k1", route("c1"), ok(connectPacket("c1")), 0, allowedAs(only_("mine")));
    const denied = session.receive("k1", route("c1"), ok(publishPacket("other/t", "x", 1, 3)), 0);
    expect(only(denied, "route")).toEqual([]);
    expect(packets(denied, "puback")[0]).toMatchObject(v5 ? { messageId: 3, reasonCode: Reason.NotAuthorized } : { messageId: 3 });
    expect(only(denied, "log")).toContainEqual(expect.objectContaining({ counter: "publish_denied" }));
    expect(only(session.receive("k1", route("c1"), ok(publishPacket("mine/t", "x", 0)), 0), "route")).toHaveLength(1);
  });

  it("a filter the client may not subscribe to is refused on its own: SUBACK 0x87 / 0x80", () => {
    const { session } = newSession();
    session.receive("k1", route("c1"), ok(connectPacket("c1")), 0, allowedAs(only_("mine")));
    const actions = settle(
      session,
      session.receive(
        "k1",
        route("c1"),
        ok(
          subscribePacket([
            ["mine/+", 1],
            ["other/#", 1],
          ]),
        ),
        0,
      ),
    );
    expect((packets(actions, "suback")[0] as ISubackPacket).granted).toEqual(v5 ? [1, Reason.NotAuthorized] : [1, 0x80]);
    expect(Object.keys(session.record!.subscriptions)).toEqual(["mine/+"]);
  });

  it("a message the client may not read is not sent (live, queued or retained), counted", () => {
    const { session } = newSession();
    session.receive("k1", route("c1"), ok(connectPacket("c1")), 0, allowedAs({ check: (access, topic) => access !== "read" || topic !== "mine/secret" }));
    settle(session, session.receive("k1", route("c1"), ok(subscribePacket([["mine/#", 1]])), 0));
    const { actions } = session.deliver(
      "t/mine",
      [
        { seq: 1, message: message("mine/secret", "s", 1) },
        { seq: 2, message: message("mine/open", "o", 1) },
      ],
      0,
    );
    expect(publishes(actions).map((p) => p.topic)).toEqual(["mine/open"]);
    expect(only(actions, "log")).toContainEqual(expect.objectContaining({ counter: "delivery_denied" }));
  });
});

describe("MQTT 5: JWT expiry and re-authentication (§4.12.1)", () => {
  const { connectPacket } = forVersion(5);
  const jwtConnect = (session: ReturnType<typeof newSession>["session"], expiresAt: number) =>
    session.receive(
      "k1",
      route("c1"),
      ok(connectPacket("c1", { properties: { authenticationMethod: "JWT", authenticationData: Buffer.from("t1") } })),
      0,
      allowedAs(only_("a"), { username: "u", expiresAt }),
    );
  const auth = (method = "JWT", reasonCode = 0x19): Packet => ({ cmd: "auth", reasonCode, properties: { authenticationMethod: method, authenticationData: Buffer.from("t2") } }) as IAuthPacket;

  it("names the method back in CONNACK, and ends the connection with 0xA0 when the token expires", () => {
    const { session } = newSession();
    const connack = packets(jwtConnect(session, 10_000), "connack")[0]!;
    expect(connack).toMatchObject({ reasonCode: 0, properties: expect.objectContaining({ authenticationMethod: "JWT" }) });
    expect(session.nextDeadline()).toBe(10_000);
    const actions = session.timer(10_000);
    expect(packets(actions, "disconnect")[0]).toMatchObject({ reasonCode: Reason.MaximumConnectTime });
    expect(session.current).toBeNull();
  });

  it("a fresh token in AUTH 0x19 keeps the connection: AUTH 0x00, new rights and expiry", () => {
    const { session } = newSession();
    jwtConnect(session, 10_000);
    const actions = session.receive("k1", route("c1"), ok(auth()), 5000, allowedAs(only_("b"), { username: "u", expiresAt: 20_000 }));
    expect(packets(actions, "auth")[0]).toMatchObject({ reasonCode: 0, properties: { authenticationMethod: "JWT" } });
    expect(session.nextDeadline()).toBe(20_000);
    expect(session.timer(10_000)).toEqual([]);
    expect(session.rights.check("write", "b/x")).toBe(true);
    expect(session.rights.check("write", "a/x")).toBe(false);
  });

  it("a refused token in AUTH ends the connection with the verdict's reason", () => {
    const { session } = newSession();
    jwtConnect(session, 10_000);
    const actions = session.receive("k1", route("c1"), ok(auth()), 5000, refused(0x87));
    expect(packets(actions, "disconnect")[0]).toMatchObject({ reasonCode: Reason.NotAuthorized });
    expect(session.current).toBeNull();
  });

  it("AUTH without a method in CONNECT, with another method, or another reason code is a protocol error", () => {
    const plain = newSession().session;
    plain.receive("k1", route("c1"), ok(connectPacket("c1")), 0, ALLOWED);
    expect(packets(plain.receive("k1", route("c1"), ok(auth()), 0, ALLOWED), "disconnect")[0]).toMatchObject({ reasonCode: Reason.ProtocolError });
    for (const packet of [auth("SCRAM"), auth("JWT", 0x18)]) {
      const { session } = newSession();
      jwtConnect(session, 10_000);
      expect(packets(session.receive("k1", route("c1"), ok(packet), 0, ALLOWED), "disconnect")[0]).toMatchObject({ reasonCode: Reason.ProtocolError });
    }
  });

  it("refuses an Authentication Method other than JWT with 0x8C", () => {
    const { session } = newSession();
    const actions = session.receive("k1", route("c1"), ok(connectPacket("c1", { properties: { authenticationMethod: "SCRAM-SHA-1" } })), 0, ALLOWED);
    expect(code(packets(actions, "connack")[0])).toBe(Reason.BadAuthenticationMethod);
  });
});
