import type { Packet } from "mqtt-packet";
import mqttPacket from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { connectSummary, decodePacket, encodePacket, isAcceptableProtocol } from "./codec.js";

const bytes = (...b: number[]) => Uint8Array.from(b);
/** Bytes as a plain array, so a Buffer and a Uint8Array with the same content compare equal. */
const list = (b: Uint8Array) => [...b];

/** Encodes for v4 and decodes again; fails the test on a decode error. */
function roundTrip(packet: Packet, before: "connect" | 4 = 4): Packet {
  const encoded = encodePacket(packet, 4);
  const decoded = decodePacket(encoded, before === "connect" ? undefined : 4);
  if (!decoded.ok) throw new Error(`decode failed: ${decoded.error} ${decoded.detail}`);
  return decoded.packet;
}

// CONNECT, "MQTT", level 4, flags, keepalive 60, client id "x".
const connectWithFlags = (level: number, flags: number) => bytes(0x10, 0x0d, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, level, flags, 0x00, 0x3c, 0x00, 0x01, 0x78);

describe("encodePacket / decodePacket round trips (MQTT 3.1.1)", () => {
  it("CONNECT with will, credentials and keepalive", () => {
    const decoded = roundTrip(
      {
        cmd: "connect",
        protocolId: "MQTT",
        protocolVersion: 4,
        clean: false,
        clientId: "client-1",
        keepalive: 30,
        username: "user",
        password: Buffer.from("secret"),
        will: { topic: "status/client-1", payload: Buffer.from("offline"), qos: 1, retain: true },
      },
      "connect",
    );
    expect(decoded).toMatchObject({
      cmd: "connect",
      protocolId: "MQTT",
      protocolVersion: 4,
      clean: false,
      clientId: "client-1",
      keepalive: 30,
      username: "user",
      will: { topic: "status/client-1", qos: 1, retain: true },
    });
    if (decoded.cmd !== "connect") throw new Error("not a connect");
    expect(Buffer.from(decoded.password!).toString()).toBe("secret");
    expect(Buffer.from(decoded.will!.payload).toString()).toBe("offline");
  });

  it("CONNECT encodes to the bytes of §3.1 and decodes from them", () => {
    const encoded = encodePacket({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, clientId: "x", keepalive: 60 }, 4);
    expect(list(encoded)).toEqual(list(connectWithFlags(4, 0x02)));
    const decoded = decodePacket(connectWithFlags(4, 0x02), undefined);
    expect(decoded).toMatchObject({ ok: true, packet: { cmd: "connect", clientId: "x", clean: true, keepalive: 60 } });
  });

  it("PUBLISH QoS 0 has no packet identifier [MQTT-2.3.1-5]", () => {
    const encoded = encodePacket({ cmd: "publish", topic: "a/b", payload: Buffer.from("hi"), qos: 0, retain: false, dup: false }, 4);
    // Fixed header 0x30, remaining length 7: topic length (2) + "a/b" (3) + payload (2).
    expect(list(encoded)).toEqual(list(bytes(0x30, 0x07, 0x00, 0x03, 0x61, 0x2f, 0x62, 0x68, 0x69)));
    const decoded = decodePacket(encoded, 4);
    expect(decoded).toMatchObject({ ok: true, packet: { cmd: "publish", topic: "a/b", qos: 0, retain: false, dup: false } });
    if (!decoded.ok || decoded.packet.cmd !== "publish") throw new Error("not a publish");
    expect(decoded.packet.messageId).toBeUndefined();
    expect(Buffer.from(decoded.packet.payload).toString()).toBe("hi");
  });

  it("PUBLISH QoS 1 with retain keeps its packet id and flags", () => {
    const decoded = roundTrip({ cmd: "publish", topic: "sensors/t", payload: Buffer.from([1, 2, 3]), qos: 1, retain: true, dup: false, messageId: 42 });
    expect(decoded).toMatchObject({ cmd: "publish", topic: "sensors/t", qos: 1, retain: true, dup: false, messageId: 42 });
    if (decoded.cmd !== "publish") throw new Error("not a publish");
    expect([...Buffer.from(decoded.payload)]).toEqual([1, 2, 3]);
  });

  it("PUBLISH QoS 2 with DUP set", () => {
    const decoded = roundTrip({ cmd: "publish", topic: "x", payload: Buffer.alloc(0), qos: 2, retain: false, dup: true, messageId: 65535 });
    expect(decoded).toMatchObject({ cmd: "publish", topic: "x", qos: 2, dup: true, messageId: 65535 });
  });

  it("SUBSCRIBE with several filters keeps their order and QoS", () => {
    const decoded = roundTrip({
      cmd: "subscribe",
      messageId: 3,
      subscriptions: [
        { topic: "a/#", qos: 1 },
        { topic: "+/b", qos: 2 },
        { topic: "c", qos: 0 },
      ],
    });
    expect(decoded).toMatchObject({
      cmd: "subscribe",
      messageId: 3,
      subscriptions: [
        { topic: "a/#", qos: 1 },
        { topic: "+/b", qos: 2 },
        { topic: "c", qos: 0 },
      ],
    });
  });

  it("SUBSCRIBE is encoded with fixed header flags 0010 [MQTT-3.8.1-1]", () => {
    const encoded = encodePacket({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "t", qos: 0 }] }, 4);
    expect(encoded[0]).toBe(0x82);
  });

  it("SUBACK with a failure code", () => {
    const encoded = encodePacket({ cmd: "suback", messageId: 9, granted: [0, 1, 2, 0x80] }, 4);
    expect(list(encoded)).toEqual(list(bytes(0x90, 0x06, 0x00, 0x09, 0x00, 0x01, 0x02, 0x80)));
    expect(decodePacket(encoded, 4)).toMatchObject({ ok: true, packet: { cmd: "suback", messageId: 9, granted: [0, 1, 2, 0x80] } });
  });

  it("PUBACK, PUBREC, PUBREL, PUBCOMP carry the packet id", () => {
    expect(list(encodePacket({ cmd: "puback", messageId: 7 }, 4))).toEqual(list(bytes(0x40, 0x02, 0x00, 0x07)));
    // PUBREL has fixed header flags 0010 [MQTT-3.6.1-1].
    expect(list(encodePacket({ cmd: "pubrel", messageId: 7 }, 4))).toEqual(list(bytes(0x62, 0x02, 0x00, 0x07)));
    for (const cmd of ["puback", "pubrec", "pubrel", "pubcomp"] as const) {
      expect(roundTrip({ cmd, messageId: 258 } as Packet)).toMatchObject({ cmd, messageId: 258 });
    }
  });

  it("PINGREQ, PINGRESP and DISCONNECT are two bytes", () => {
    expect(list(encodePacket({ cmd: "pingreq" }, 4))).toEqual(list(bytes(0xc0, 0x00)));
    expect(list(encodePacket({ cmd: "pingresp" }, 4))).toEqual(list(bytes(0xd0, 0x00)));
    expect(list(encodePacket({ cmd: "disconnect" }, 4))).toEqual(list(bytes(0xe0, 0x00)));
    expect(decodePacket(bytes(0xc0, 0x00), 4)).toMatchObject({ ok: true, packet: { cmd: "pingreq" } });
    expect(decodePacket(bytes(0xe0, 0x00), 4)).toMatchObject({ ok: true, packet: { cmd: "disconnect" } });
  });

  it("CONNACK with sessionPresent and a return code", () => {
    const encoded = encodePacket({ cmd: "connack", returnCode: 0, sessionPresent: true }, 4);
    expect(list(encoded)).toEqual(list(bytes(0x20, 0x02, 0x01, 0x00)));
    expect(list(encodePacket({ cmd: "connack", returnCode: 2, sessionPresent: false }, 4))).toEqual(list(bytes(0x20, 0x02, 0x00, 0x02)));
  });

  it("decodes a non-CONNECT packet before the version is known", () => {
    expect(decodePacket(bytes(0xc0, 0x00), undefined)).toMatchObject({ ok: true, packet: { cmd: "pingreq" } });
  });

  it("decodes consecutive packets independently with the shared v4 parser", () => {
    for (let id = 1; id <= 5; id++) {
      expect(decodePacket(encodePacket({ cmd: "puback", messageId: id }, 4), 4)).toMatchObject({ ok: true, packet: { messageId: id } });
    }
  });
});

