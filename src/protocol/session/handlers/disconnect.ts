/** DISCONNECT from the client: a clean end, so the will is discarded [MQTT-3.14.4-3]. */
import type { IDisconnectPacket } from "mqtt-packet";
import type { Action } from "../../actions.js";
import { close, type Session } from "../session.js";
import type { ConnectionState } from "../state.js";

export function handleDisconnect(s: Session, conn: ConnectionState, _packet: IDisconnectPacket, _now: number): Action[] {
  return [close(conn.connId, "client disconnected", false), ...s.endConnection(false, "DISCONNECT")];
}
