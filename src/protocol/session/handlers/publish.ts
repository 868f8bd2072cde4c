/** PUBLISH and PUBREL from the client (MQTT §3.3, §3.6, §4.3): route, then acknowledge. */
import type { IPublishPacket, IPubrelPacket } from "mqtt-packet";
import type { Action } from "../../actions.js";
import { ProtocolError, Reason, type ReasonCode } from "../../errors.js";
import type { Message } from "../../message.js";
import { beyondTopicLimits, hasWildcard, isValidTopicName } from "../../topic/validate.js";
import { messageProperties } from "./properties.js";
import { send, type Session } from "../session.js";
import type { ConnectionState, SessionRecord } from "../state.js";
import { ack } from "../wire.js";

/**
 * Bytes of QoS 1 messages from one client that may await their route (and PUBACK) at once: what
 * MAX_PUBLISH_BYTES_PER_SECOND lets it send in a burst (two seconds' worth; 32 MiB by default).
 */
export const maxInboundBytes = (config: { maxPublishBytesPerSecond: number }): number => 2 * config.maxPublishBytesPerSecond;

export function handlePublish(s: Session, conn: ConnectionState, packet: IPublishPacket, now: number): Action[] {
  // Guard: what the broker offers in CONNACK binds the client (MQTT 5 §3.2.2.3.4, §3.2.2.3.5).
  if (packet.qos > s.config.maximumQoS) throw new ProtocolError(Reason.QosNotSupported, `QoS ${packet.qos} above the maximum ${s.config.maximumQoS}`);
  if (packet.retain && !s.config.retainAvailable) throw new ProtocolError(Reason.RetainNotSupported, "retained messages are not available");

  // What one connection may publish per second (MQTT 5: 0x96 Message rate too high).
  s.chargePublish(conn, packet.payload.length, now);

  // Validate.
  const topic = resolveTopic(s, conn, packet);
  const beyond = beyondTopicLimits(topic, s.config);
  if (beyond !== null) return refusePublish(s, conn, packet, Reason.TopicNameInvalid, `topic ${beyond}`, "publish_refused_topic_limit");
  if (!s.rights.check("write", topic)) return refusePublish(s, conn, packet, Reason.NotAuthorized, "not authorized (ACL)", "publish_denied");
  const props = packet.properties ?? {};
  // A client never sends a Subscription Identifier [MQTT-3.3.4-6].
  if (props.subscriptionIdentifier !== undefined) throw new ProtocolError(Reason.ProtocolError, "Subscription Identifier in a client PUBLISH");
  if (props.responseTopic !== undefined && (props.responseTopic === "" || hasWildcard(props.responseTopic))) {
    throw new ProtocolError(Reason.ProtocolError, "Response Topic must be a topic name [MQTT-3.3.2-14]");
  }
  const properties = messageProperties(props);
  const message: Message = {
    topic,
    // Copy: the decoder's buffer may be a view over a much larger frame.
    payload: typeof packet.payload === "string" ? new TextEncoder().encode(packet.payload) : new Uint8Array(packet.payload),
    qos: packet.qos,
    retain: packet.retain,
    origin: conn.clientId,
    ...(properties ? { properties } : {}),
    ...(props.messageExpiryInterval !== undefined ? { expiresAt: now + props.messageExpiryInterval * 1000 } : {}),
    // Handled before any SUBSCRIBE that follows it: never delivered to that subscription [MQTT-4.5.0-1].
    stamp: s.stampPublish(now),
  };

  switch (packet.qos) {
    case 0:
      return [{ type: "route", message }];
    case 1: {
      // MQTT 5: QoS 1 and 2 messages awaiting the broker's acknowledgement count against its
      // Receive Maximum (§4.9); both versions: against a byte cap (review F15).
      const bytes = message.payload.byteLength + message.topic.length;
      if (conn.version === 5 && s.inbound.count + s.store.countIncoming() >= s.config.receiveMaximum) {
        throw new ProtocolError(Reason.ReceiveMaximumExceeded, `more than ${s.config.receiveMaximum} unacknowledged QoS 1/2 messages`);
      }
      const cap = maxInboundBytes(s.config);
      if (s.inbound.bytes + bytes > cap) throw new ProtocolError(Reason.QuotaExceeded, `more than ${cap} bytes of QoS 1 messages awaiting their PUBACK`);
      s.inbound.count++;
      s.inbound.bytes += bytes;
      // PUBACK only once every shard holds the message [MQTT-4.3.2-2]: see `publishRouted`.
      const routeId = s.awaitRoute({ kind: "qos1", topic, record: s.record, connId: conn.connId, packetId: packet.messageId!, bytes });
      return [{ type: "route", message, routeId }];
    }
    case 2:
      return publishQoS2(s, conn, packet.messageId!, message);
  }
}

