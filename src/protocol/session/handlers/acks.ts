/** PUBACK, PUBREC and PUBCOMP from the client: progress of QoS 1/2 messages sent to it. */
import type { IPubackPacket, IPubcompPacket, IPubrecPacket } from "mqtt-packet";
import type { Action } from "../../actions.js";
import { Reason } from "../../errors.js";
import { send, type Session } from "../session.js";
import type { ConnectionState } from "../state.js";
import { ack } from "../wire.js";

export function handlePuback(s: Session, conn: ConnectionState, p: IPubackPacket, now: number): Action[] {
  if (!s.outbound.complete(p.messageId!, 1)) return [unknownAck("PUBACK", p.messageId!)];
  return s.pump(now);
}

/** PUBREC: send PUBREL; a failure reason code (≥ 0x80) ends the exchange (MQTT 5 §4.3.3). */
export function handlePubrec(s: Session, conn: ConnectionState, p: IPubrecPacket, now: number): Action[] {
  const failed = (p.reasonCode ?? 0) >= 0x80;
  switch (s.outbound.received(p.messageId!, failed)) {
    case "release":
      return [send(conn, ack("pubrel", p.messageId!, conn.version))];
    case "done":
      return s.pump(now);
    case "unknown":
      // An unknown id still gets its PUBREL so the client can finish (0x92 in 5.0).
      return [unknownAck("PUBREC", p.messageId!), send(conn, ack("pubrel", p.messageId!, conn.version, Reason.PacketIdentifierNotFound))];
  }
}

export function handlePubcomp(s: Session, conn: ConnectionState, p: IPubcompPacket, now: number): Action[] {
  void conn;
  if (!s.outbound.complete(p.messageId!, 2)) return [unknownAck("PUBCOMP", p.messageId!)];
  return s.pump(now);
}

function unknownAck(kind: string, packetId: number): Action {
  return { type: "log", level: "warn", message: `${kind} for unknown packet id ${packetId}`, counter: "unknown_acks" };
}
