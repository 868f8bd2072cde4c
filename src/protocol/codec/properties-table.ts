/**
 * MQTT 5 properties (§2.2.2.2, Table 2-4): each identifier's name and data type, and which ones a
 * client may put on which packet. "A Control Packet which contains an Identifier which is not
 * valid for its packet type, or contains a value not of the specified data type, is a Malformed
 * Packet" (§2.2.2.2). Only what a client sends is listed: properties that only a server sends
 * (CONNACK's, Assigned Client Identifier, Server Keep Alive…) are not valid in a client's packet.
 */

export type PropertyType = "byte" | "u16" | "u32" | "varint" | "string" | "binary" | "pair";

export interface PropertySpec {
  name: string;
  type: PropertyType;
}

/** Every identifier MQTT 5 defines (Table 2-4); any other is not valid anywhere. */
export const PROPERTIES: Readonly<Record<number, PropertySpec>> = {
  0x01: { name: "Payload Format Indicator", type: "byte" },
  0x02: { name: "Message Expiry Interval", type: "u32" },
  0x03: { name: "Content Type", type: "string" },
  0x08: { name: "Response Topic", type: "string" },
  0x09: { name: "Correlation Data", type: "binary" },
  0x0b: { name: "Subscription Identifier", type: "varint" },
  0x11: { name: "Session Expiry Interval", type: "u32" },
  0x12: { name: "Assigned Client Identifier", type: "string" },
  0x13: { name: "Server Keep Alive", type: "u16" },
  0x15: { name: "Authentication Method", type: "string" },
  0x16: { name: "Authentication Data", type: "binary" },
  0x17: { name: "Request Problem Information", type: "byte" },
  0x18: { name: "Will Delay Interval", type: "u32" },
  0x19: { name: "Request Response Information", type: "byte" },
  0x1a: { name: "Response Information", type: "string" },
  0x1c: { name: "Server Reference", type: "string" },
  0x1f: { name: "Reason String", type: "string" },
  0x21: { name: "Receive Maximum", type: "u16" },
  0x22: { name: "Topic Alias Maximum", type: "u16" },
  0x23: { name: "Topic Alias", type: "u16" },
  0x24: { name: "Maximum QoS", type: "byte" },
  0x25: { name: "Retain Available", type: "byte" },
  0x26: { name: "User Property", type: "pair" },
  0x27: { name: "Maximum Packet Size", type: "u32" },
  0x28: { name: "Wildcard Subscription Available", type: "byte" },
  0x29: { name: "Subscription Identifier Available", type: "byte" },
  0x2a: { name: "Shared Subscription Available", type: "byte" },
};

export const USER_PROPERTY = 0x26;

/** Where a set of properties sits in a packet a client sends. */
export type PropertyContext = "connect" | "will" | "publish" | "ack" | "subscribe" | "unsubscribe" | "disconnect" | "auth";

/** Which identifiers a client may send where (Table 2-4, and each packet's section). */
export const ALLOWED_PROPERTIES: Readonly<Record<PropertyContext, ReadonlySet<number>>> = {
  // §3.1.2.11: Session Expiry, Receive Maximum, Maximum Packet Size, Topic Alias Maximum, Request
  // Response / Problem Information, User Property, Authentication Method / Data.
  connect: new Set([0x11, 0x21, 0x27, 0x22, 0x19, 0x17, 0x26, 0x15, 0x16]),
  // §3.1.3.2: Will Delay Interval, Payload Format Indicator, Message Expiry Interval, Content
  // Type, Response Topic, Correlation Data, User Property.
  will: new Set([0x18, 0x01, 0x02, 0x03, 0x08, 0x09, 0x26]),
  // §3.3.2.3: Payload Format Indicator, Message Expiry Interval, Topic Alias, Response Topic,
  // Correlation Data, User Property, Subscription Identifier, Content Type. (A Subscription
  // Identifier is valid on PUBLISH, but a client never sends one: a Protocol Error [MQTT-3.3.4-6].)
  publish: new Set([0x01, 0x02, 0x23, 0x08, 0x09, 0x26, 0x0b, 0x03]),
  // §3.4.2.2, §3.5.2.2, §3.6.2.2, §3.7.2.2: Reason String, User Property.
  ack: new Set([0x1f, 0x26]),
  // §3.8.2.1: Subscription Identifier, User Property.
  subscribe: new Set([0x0b, 0x26]),
  // §3.10.2.1: User Property.
  unsubscribe: new Set([0x26]),
  // §3.14.2.2: Session Expiry Interval, Reason String, User Property, Server Reference.
  disconnect: new Set([0x11, 0x1f, 0x26, 0x1c]),
  // §3.15.2.2: Authentication Method, Authentication Data, Reason String, User Property.
  auth: new Set([0x15, 0x16, 0x1f, 0x26]),
};

/**
 * Byte properties a client sends whose only values are 0 and 1; any other is a Protocol Error:
 * Request Problem Information (§3.1.2.11.7) and Request Response Information (§3.1.2.11.6) say so.
 * The Payload Format Indicator's values are 0 and 1 too (§3.3.2.3.2, §3.1.3.2.3), but the text
 * names no error for another value: 0xED can neither be forwarded unaltered [MQTT-3.3.2-4] by
 * this broker (it stores the indicator as a flag) nor mean anything; it is treated as a Protocol
 * Error, "data that is not allowed by the protocol" (§1.2). See docs/CONFORMANCE.md.
 */
export const ZERO_OR_ONE: Readonly<Record<number, string>> = {
  0x17: "§3.1.2.11.7",
  0x19: "§3.1.2.11.6",
  0x01: "§3.3.2.3.2",
};
