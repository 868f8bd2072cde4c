/**
 * DISCONNECT from the client: a clean end, so the will is discarded [MQTT-3.14.4-3], unless an
 * MQTT 5 client asks for it with 0x04. It may also change the Session Expiry Interval.
 */
import type { IDisconnectPacket } from "mqtt-packet";
import type { Action } from "../../actions.js";
import { ProtocolError, Reason } from "../../errors.js";
import { close, type Session } from "../session.js";
import type { ConnectionState } from "../state.js";

export function handleDisconnect(s: Session, conn: ConnectionState, packet: IDisconnectPacket, now: number): Action[] {
  const expiry = packet.properties?.sessionExpiryInterval;
  if (expiry !== undefined && s.record) {
    // A session that was to end with the connection cannot be prolonged here [MQTT-3.14.2-2].
    if (conn.connectExpiry === 0 && expiry !== 0) throw new ProtocolError(Reason.ProtocolError, "DISCONNECT raised a Session Expiry Interval of 0");
    s.record.expiryInterval = expiry;
  }
  const withWill = packet.reasonCode === Reason.DisconnectWithWill;
  return [close(conn.connId, "client disconnected", false), ...s.endConnection(withWill, "DISCONNECT with will", now)];
}
