/**
 * Builds each PUBLISH the broker sends to a client: remaining message expiry, forwarded MQTT 5
 * properties, subscription identifiers, server-assigned topic aliases, and the client's Maximum
 * Packet Size. A message that has expired or does not fit is not sent.
 */
import type { IPublishPacket } from "mqtt-packet";
import { encodePacket } from "../codec/codec.js";
import { isExpired, type Message, type QoS } from "../message.js";
import { getOwn, setOwn } from "./own-keys.js";
import type { ConnectionState, TopicAliases } from "./state.js";

export interface OutgoingPublish {
  message: Message;
  qos: QoS;
  retain: boolean;
  dup: boolean;
  packetId?: number;
  subscriptionIds?: number[];
}

export type BuildResult = { ok: true; packet: IPublishPacket; bytes?: Uint8Array } | { ok: false; why: "expired" | "too-large" };

export function buildPublish(conn: ConnectionState, out: OutgoingPublish, aliases: TopicAliases, serverTopicAliases: number, now: number): BuildResult {
  const { message } = out;
  // Expiry stops a message before its delivery starts [MQTT-3.3.2-5]; one already sent is
  // retransmitted (DUP) whatever its expiry, so the QoS 1/2 flow completes [MQTT-4.3.3-7] (review F23).
  if (!out.dup && isExpired(message, now)) return { ok: false, why: "expired" };
  const packet: IPublishPacket = {
    cmd: "publish",
    topic: message.topic,
    payload: asBuffer(message.payload),
    qos: out.qos,
    retain: out.retain,
    dup: out.dup,
    ...(out.qos > 0 ? { messageId: out.packetId! } : {}),
  };
  if (conn.version === 5) {
    const p = message.properties ?? {};
    const properties: NonNullable<IPublishPacket["properties"]> = {};
    if (p.payloadFormatIndicator !== undefined) properties.payloadFormatIndicator = p.payloadFormatIndicator;
    if (p.contentType !== undefined) properties.contentType = p.contentType;
    if (p.responseTopic !== undefined) properties.responseTopic = p.responseTopic;
    if (p.correlationData !== undefined) properties.correlationData = asBuffer(p.correlationData);
    if (p.userProperties !== undefined) properties.userProperties = p.userProperties;
    // The remaining lifetime, not the original one [MQTT-3.3.2-6].
    if (message.expiresAt !== undefined) properties.messageExpiryInterval = Math.max(1, Math.ceil((message.expiresAt - now) / 1000));
    if (out.subscriptionIds?.length) {
      properties.subscriptionIdentifier = (out.subscriptionIds.length === 1 ? out.subscriptionIds[0]! : out.subscriptionIds) as number;
    }
    if (Object.keys(properties).length > 0) packet.properties = properties;
  }
  const topic = packet.topic;
  const assigned = conn.version === 5 ? applyTopicAlias(packet, conn, aliases, serverTopicAliases) : false;
  if (conn.maximumPacketSize === undefined) return { ok: true, packet };
  // Measured as sent, alias included: never more than the client's Maximum Packet Size [MQTT-3.1.2-24].
  let bytes = encodePacket(packet, conn.version);
  if (bytes.length > conn.maximumPacketSize && assigned) {
    // A new alias costs 3 bytes on a short topic: try without it, and forget the alias.
    delete aliases.outbound[topic];
    const { topicAlias: _, ...rest } = packet.properties ?? {};
    packet.properties = rest;
    if (Object.keys(rest).length === 0) delete packet.properties;
    bytes = encodePacket(packet, conn.version);
  }
  if (bytes.length > conn.maximumPacketSize) return { ok: false, why: "too-large" };
  return { ok: true, packet, bytes };
}

/** Uses or assigns an alias for the topic; true when a new alias was assigned. */
function applyTopicAlias(packet: IPublishPacket, conn: ConnectionState, aliases: TopicAliases, limit: number): boolean {
  const max = Math.min(conn.topicAliasMaximum, limit);
  if (max === 0) return false;
  const known = getOwn(aliases.outbound, packet.topic);
  if (known !== undefined) {
    packet.properties = { ...packet.properties, topicAlias: known };
    packet.topic = "";
    return false;
  }
  const used = Object.keys(aliases.outbound).length;
  if (used >= max) return false; // full: later topics go without an alias
  const alias = used + 1;
  setOwn(aliases.outbound, packet.topic, alias);
  packet.properties = { ...packet.properties, topicAlias: alias };
  return true;
}

export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export type { QoS };