describe("protocol name and level [MQTT-3.1.2-1], [MQTT-3.1.2-2]", () => {
  it("answers level 6 with unacceptable-protocol, before parsing the rest", () => {
    const result = decodePacket(connectWithFlags(6, 0x02), undefined);
    expect(result).toEqual({ ok: false, error: "unacceptable-protocol", detail: "MQTT level 6" });
  });

  it("finds the level behind a multi-byte remaining length", () => {
    const long = (level: number) => {
      const bytes = encodePacket({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, clientId: "x".repeat(300), keepalive: 60 }, 4);
      const copy = Uint8Array.from(bytes);
      // Fixed header (1) + two length bytes + name length (2) + "MQTT" (4): the level byte.
      expect(copy[2]! & 0x80).toBe(0);
      expect(copy[1]! & 0x80).toBe(0x80);
      copy[9] = level;
      return copy;
    };
    expect(decodePacket(long(6), undefined)).toEqual({ ok: false, error: "unacceptable-protocol", detail: "MQTT level 6" });
    expect(decodePacket(long(4), undefined)).toMatchObject({ ok: true, packet: { cmd: "connect", clientId: "x".repeat(300) } });
  });

  it("rejects the name MQIsdp with level 4", () => {
    const connect = bytes(0x10, 0x0f, 0x00, 0x06, 0x4d, 0x51, 0x49, 0x73, 0x64, 0x70, 0x04, 0x02, 0x00, 0x3c, 0x00, 0x01, 0x78);
    expect(decodePacket(connect, undefined)).toMatchObject({ ok: false, error: "unacceptable-protocol" });
  });

  it("accepts MQTT 3.1 (MQIsdp/3), 3.1.1 (MQTT/4) and 5 (MQTT/5) only", () => {
    expect(isAcceptableProtocol("MQTT", 4)).toBe(true);
    expect(isAcceptableProtocol("MQTT", 5)).toBe(true);
    expect(isAcceptableProtocol("MQIsdp", 3)).toBe(true);
    expect(isAcceptableProtocol("MQTT", 3)).toBe(false);
    expect(isAcceptableProtocol("MQTT", 6)).toBe(false);
    expect(isAcceptableProtocol("MQIsdp", 4)).toBe(false);
    expect(isAcceptableProtocol("mqtt", 4)).toBe(false);
  });
});

