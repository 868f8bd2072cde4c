/**
 * DISCONNECT from the client. Reason 0x00 (and every 3.1.1 DISCONNECT) is a clean end, so the will
 * is discarded [MQTT-3.14.4-3]; any other MQTT 5 reason (0x04 asks for it outright) publishes it.
 * It may also change the Session Expiry Interval.
 */
import type { IDisconnectPacket } from "mqtt-packet";
import type { Action } from "../../actions.js";
import { ProtocolError, Reason } from "../../errors.js";
import { close, type Session } from "../session.js";
import type { ConnectionState } from "../state.js";

export function handleDisconnect(s: Session, conn: ConnectionState, packet: IDisconnectPacket, now: number): Action[] {
  const expiry = packet.properties?.sessionExpiryInterval;
  if (expiry !== undefined && s.record) {
    // A session that was to end with the connection cannot be prolonged here (§3.14.2.2.2).
    if (conn.connectExpiry === 0 && expiry !== 0) throw new ProtocolError(Reason.ProtocolError, "DISCONNECT raised a Session Expiry Interval of 0");
    // MAX_SESSION_EXPIRY caps it here too (review F16).
    s.record.expiryInterval = Math.min(expiry, s.config.maxSessionExpiry);
  }
  const reason = packet.reasonCode ?? Reason.NormalDisconnection;
  const withWill = reason !== Reason.NormalDisconnection;
  return [close(conn.connId, "client disconnected", false), ...s.endConnection(withWill, `DISCONNECT 0x${reason.toString(16)}`, now)];
}
