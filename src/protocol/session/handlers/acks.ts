/**
 * PUBACK, PUBREC and PUBCOMP from the client: progress of QoS 1/2 messages sent to it.
 *
 * An acknowledgement must fit the delivery it answers: PUBACK a QoS 1 one, PUBREC a QoS 2 one
 * not yet released, PUBCOMP a QoS 2 one released by PUBREL (MQTT 5 [MQTT-4.3.2-3],
 * [MQTT-4.3.3-3], [MQTT-4.3.3-5]; 3.1.1 [MQTT-4.3.2-1], [MQTT-4.3.3-1]). One that does not is
 * "inconsistent with the state of the Server", a Protocol Error (MQTT 5 §1.2): DISCONNECT 0x82
 * and close (§4.13.1); a protocol violation in 3.1.1: close [MQTT-4.8.0-1].
 *
 * An acknowledgement for a packet id with nothing in flight is not an error: the text names
 * "Packet Identifier not found" as "not an error during recovery" (MQTT 5 §3.6.2.1, §3.7.2.1),
 * and an acknowledgement can cross a takeover or repeat one that was already handled. PUBACK and
 * PUBCOMP for an unknown id are logged and ignored; PUBREC gets its PUBREL (0x92 in 5.0) so the
 * client can finish.
 */
import type { IPubackPacket, IPubcompPacket, IPubrecPacket } from "mqtt-packet";
import type { Action } from "../../actions.js";
import { ProtocolError, Reason } from "../../errors.js";
import { send, type Session } from "../session.js";
import type { ConnectionState } from "../state.js";
import { ack } from "../wire.js";

export function handlePuback(s: Session, conn: ConnectionState, p: IPubackPacket, now: number): Action[] {
  void conn;
  expectAck(s, "PUBACK", p.messageId!);
  const entry = s.outbound.complete(p.messageId!, 1);
  if (!entry) return [unknownAck("PUBACK", p.messageId!)];
  s.finished(entry);
  return s.pump(now).concat(s.releases());
}

/** PUBREC: send PUBREL; a failure reason code (≥ 0x80) ends the exchange (MQTT 5 §4.3.3). */
export function handlePubrec(s: Session, conn: ConnectionState, p: IPubrecPacket, now: number): Action[] {
  expectAck(s, "PUBREC", p.messageId!);
  const failed = (p.reasonCode ?? 0) >= 0x80;
  const { result, entry } = s.outbound.received(p.messageId!, failed);
  switch (result) {
    case "release":
      return [send(conn, ack("pubrel", p.messageId!, conn.version))];
    case "done":
      s.finished(entry!);
      return s.pump(now).concat(s.releases());
    case "unknown":
      // An unknown id still gets its PUBREL so the client can finish (0x92 in 5.0).
      return [unknownAck("PUBREC", p.messageId!), send(conn, ack("pubrel", p.messageId!, conn.version, Reason.PacketIdentifierNotFound))];
  }
}

export function handlePubcomp(s: Session, conn: ConnectionState, p: IPubcompPacket, now: number): Action[] {
  void conn;
  expectAck(s, "PUBCOMP", p.messageId!);
  const entry = s.outbound.complete(p.messageId!, 2);
  if (!entry) return [unknownAck("PUBCOMP", p.messageId!)];
  s.finished(entry);
  return s.pump(now).concat(s.releases());
}

/**
 * Throws a Protocol Error when `kind` does not fit the delivery in flight under `packetId`. A
 * PUBREC for a QoS 2 message already released is its repetition and gets PUBREL again.
 */
function expectAck(s: Session, kind: "PUBACK" | "PUBREC" | "PUBCOMP", packetId: number): void {
  const entry = s.outbound.inFlight(packetId);
  if (!entry) return;
  const expected = entry.qos === 1 ? "PUBACK" : entry.state === "sent" ? "PUBREC" : "PUBCOMP";
  if (kind === expected || (kind === "PUBREC" && expected === "PUBCOMP")) return;
  const waiting = entry.qos === 1 ? "a QoS 1 message, which waits for PUBACK" : `a QoS 2 message, which waits for ${expected}`;
  throw new ProtocolError(Reason.ProtocolError, `${kind} for packet id ${packetId}: ${waiting}`);
}

function unknownAck(kind: string, packetId: number): Action {
  return { type: "log", level: "warn", message: `${kind} for unknown packet id ${packetId}`, counter: "unknown_acks" };
}