describe("malformed packets", () => {
  it("rejects a CONNECT with the reserved flag bit set [MQTT-3.1.2-3]", () => {
    const result = decodePacket(connectWithFlags(4, 0x03), undefined);
    expect(result).toMatchObject({ ok: false, error: "malformed" });
  });

  it("rejects a PUBLISH with both QoS bits set [MQTT-3.3.1-4]", () => {
    expect(decodePacket(bytes(0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01), 4)).toMatchObject({ ok: false, error: "malformed" });
  });

  it("rejects the reserved packet type 0", () => {
    expect(decodePacket(bytes(0x00, 0x00), 4)).toMatchObject({ ok: false, error: "malformed" });
  });

  it("rejects a packet shorter than its remaining length", () => {
    expect(decodePacket(bytes(0x40, 0x02, 0x00), 4)).toMatchObject({ ok: false, error: "malformed" });
  });

  it("rejects bytes left over after a packet body", () => {
    expect(decodePacket(bytes(0x30, 0x03, 0x00, 0x01, 0x61, 0x30, 0x05, 0x00), 4)).toMatchObject({
      ok: false,
      error: "malformed",
      detail: "trailing bytes after packet",
    });
  });

  it("decodes the next packet normally after a malformed one", () => {
    expect(decodePacket(bytes(0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01), 4).ok).toBe(false);
    expect(decodePacket(bytes(0x40, 0x02, 0x00, 0x07), 4)).toMatchObject({ ok: true, packet: { cmd: "puback", messageId: 7 } });
  });
});

describe("decodePacket with stray bytes (regression)", () => {
  it("refuses bytes after a packet and leaves the shared parser clean for the next packet", () => {
    const stray = decodePacket(Uint8Array.from([0xc0, 0x00, 0x40]), 4);
    expect(stray).toMatchObject({ ok: false, error: "malformed" });
    const next = decodePacket(Uint8Array.from([0x40, 0x02, 0x00, 0x07]), 4);
    expect(next).toMatchObject({ ok: true, packet: { cmd: "puback", messageId: 7 } });
  });
});

describe("connectSummary", () => {
  it("reads the client id, protocol version and keepalive an edge needs from a CONNECT", () => {
    const v5 = encodePacket({ cmd: "connect", protocolId: "MQTT", protocolVersion: 5, clientId: "dev-1", clean: true, keepalive: 42 }, 5);
    expect(connectSummary(v5)).toEqual({ clientId: "dev-1", version: 5, keepalive: 42, problemInformation: true });
    const empty = encodePacket({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: "", clean: true, keepalive: 0 }, 4);
    expect(connectSummary(empty)).toEqual({ clientId: "", version: 4, keepalive: 0, problemInformation: true });
    // What the edge needs to word its own DISCONNECT (see EdgeConnection.disconnect).
    const quiet = encodePacket(
      { cmd: "connect", protocolId: "MQTT", protocolVersion: 5, clientId: "q", clean: true, keepalive: 0, properties: { requestProblemInformation: false, maximumPacketSize: 100 } },
      5,
    );
    expect(connectSummary(quiet)).toMatchObject({ problemInformation: false, maximumPacketSize: 100 });
  });

  it("is null for bytes that are not a decodable CONNECT", () => {
    expect(connectSummary(bytes(0xc0, 0x00))).toBeNull();
    expect(connectSummary(bytes(0x10, 0x02, 0x00, 0x04))).toBeNull();
  });
});

