/**
 * fast-check generators of valid MQTT packets (3.1.1 and 5.0) as mqtt-packet objects, and the
 * budget the property tests (the *.fuzz.test.ts files under src) run with. Not a test file
 * itself; never bundled into the Worker.
 *
 * Budget: `npm test` runs a few hundred cases per property; `FUZZ_RUNS=n` runs n per property,
 * `FUZZ_SECONDS=s` runs each property for about s seconds (as many cases as fit), and
 * `FUZZ_SEED=n` replays a seed fast-check printed.
 */
import fc from "fast-check";
import type { ISubscription, Packet, UserProperties } from "mqtt-packet";

export type Version = 4 | 5;

// ---- budget ----

/** fast-check parameters for one property: `runs` cases in `npm test`, or what FUZZ_* asks for. */
export function fuzzParameters(runs: number): fc.Parameters<unknown> {
  const env = typeof process === "undefined" ? {} : process.env;
  const seconds = Number(env.FUZZ_SECONDS ?? 0);
  const fuzzRuns = Number(env.FUZZ_RUNS ?? 0);
  const seed = env.FUZZ_SEED !== undefined ? { seed: Number(env.FUZZ_SEED) } : {};
  if (seconds > 0) {
    return { numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false, ...seed };
  }
  return { numRuns: fuzzRuns > 0 ? fuzzRuns : runs, ...seed };
}

/** Per-test timeout matching the budget (vitest's default 5 s is too short for a long run). */
export function fuzzTimeout(defaultMs = 30_000): number {
  const seconds = Number(typeof process === "undefined" ? 0 : (process.env.FUZZ_SECONDS ?? 0));
  return seconds > 0 ? seconds * 1000 + 60_000 : Number(process.env.FUZZ_RUNS ?? 0) > 0 ? 30 * 60_000 : defaultMs;
}

// ---- building blocks ----

/** Short strings, mostly ASCII, some multi-byte: enough to hit length prefixes and UTF-8. */
export const text = (maxLength = 12): fc.Arbitrary<string> => fc.oneof({ weight: 4, arbitrary: fc.string({ maxLength }) }, { weight: 1, arbitrary: fc.string({ maxLength, unit: "grapheme" }) });

