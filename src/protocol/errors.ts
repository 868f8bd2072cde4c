/**
 * Why a connection ends or a request fails, as MQTT's own codes. MQTT 5 reason codes are the
 * vocabulary inside the broker; `toConnackReturnCode` maps them to MQTT 3.1.1 in one place.
 */

export const Reason = {
  Success: 0x00,
  NormalDisconnection: 0x00,
  DisconnectWithWill: 0x04,
  UnspecifiedError: 0x80,
  MalformedPacket: 0x81,
  ProtocolError: 0x82,
  ImplementationSpecificError: 0x83,
  UnsupportedProtocolVersion: 0x84,
  ClientIdentifierNotValid: 0x85,
  BadUserNameOrPassword: 0x86,
  NotAuthorized: 0x87,
  ServerUnavailable: 0x88,
  ServerBusy: 0x89,
  BadAuthenticationMethod: 0x8c,
  KeepAliveTimeout: 0x8d,
  SessionTakenOver: 0x8e,
  TopicFilterInvalid: 0x8f,
  TopicNameInvalid: 0x90,
  PacketIdentifierInUse: 0x91,
  PacketIdentifierNotFound: 0x92,
  ReceiveMaximumExceeded: 0x93,
  TopicAliasInvalid: 0x94,
  PacketTooLarge: 0x95,
  MessageRateTooHigh: 0x96,
  QuotaExceeded: 0x97,
  AdministrativeAction: 0x98,
  PayloadFormatInvalid: 0x99,
  RetainNotSupported: 0x9a,
  QosNotSupported: 0x9b,
  SharedSubscriptionsNotSupported: 0x9e,
  ConnectionRateExceeded: 0x9f,
  MaximumConnectTime: 0xa0,
  SubscriptionIdentifiersNotSupported: 0xa1,
  WildcardSubscriptionsNotSupported: 0xa2,
} as const;

export type ReasonCode = (typeof Reason)[keyof typeof Reason];

/** MQTT 3.1.1 CONNACK return codes (§3.2.2.3). */
export const ConnackReturnCode = {
  Accepted: 0,
  UnacceptableProtocolVersion: 1,
  IdentifierRejected: 2,
  ServerUnavailable: 3,
  BadUserNameOrPassword: 4,
  NotAuthorized: 5,
} as const;

export function toConnackReturnCode(reason: ReasonCode): number {
  switch (reason) {
    case Reason.Success:
      return ConnackReturnCode.Accepted;
    case Reason.UnsupportedProtocolVersion:
      return ConnackReturnCode.UnacceptableProtocolVersion;
    case Reason.ClientIdentifierNotValid:
      return ConnackReturnCode.IdentifierRejected;
    case Reason.BadUserNameOrPassword:
      return ConnackReturnCode.BadUserNameOrPassword;
    case Reason.NotAuthorized:
      return ConnackReturnCode.NotAuthorized;
    default:
      return ConnackReturnCode.ServerUnavailable;
  }
}

/** The reason codes a DISCONNECT may carry (MQTT 5 §3.14.2.1). */
const DISCONNECT_REASONS = new Set<number>([
  0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2,
]);

/**
 * A reason as a server DISCONNECT may say it: CONNACK-only codes become the nearest DISCONNECT
 * one (0x88 Server unavailable → 0x89 Server busy; 0x86 Bad user name or password → 0x87 Not
 * authorized; others 0x80), so a client's parser never rejects the DISCONNECT that says why.
 */
export function toDisconnectReason(reason: ReasonCode): ReasonCode {
  if (DISCONNECT_REASONS.has(reason)) return reason;
  if (reason === Reason.ServerUnavailable) return Reason.ServerBusy;
  if (reason === Reason.BadUserNameOrPassword) return Reason.NotAuthorized;
  return Reason.UnspecifiedError;
}

/** A violation that ends the connection; `reason` says which (and goes on the wire for MQTT 5). */
export class ProtocolError extends Error {
  constructor(
    readonly reason: ReasonCode,
    message: string,
  ) {
    super(message);
    this.name = "ProtocolError";
  }
}
