/**
 * How an authentication refusal goes on the wire, in one place for MQTT 3.1.1 and 5.0:
 * wrong credentials are 0x04 / 0x86, not authorized 0x05 / 0x87, and a key server that cannot be
 * reached 0x03 / 0x88 (the client may retry; its credentials were not judged).
 */

import type { ProtocolVersion } from "../protocol/codec/codec.js";
import { Reason, toConnackReturnCode, type ReasonCode } from "../protocol/errors.js";

export type AuthRefusal = "bad-credentials" | "not-authorized" | "server-unavailable";

const connackReasons: Readonly<Record<AuthRefusal, ReasonCode>> = {
  "bad-credentials": Reason.BadUserNameOrPassword,
  "not-authorized": Reason.NotAuthorized,
  "server-unavailable": Reason.ServerUnavailable,
};

/** The CONNACK return code (MQTT 3.1 / 3.1.1) or reason code (MQTT 5) for a refused CONNECT. */
export function connackCodeFor(refusal: AuthRefusal, version: ProtocolVersion): number {
  const reason = connackReasons[refusal];
  return version === 5 ? reason : toConnackReturnCode(reason);
}

/**
 * The DISCONNECT reason code when MQTT 5 re-authentication fails. DISCONNECT has no 0x86 or 0x88
 * (MQTT 5 §3.14.2.1), so wrong credentials are 0x87 Not authorized and an unreachable key server
 * is 0x89 Server busy.
 */
export function reauthDisconnectCodeFor(refusal: AuthRefusal): ReasonCode {
  return refusal === "server-unavailable" ? Reason.ServerBusy : Reason.NotAuthorized;
}
