/** CONNECT (MQTT §3.1): validate, take over or resume the session, answer CONNACK. */
import type { IConnectPacket } from "mqtt-packet";
import type { Action } from "../../actions.js";
import type { ProtocolVersion } from "../../codec/codec.js";
import { ProtocolError, Reason } from "../../errors.js";
import type { Message, QoS } from "../../message.js";
import { isValidTopicName } from "../../topic/validate.js";
import { close, send, type Session } from "../session.js";
import { newSessionRecord, type ConnectionState } from "../state.js";
import { connack } from "../wire.js";

/** What the Worker told the session object about the connection it routed here. */
export interface ConnectRoute {
  /** The client id this object serves (its Durable Object name). */
  clientId: string;
  /** True when the Worker chose `clientId` because the CONNECT carried an empty one. */
  assigned: boolean;
}

export function handleConnect(
  s: Session,
  connId: string,
  route: ConnectRoute,
  packet: IConnectPacket,
  now: number,
): Action[] {
  const version = (packet.protocolVersion ?? 4) as ProtocolVersion;
  const clean = packet.clean !== false;

  // Validate.
  let clientId = packet.clientId ?? "";
  if (clientId === "") {
    // An empty id needs CleanSession=1 [MQTT-3.1.3-8]; the server then assigns one [MQTT-3.1.3-6].
    if (!clean) return reject(connId, version, Reason.ClientIdentifierNotValid, "empty client id with CleanSession=0");
    if (!route.assigned) return reject(connId, version, Reason.ClientIdentifierNotValid, "empty client id was not routed for assignment");
    clientId = route.clientId;
  } else if (clientId !== route.clientId) {
    // The connection was routed to this object for another id (a wrong ?clientId= hint).
    return reject(connId, version, Reason.ClientIdentifierNotValid, `client id ${clientId} does not match the route`);
  }
  if (packet.will && !isValidTopicName(packet.will.topic)) {
    throw new ProtocolError(Reason.TopicNameInvalid, `invalid will topic ${JSON.stringify(packet.will.topic)}`);
  }

  const actions: Action[] = [];
  // Take over: the existing connection of this client id is closed [MQTT-3.1.4-2].
  if (s.current) {
    actions.push(...s.fail(s.current.connId, Reason.SessionTakenOver, "session taken over", now));
  }

  // Apply: a clean start discards any previous session [MQTT-3.1.2-6]; otherwise resume it [MQTT-3.1.2-4].
  let sessionPresent = false;
  if (clean) {
    if (s.record) actions.push(...s.discard());
    s.record = newSessionRecord(clientId, false);
  } else if (s.record) {
    sessionPresent = true;
    s.record.persistent = true;
  } else {
    s.record = newSessionRecord(clientId, true);
  }
  s.saveRecord();
  s.store.writeWill(packet.will ? willMessage(packet.will, clientId) : undefined);

  const conn: ConnectionState = { connId, clientId, version, keepalive: packet.keepalive ?? 0, lastSeen: now };
  s.current = conn;

  // Acknowledge: CONNACK first [MQTT-3.2.0-1], sessionPresent per [MQTT-3.2.2-1], [MQTT-3.2.2-2].
  actions.push(send(conn, connack(version, Reason.Success, sessionPresent)));
  if (conn.keepalive > 0) actions.push({ type: "keepalive", at: now + conn.keepalive * 1500 });
  actions.push(...s.outbound.resume(conn));
  return actions;
}

/** Unknown protocol name or level: CONNACK 0x01, then close [MQTT-3.1.2-2]. */
handleConnect.unacceptable = (connId: string, detail: string): Action[] =>
  reject(connId, 4, Reason.UnsupportedProtocolVersion, `unacceptable protocol ${detail}`);

function reject(connId: string, version: ProtocolVersion, reason: typeof Reason[keyof typeof Reason], why: string): Action[] {
  // A CONNACK with a non-zero code is followed by closing the connection [MQTT-3.2.2-5].
  return [
    { type: "send", connId, version, packet: connack(version, reason, false) },
    close(connId, why, true),
  ];
}

function willMessage(will: NonNullable<IConnectPacket["will"]>, origin: string): Message {
  const payload = typeof will.payload === "string" ? new TextEncoder().encode(will.payload) : new Uint8Array(will.payload);
  return { topic: will.topic, payload, qos: will.qos as QoS, retain: will.retain === true, origin };
}
