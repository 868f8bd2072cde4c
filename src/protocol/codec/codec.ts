/**
 * Decoding and encoding of whole packets with mqtt-packet. The framer guarantees one complete
 * packet per call, so a parser never holds state between calls and can be shared.
 */
import mqttPacket from "mqtt-packet";
import type { Packet } from "mqtt-packet";
import { connectClientIdBytes, isWellFormedUtf8, peekConnectProtocol } from "./connect-header.js";
import { checkPacket } from "./validate.js";

export type ProtocolVersion = 3 | 4 | 5;

/**
 * A decoded packet, or why not. `connect` is set when the packet that failed was a CONNECT and
 * names its protocol version: an MQTT 5 client may then be told why in CONNACK (§3.1.4, §4.13.1).
 */
export type DecodeResult =
  | { ok: true; packet: Packet }
  | { ok: false; error: "malformed"; detail: string; connect?: ProtocolVersion }
  | { ok: false; error: "unacceptable-protocol"; detail: string }
  | { ok: false; error: "duplicate-property"; detail: string; connect?: ProtocolVersion }
  | { ok: false; error: "protocol-error"; detail: string; connect?: ProtocolVersion };

const parsers = new Map<ProtocolVersion, ReturnType<typeof mqttPacket.parser>>();

function parserFor(version: ProtocolVersion | undefined): ReturnType<typeof mqttPacket.parser> {
  // A CONNECT rewrites the parser's settings, so it always gets a fresh parser.
  if (version === undefined) return mqttPacket.parser({});
  let parser = parsers.get(version);
  if (!parser) {
    parser = mqttPacket.parser({ protocolVersion: version });
    parsers.set(version, parser);
  }
  (parser as unknown as { settings: object }).settings = { protocolVersion: version };
  return parser;
}

/**
 * Decodes one complete packet. `version` is undefined before CONNECT; then the protocol name and
 * level are checked first so an unknown level gets CONNACK 0x01 rather than a bare close.
 */
export function decodePacket(bytes: Uint8Array, version: ProtocolVersion | undefined): DecodeResult {
  if (version === undefined && bytes[0] !== undefined && bytes[0] >> 4 === 1) {
    const proto = peekConnectProtocol(bytes);
    if (proto && !isAcceptableProtocol(proto.name, proto.level)) {
      return { ok: false, error: "unacceptable-protocol", detail: `${proto.name} level ${proto.level}` };
    }
  }
  // The structure MQTT gives the packet, checked on its raw bytes (validate.ts).
  const violation = checkPacket(bytes, version);
  if (violation) return { ok: false, error: violation.kind, detail: violation.message, ...connectOf(bytes, version) };
  // AUTH with a Remaining Length of 0 means Reason Code 0x00 and no properties (§3.15.2.1); mqtt-packet cannot read it.
  if (version === 5 && bytes.length === 2 && bytes[0] === 0xf0) return { ok: true, packet: { cmd: "auth", reasonCode: 0 } as Packet };
  const parser = parserFor(version);
  let packet: Packet | undefined;
  let failure: Error | undefined;
  const onPacket = (p: Packet) => (packet = p);
  const onError = (e: Error) => (failure = e);
  parser.on("packet", onPacket);
  parser.on("error", onError);
  try {
    const left = parser.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    // Bytes past the packet would start another one inside the parser: never valid here.
    const midPacket = (parser as unknown as { _stateCounter: number })._stateCounter !== 0;
    if (!failure && (left !== 0 || midPacket)) failure = new Error("trailing bytes after packet");
  } catch (e) {
    failure = e instanceof Error ? e : new Error(String(e));
  } finally {
    parser.removeListener("packet", onPacket);
    parser.removeListener("error", onError);
  }
  if (failure || !packet) {
    // Reset so the shared parser starts clean for the next connection.
    parsers.delete(version as ProtocolVersion);
    return { ok: false, error: "malformed", detail: failure?.message ?? "incomplete packet", ...connectOf(bytes, version) };
  }
  const duplicate = duplicatedProperty(packet);
  if (duplicate) return { ok: false, error: "duplicate-property", detail: `${packet.cmd} carries ${duplicate} more than once` };
  // mqtt-packet turns ill-formed UTF-8 into U+FFFD: a client id so rewritten would name another
  // session. Ill-formed UTF-8 is a Malformed Packet [MQTT-1.5.4-1] (5.0); 3.1.1 closes [MQTT-1.5.3-1].
  if (packet.cmd === "connect" && !isWellFormedUtf8(connectClientIdBytes(bytes) ?? new Uint8Array())) {
    return { ok: false, error: "malformed", detail: "the client id is not well-formed UTF-8" };
  }
  return { ok: true, packet };
}

/** For a CONNECT that failed: the version its header names (see DecodeResult). */
function connectOf(bytes: Uint8Array, version: ProtocolVersion | undefined): { connect?: ProtocolVersion } {
  if (version !== undefined || bytes[0] === undefined || bytes[0] >> 4 !== 1) return {};
  const level = peekConnectProtocol(bytes)?.level;
  return level === 3 || level === 4 || level === 5 ? { connect: level } : {};
}

/**
 * mqtt-packet turns a property given twice into an array. Only User Property may repeat in what a
 * client sends (MQTT 5 §2.2.2.2); any other twice is a Protocol Error, and an array where one value
 * is expected must never reach the session (review finding F13).
 */
function duplicatedProperty(packet: Packet): string | undefined {
  const sets = [(packet as { properties?: Record<string, unknown> }).properties, packet.cmd === "connect" ? (packet.will?.properties as Record<string, unknown> | undefined) : undefined];
  for (const props of sets) {
    if (!props) continue;
    for (const [name, value] of Object.entries(props)) if (name !== "userProperties" && Array.isArray(value)) return name;
  }
  return undefined;
}

/** What an edge in front of the session needs from a CONNECT: where to route it, how to time it. */
export interface ConnectSummary {
  /** "" when the client sent an empty one. */
  clientId: string;
  version: ProtocolVersion;
  /** Seconds, as the client asked (MQTT 5's Server Keep Alive may replace it in CONNACK). */
  keepalive: number;
  /** MQTT 5: whether the client wants Reason Strings (Request Problem Information, default 1). */
  problemInformation: boolean;
  /** MQTT 5: the largest packet the client accepts, if it said. */
  maximumPacketSize?: number;
}

/** Reads a CONNECT packet; null when the bytes do not decode as one. */
export function connectSummary(bytes: Uint8Array): ConnectSummary | null {
  const decoded = decodePacket(bytes, undefined);
  if (!decoded.ok || decoded.packet.cmd !== "connect") return null;
  const p = decoded.packet;
  const props = p.properties;
  return {
    clientId: p.clientId ?? "",
    version: (p.protocolVersion ?? 4) as ProtocolVersion,
    keepalive: p.keepalive ?? 0,
    problemInformation: props?.requestProblemInformation !== false,
    ...(props?.maximumPacketSize !== undefined ? { maximumPacketSize: props.maximumPacketSize } : {}),
  };
}

export function isAcceptableProtocol(name: string, level: number): boolean {
  return (name === "MQTT" && (level === 4 || level === 5)) || (name === "MQIsdp" && level === 3);
}

export function encodePacket(packet: Packet, version: ProtocolVersion): Uint8Array {
  return mqttPacket.generate(packet, { protocolVersion: version });
}
