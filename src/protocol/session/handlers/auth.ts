/** AUTH (MQTT 5 §3.15): enhanced authentication is not offered, so an AUTH is a protocol error [MQTT-4.12.0-7]. */
import type { IAuthPacket } from "mqtt-packet";
import type { Action } from "../../actions.js";
import { ProtocolError, Reason } from "../../errors.js";
import type { Session } from "../session.js";
import type { ConnectionState } from "../state.js";

export function handleAuth(_s: Session, _conn: ConnectionState, _packet: IAuthPacket): Action[] {
  throw new ProtocolError(Reason.ProtocolError, "AUTH without an authentication method in CONNECT");
}