describe("duplicated MQTT 5 properties (review F13)", () => {
  it("a property other than User Property given twice is refused, not turned into an array", () => {
    const bytes = mqttPacket.generate({ cmd: "subscribe", messageId: 1, properties: { subscriptionIdentifier: [5, 6] }, subscriptions: [{ topic: "a", qos: 1 }] } as unknown as mqttPacket.Packet, {
      protocolVersion: 5,
    });
    expect(decodePacket(bytes, 5)).toEqual({ ok: false, error: "duplicate-property", detail: "Subscription Identifier included more than once §2.2.2.2" });
  });

  it("User Property may repeat", () => {
    const bytes = mqttPacket.generate(
      { cmd: "publish", topic: "a", payload: Buffer.from("x"), qos: 0, retain: false, dup: false, properties: { userProperties: { k: ["1", "2"] } } },
      { protocolVersion: 5 },
    );
    expect(decodePacket(bytes, 5)).toMatchObject({ ok: true, packet: { properties: { userProperties: { k: ["1", "2"] } } } });
  });
});

describe("a client id of ill-formed UTF-8 [MQTT-1.5.3-1] (3.1.1), [MQTT-1.5.4-1] (5.0)", () => {
  // mqtt-packet reads strings leniently (U+FFFD for what does not decode): a client id so
  // rewritten would name another session. Ill-formed UTF-8 is a Malformed Packet (5.0), and 3.1.1
  // says to close the connection; the decoder says "malformed" and nothing reads the id.
  const connectWith = (version: 4 | 5, idBytes: number[]) => {
    const placeholder = "#".repeat(idBytes.length);
    const properties = version === 5 ? { properties: { sessionExpiryInterval: 30, userProperties: { a: "b" } } } : {};
    const bytes = Buffer.from(
      encodePacket({ cmd: "connect", protocolId: "MQTT", protocolVersion: version, clientId: placeholder, clean: true, keepalive: 10, username: placeholder, ...properties } as Packet, version),
    );
    // The first occurrence is the client id; the user name (the same placeholder) stays well-formed.
    Buffer.from(idBytes).copy(bytes, bytes.indexOf(placeholder));
    return new Uint8Array(bytes);
  };
  const ILL_FORMED = {
    "a lone continuation byte": [0x61, 0x80, 0x62],
    "0xFF": [0x61, 0xff],
    "an encoded surrogate U+D800": [0xed, 0xa0, 0x80],
    "an overlong '/'": [0xc0, 0xaf],
    "a truncated sequence": [0x61, 0xe2, 0x82],
    "a code point above U+10FFFF": [0xf4, 0x90, 0x80, 0x80],
  };

  for (const version of [4, 5] as const) {
    it(`MQTT ${version}: is malformed, for each kind of ill-formed UTF-8`, () => {
      for (const [what, idBytes] of Object.entries(ILL_FORMED)) {
        expect(decodePacket(connectWith(version, idBytes), undefined), what).toMatchObject({ ok: false, error: "malformed" });
        expect(connectSummary(connectWith(version, idBytes)), what).toBeNull();
      }
    });

    it(`MQTT ${version}: well-formed multi-byte ids, U+FFFD and a BOM included, decode exactly`, () => {
      for (const id of ["ünïcødé-€-😀", "\uFFFD", "\uFEFFid"]) {
        const decoded = decodePacket(connectWith(version, [...Buffer.from(id)]), undefined);
        expect(decoded.ok && decoded.packet.cmd === "connect" ? decoded.packet.clientId : decoded, id).toBe(id);
      }
    });
  }
});

describe("rules mqtt-packet does not check", () => {
  it("Packet Identifier 0 is a protocol error [MQTT-2.3.1-1] [MQTT-2.2.1-3]", () => {
    for (const version of [4, 5] as const) {
      const publish = mqttPacket.generate({ cmd: "publish", topic: "a", payload: Buffer.from("x"), qos: 1, messageId: 0, retain: false, dup: false }, { protocolVersion: version });
      expect(decodePacket(publish, version)).toEqual({ ok: false, error: "protocol-error", detail: `Packet Identifier 0 ${version === 5 ? "[MQTT-2.2.1-3]" : "[MQTT-2.3.1-1]"}` });
      const puback = Uint8Array.from([0x40, 0x02, 0x00, 0x00]);
      expect(decodePacket(puback, version)).toMatchObject({ ok: false, error: "protocol-error" });
    }
  });

  it("a QoS 0 PUBLISH with DUP set is malformed [MQTT-3.3.1-2]", () => {
    // Fixed header 0x38: PUBLISH, DUP=1, QoS 0, RETAIN 0; topic "a", payload "x".
    const bytes = Uint8Array.from([0x38, 0x04, 0x00, 0x01, 0x61, 0x78]);
    expect(decodePacket(bytes, 4)).toEqual({ ok: false, error: "malformed", detail: "QoS 0 PUBLISH with DUP set [MQTT-3.3.1-2]" });
  });
});
