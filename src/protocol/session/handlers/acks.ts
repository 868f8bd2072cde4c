/** PUBACK, PUBREC and PUBCOMP from the client: progress of QoS 1/2 messages sent to it. */
import type { IPubackPacket, IPubcompPacket, IPubrecPacket } from "mqtt-packet";
import type { Action } from "../../actions.js";
import { Reason } from "../../errors.js";
import { send, type Session } from "../session.js";
import type { ConnectionState } from "../state.js";
import { ack } from "../wire.js";

export function handlePuback(s: Session, conn: ConnectionState, p: IPubackPacket, now: number): Action[] {
  void conn;
  const entry = s.outbound.complete(p.messageId!, 1);
  if (!entry) return [unknownAck("PUBACK", p.messageId!)];
  s.finished(entry);
  return s.pump(now).concat(s.releases());
}

/** PUBREC: send PUBREL; a failure reason code (≥ 0x80) ends the exchange (MQTT 5 §4.3.3). */
export function handlePubrec(s: Session, conn: ConnectionState, p: IPubrecPacket, now: number): Action[] {
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
  const entry = s.outbound.complete(p.messageId!, 2);
  if (!entry) return [unknownAck("PUBCOMP", p.messageId!)];
  s.finished(entry);
  return s.pump(now).concat(s.releases());
}

function unknownAck(kind: string, packetId: number): Action {
  return { type: "log", level: "warn", message: `${kind} for unknown packet id ${packetId}`, counter: "unknown_acks" };
}