/**
 * A PUBLISH the broker will not route (a limit, or no right to publish there): MQTT 5 says why in
 * the PUBACK / PUBREC reason code; 3.1.1 has no way to, so it is acknowledged and dropped, as
 * mosquitto does. Either way it is counted and logged. A refused QoS 2 message is remembered as
 * done, so its PUBREL gets PUBCOMP.
 */
export function refusePublish(s: Session, conn: ConnectionState, packet: IPublishPacket, reason: ReasonCode, why: string, counter: string): Action[] {
  const log: Action = { type: "log", level: "warn", message: `${conn.clientId}: PUBLISH to ${packet.topic} refused: ${why}`, counter };
  const code = conn.version === 5 ? reason : 0;
  switch (packet.qos) {
    case 0:
      return [log];
    case 1:
      return [log, send(conn, ack("puback", packet.messageId!, conn.version, code))];
    case 2:
      // A reason code of 0x80 or more ends the QoS 2 flow in MQTT 5 (§4.3.3); 3.1.1 expects PUBREL.
      if (conn.version !== 5) s.store.putIncoming({ packetId: packet.messageId!, routed: true });
      return [log, send(conn, ack("pubrec", packet.messageId!, conn.version, code))];
  }
}

/**
 * The topic of a PUBLISH, through the connection's inbound topic aliases (MQTT 5 §3.3.2.3.4):
 * an alias of 0 or above the maximum is 0x94 [MQTT-3.2.2-17]; an empty topic needs a known alias.
 */
function resolveTopic(s: Session, conn: ConnectionState, packet: IPublishPacket): string {
  const alias = packet.properties?.topicAlias;
  if (alias !== undefined) {
    if (alias === 0 || alias > s.config.topicAliasMaximum) throw new ProtocolError(Reason.TopicAliasInvalid, `topic alias ${alias} outside 1..${s.config.topicAliasMaximum}`);
    if (packet.topic === "") {
      const known = s.aliases.inbound[alias];
      if (known === undefined) throw new ProtocolError(Reason.ProtocolError, `topic alias ${alias} was never set`);
      return known;
    }
    if (s.aliases.inbound[alias] !== packet.topic) {
      s.aliases.inbound[alias] = packet.topic;
      s.saveAliases();
    }
  }
  // A topic name has no wildcards [MQTT-3.3.2-2] and is not empty [MQTT-4.7.3-1].
  if (!isValidTopicName(packet.topic)) {
    throw new ProtocolError(conn.version === 5 ? Reason.TopicNameInvalid : Reason.ProtocolError, `invalid topic name ${JSON.stringify(packet.topic)}`);
  }
  return packet.topic;
}

/**
 * QoS 2 exactly once: the packet id is remembered until PUBREL, and a retransmission of a routed
 * message is only acknowledged again, never routed twice [MQTT-4.3.3-2]. More unreleased QoS 2
 * messages than the broker's Receive Maximum is 0x93 (MQTT 5 §4.9).
 */
