/** PUBACK, PUBREC and PUBCOMP from the client: progress of QoS 1/2 messages sent to it. */
import type { IPubackPacket, IPubcompPacket, IPubrecPacket } from "mqtt-packet";
import type { Action } from "../../actions.js";
import type { Session } from "../session.js";
import type { ConnectionState } from "../state.js";

export const handlePuback = (s: Session, conn: ConnectionState, p: IPubackPacket): Action[] =>
  s.outbound.complete(p.messageId!, 1, conn);

export const handlePubrec = (s: Session, conn: ConnectionState, p: IPubrecPacket): Action[] =>
  s.outbound.received(p.messageId!, conn);

export const handlePubcomp = (s: Session, conn: ConnectionState, p: IPubcompPacket): Action[] =>
  s.outbound.complete(p.messageId!, 2, conn);