const level = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("a", "b", "sensors", "t", "x y", "ü", "$SYS", "canary", "") },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }).map((s) => s.replace(/[+#/\u0000]/g, "_")) },
);

/** A topic name: 1 to 4 levels, no wildcards, never empty. */
export const topicName: fc.Arbitrary<string> = fc
  .array(level, { minLength: 1, maxLength: 4 })
  .map((levels) => levels.join("/"))
  .map((t) => (t === "" ? "t" : t));

/** A topic filter: levels or `+`, optionally ending in `#`, sometimes shared. */
export const topicFilter: fc.Arbitrary<string> = fc
  .tuple(
    fc.array(fc.oneof({ weight: 3, arbitrary: level }, { weight: 1, arbitrary: fc.constant("+") }), { minLength: 1, maxLength: 4 }),
    fc.boolean(),
    fc.option(fc.constantFrom("g", "grp"), { nil: undefined }),
  )
  .map(([levels, hash, share]) => {
    const filter = hash ? [...levels.slice(0, -1), "#"].join("/") : levels.join("/");
    const f = filter === "" ? "#" : filter;
    return share ? `$share/${share}/${f}` : f;
  });

const u16 = fc.integer({ min: 1, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const packetId = u16;
const qos = fc.constantFrom(0 as const, 1 as const, 2 as const);
const bytes = (maxLength = 16) => fc.uint8Array({ maxLength }).map((b) => Buffer.from(b));

const userProperties: fc.Arbitrary<UserProperties> = fc
  .uniqueArray(fc.tuple(fc.string({ minLength: 1, maxLength: 6 }), fc.oneof(fc.string({ maxLength: 6 }), fc.array(fc.string({ maxLength: 6 }), { minLength: 2, maxLength: 3 }))), {
    // Never empty: mqtt-packet silently encodes `userProperties: {}` (or a name with no values) as
    // zero bytes, a packet that is not there.
    minLength: 1,
    maxLength: 3,
    selector: ([k]) => k,
  })
  .map((entries) => Object.fromEntries(entries));

/** An optional-keys record: each key present or not. */
const props = <T extends Record<string, unknown>>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }) => fc.record(model, { requiredKeys: [] });

const reasonOnly = props({ reasonString: text(), userProperties });

// ---- packets ----

function connect(version: Version): fc.Arbitrary<Packet> {
  const v5 = version === 5;
  const will = fc.record(
    {
      topic: topicName,
      payload: bytes(),
      qos,
      retain: fc.boolean(),
      ...(v5
        ? {
            properties: props({
              willDelayInterval: u32,
              payloadFormatIndicator: fc.boolean(),
              messageExpiryInterval: u32,
              contentType: text(),
              responseTopic: topicName,
              correlationData: bytes(),
              userProperties,
            }),
          }
        : {}),
    },
    { requiredKeys: ["topic", "payload", "qos", "retain"] },
  );
  return fc
    .record(
      {
        clientId: fc.oneof(fc.constant(""), fc.string({ minLength: 1, maxLength: 23 })),
        clean: fc.boolean(),
        keepalive: fc.integer({ min: 0, max: 0xffff }),
        username: text(),
        password: bytes(),
        will,
        ...(v5
          ? {
              properties: props({
                sessionExpiryInterval: u32,
                receiveMaximum: u16,
                maximumPacketSize: fc.integer({ min: 1, max: 0xffffffff }),
                topicAliasMaximum: fc.integer({ min: 0, max: 0xffff }),
                requestResponseInformation: fc.boolean(),
                requestProblemInformation: fc.boolean(),
                userProperties,
              }),
            }
          : {}),
      },
      { requiredKeys: ["clientId", "clean", "keepalive"] },
    )
    .map((p) => {
      // mqtt-packet writes a password only after a user name, and an empty client id only with Clean Start.
      const { password, ...rest } = p;
      const packet = { cmd: "connect" as const, protocolId: "MQTT" as const, protocolVersion: version, ...rest, ...(password && rest.username !== undefined ? { password } : {}) };
      if (!packet.clean && packet.clientId === "") packet.clientId = "c";
      return packet as Packet;
    });
}

function publish(version: Version, fromClient: boolean): fc.Arbitrary<Packet> {
  const v5 = version === 5;
  return fc
    .record(
      {
        topic: topicName,
        payload: bytes(64),
        qos,
        retain: fc.boolean(),
        dup: fc.boolean(),
        messageId: packetId,
        ...(v5
          ? {
              properties: props({
                payloadFormatIndicator: fc.boolean(),
                messageExpiryInterval: u32,
                // Mostly aliases a broker may allow, sometimes any.
                topicAlias: fc.oneof(fc.integer({ min: 1, max: 3 }), u16),
                responseTopic: topicName,
                correlationData: bytes(),
                userProperties,
                contentType: text(),
                ...(fromClient ? {} : { subscriptionIdentifier: fc.integer({ min: 1, max: 268_435_455 }) }),
              }),
            }
          : {}),
      },
      { requiredKeys: ["topic", "payload", "qos", "retain", "dup", "messageId"] },
    )
    .map(({ messageId, ...p }) => ({ cmd: "publish" as const, ...p, ...(p.qos > 0 ? { messageId } : {}), dup: p.qos > 0 && p.dup }) as Packet);
}

function subscribe(version: Version): fc.Arbitrary<Packet> {
  const v5 = version === 5;
  const subscription: fc.Arbitrary<ISubscription> = v5
    ? fc
        .record({ topic: topicFilter, qos, nl: fc.boolean(), rap: fc.boolean(), rh: fc.constantFrom(0, 1, 2) })
        // No Local on a shared subscription is a Protocol Error [MQTT-3.8.3-4].
        .map((s) => (s.topic.startsWith("$share/") ? { ...s, nl: false } : s))
    : fc.record({ topic: topicFilter, qos });
  return fc
    .record(
      {
        messageId: packetId,
        subscriptions: fc.array(subscription, { minLength: 1, maxLength: 4 }),
        ...(v5 ? { properties: props({ subscriptionIdentifier: fc.integer({ min: 1, max: 268_435_455 }), userProperties }) } : {}),
      },
      { requiredKeys: ["messageId", "subscriptions"] },
    )
    .map((p) => ({ cmd: "subscribe" as const, ...p }) as Packet);
}

function unsubscribe(version: Version): fc.Arbitrary<Packet> {
  return fc
    .record(
      { messageId: packetId, unsubscriptions: fc.array(topicFilter, { minLength: 1, maxLength: 4 }), ...(version === 5 ? { properties: props({ userProperties }) } : {}) },
      { requiredKeys: ["messageId", "unsubscriptions"] },
    )
    .map((p) => ({ cmd: "unsubscribe" as const, ...p }) as Packet);
}

/** PUBACK, PUBREC, PUBREL, PUBCOMP; with a reason code and properties in 5.0. */
function ack(version: Version): fc.Arbitrary<Packet> {
  const cmd = fc.constantFrom("puback" as const, "pubrec" as const, "pubrel" as const, "pubcomp" as const);
  if (version === 4) return fc.record({ cmd, messageId: packetId }) as fc.Arbitrary<Packet>;
  return fc
    .record({ cmd, messageId: packetId, reasonCode: fc.constantFrom(0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x92, 0x97, 0x99), properties: reasonOnly }, { requiredKeys: ["cmd", "messageId"] })
    .map((p) => {
      // PUBREL and PUBCOMP know only 0x00 and 0x92 (§3.6.2.1, §3.7.2.1); PUBACK and PUBREC not 0x92.
      const releasing = p.cmd === "pubrel" || p.cmd === "pubcomp";
      if (p.reasonCode !== undefined && releasing && p.reasonCode !== 0x92) p.reasonCode = 0;
      if (p.reasonCode === 0x92 && !releasing) p.reasonCode = 0x80;
      return p as Packet;
    });
}

function disconnect(version: Version): fc.Arbitrary<Packet> {
  if (version === 4) return fc.constant({ cmd: "disconnect" } as Packet);
  return fc
    .record(
      { reasonCode: fc.constantFrom(0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x8d, 0x93, 0x94), properties: props({ sessionExpiryInterval: u32, reasonString: text(), userProperties }) },
      { requiredKeys: [] },
    )
    .map((p) => ({ cmd: "disconnect" as const, ...p }) as Packet);
}

/** Packets only a server sends: a client sending them is a protocol error, but they must decode. */
function serverOnly(version: Version): fc.Arbitrary<Packet> {
  const v5 = version === 5;
  return fc.oneof(
    v5
      ? (fc.record({ cmd: fc.constant("connack" as const), sessionPresent: fc.boolean(), reasonCode: fc.constantFrom(0, 0x80, 0x85, 0x87) }) as fc.Arbitrary<Packet>)
      : (fc.record({ cmd: fc.constant("connack" as const), sessionPresent: fc.boolean(), returnCode: fc.constantFrom(0, 1, 2, 5) }) as fc.Arbitrary<Packet>),
    fc.record({ cmd: fc.constant("suback" as const), messageId: packetId, granted: fc.array(fc.constantFrom(0, 1, 2, 0x80), { minLength: 1, maxLength: 4 }) }) as fc.Arbitrary<Packet>,
    fc.record({
      cmd: fc.constant("unsuback" as const),
      messageId: packetId,
      ...(v5 ? { granted: fc.array(fc.constantFrom(0, 0x11, 0x80), { minLength: 1, maxLength: 3 }) } : {}),
    }) as fc.Arbitrary<Packet>,
    fc.constant({ cmd: "pingresp" } as Packet),
  );
}

function auth(): fc.Arbitrary<Packet> {
  return fc
    .record({ reasonCode: fc.constantFrom(0x00, 0x18, 0x19), properties: props({ authenticationMethod: text(), authenticationData: bytes(), reasonString: text(), userProperties }) })
    .map((p) => ({ cmd: "auth" as const, ...p }) as Packet);
}

/** The packets a client may send after CONNECT. */
export function clientPacket(version: Version): fc.Arbitrary<Packet> {
  return fc.oneof(
    { weight: 4, arbitrary: publish(version, true) },
    { weight: 2, arbitrary: subscribe(version) },
    { weight: 1, arbitrary: unsubscribe(version) },
    { weight: 3, arbitrary: ack(version) },
    { weight: 1, arbitrary: fc.constant({ cmd: "pingreq" } as Packet) },
    { weight: 1, arbitrary: disconnect(version) },
    ...(version === 5 ? [{ weight: 1, arbitrary: auth() }] : []),
  );
}

export const connectPacket = connect;

/** Any valid packet of `version`, both directions. */
export function anyPacket(version: Version): fc.Arbitrary<Packet> {
  return fc.oneof(
    { weight: 2, arbitrary: connect(version) },
    { weight: 6, arbitrary: clientPacket(version) },
    { weight: 1, arbitrary: publish(version, false) },
    { weight: 2, arbitrary: serverOnly(version) },
  );
}