function publishQoS2(s: Session, conn: ConnectionState, packetId: number, message: Message): Action[] {
  const pending = s.store.getIncoming(packetId);
  if (pending?.routed) return [send(conn, ack("pubrec", packetId, conn.version))];
  // A retransmission while the first copy is still being stored (a reconnect can be that fast):
  // not routed again; the PUBREC goes out when that route completes.
  if (s.qos2InFlight.has(packetId)) return [];
  // 3.1.1 has no Receive Maximum; there the 65535 packet ids bound the unreleased messages.
  if (!pending && conn.version === 5 && s.store.countIncoming() >= s.config.receiveMaximum) {
    throw new ProtocolError(Reason.ReceiveMaximumExceeded, `more than ${s.config.receiveMaximum} unacknowledged QoS 2 messages`);
  }
  const toRoute = pending?.message ?? message;
  if (!pending) s.store.putIncoming({ packetId, routed: false, message });
  s.qos2InFlight.add(packetId);
  // PUBREC once the shards hold the message: see `publishRouted`.
  const routeId = s.awaitRoute({ kind: "qos2", topic: toRoute.topic, record: s.record, packetId });
  return [{ type: "route", message: toRoute, routeId }];
}

/**
 * A client's QoS 1 or 2 message whose route the session waits for, kept by the core until its
 * shard stored it (see PendingRoutes). `record` is the session it came in: one that ended
 * meanwhile (and any new one) must not inherit its count or its packet id.
 */
export type PublishRoute =
  | { kind: "qos1"; topic: string; record: SessionRecord | undefined; connId: string; packetId: number; bytes: number }
  | { kind: "qos2"; topic: string; record: SessionRecord | undefined; packetId: number };

/**
 * The shards stored a client's message. QoS 1: PUBACK on the connection it came on, if that is
 * still the live one (a client that reconnected retransmits it). QoS 2: PUBREC on the live
 * connection, which may be a newer one than the PUBLISH came on.
 */
export function publishRouted(s: Session, route: PublishRoute): Action[] {
  if (route.kind === "qos1") {
    released(s, route);
    const conn = s.current;
    return conn?.connId === route.connId ? [send(conn, ack("puback", route.packetId, conn.version))] : [];
  }
  if (s.record !== route.record) return [];
  const { packetId } = route;
  s.qos2InFlight.delete(packetId);
  // A PUBREL that came before the PUBREC (a misbehaving client) already released the id: the
  // row must not come back, or a later new PUBLISH with this id would be dropped (review F27).
  if (!s.store.getIncoming(packetId)) return [];
  // Routed: a retransmission is now only acknowledged [MQTT-4.3.3-2].
  s.store.putIncoming({ packetId, routed: true });
  const live = s.current;
  return live ? [send(live, ack("pubrec", packetId, live.version))] : [];
}

/** The shards could not store a client's message: nothing is acknowledged; the retransmission after reconnecting routes it again. */
export function publishNotRouted(s: Session, route: PublishRoute): void {
  if (route.kind === "qos1") released(s, route);
  else if (s.record === route.record) s.qos2InFlight.delete(route.packetId);
}

/** A QoS 1 message no longer awaits its route: it stops counting against the inbound limits. */
function released(s: Session, route: Extract<PublishRoute, { kind: "qos1" }>): void {
  if (s.record !== route.record) return;
  s.inbound.count--;
  s.inbound.bytes -= route.bytes;
}

/** PUBREL: forget the packet id, answer PUBCOMP [MQTT-4.3.3-2]; an unknown id gets 0x92 in 5.0. */
export function handlePubrel(s: Session, conn: ConnectionState, packet: IPubrelPacket): Action[] {
  const known = s.store.getIncoming(packet.messageId!) !== undefined;
  if (known) s.store.deleteIncoming(packet.messageId!);
  return [send(conn, ack("pubcomp", packet.messageId!, conn.version, known ? 0 : Reason.PacketIdentifierNotFound))];
}
