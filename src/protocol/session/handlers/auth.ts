/**
 * AUTH (MQTT 5 §3.15, §4.12.1): re-authentication. A client that connected with the "JWT"
 * Authentication Method may send a fresh token (Reason Code 0x19) before its token expires, and
 * stay connected: its rights and expiry become the new token's. The shell verified the token
 * (`verdict`); a failure ends the connection [MQTT-4.12.1-2].
 */
import type { IAuthPacket } from "mqtt-packet";
import type { Action } from "../../actions.js";
import { ProtocolError, Reason } from "../../errors.js";
import type { AuthVerdict } from "../auth-verdict.js";
import { send, type Session } from "../session.js";
import type { ConnectionState } from "../state.js";

const REAUTHENTICATE = 0x19;

export function handleAuth(s: Session, conn: ConnectionState, packet: IAuthPacket, verdict: AuthVerdict | undefined, now: number): Action[] {
  const method = conn.auth.method;
  // Without an Authentication Method in CONNECT, the client must not send AUTH [MQTT-4.12.0-7].
  if (method === undefined) throw new ProtocolError(Reason.ProtocolError, "AUTH without an authentication method in CONNECT");
  // Only re-authentication is offered; it names the method of the CONNECT [MQTT-4.12.1-1].
  if (packet.reasonCode !== REAUTHENTICATE) throw new ProtocolError(Reason.ProtocolError, `AUTH with reason code 0x${packet.reasonCode.toString(16)}: only re-authentication (0x19) is offered`);
  if (packet.properties?.authenticationMethod !== method) throw new ProtocolError(Reason.ProtocolError, "AUTH with another authentication method than CONNECT's");
  if (!verdict) throw new Error("an AUTH must come with an authentication verdict");
  if (!verdict.ok) {
    return [{ type: "log", level: "warn", message: verdict.log, counter: "reauth_refused" }, ...s.fail(conn.connId, verdict.reason, "re-authentication failed", now)];
  }
  conn.auth = { ...verdict.auth, method };
  s.rights = verdict.rights;
  return [send(conn, { cmd: "auth", reasonCode: 0, properties: { authenticationMethod: method } } as IAuthPacket)];
}
