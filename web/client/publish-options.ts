/** The publish form's MQTT 5 properties, checked and turned into PUBLISH properties. Pure. */
import type { IPublishPacket } from "mqtt";
import type { MessageProps } from "./message-log.js";
import { utf8Bytes } from "./payload-format.js";
import { topicProblem } from "./topic-match.js";

export interface PublishProps {
  contentType: string;
  /** Payload Format Indicator: the payload is UTF-8 text. */
  utf8: boolean;
  /** Message Expiry Interval in seconds; empty: none. */
  messageExpiry: string;
  responseTopic: string;
  /** As text (sent as its UTF-8 bytes). */
  correlationData: string;
  /** One `key=value` (or `key: value`) a line. */
  userProperties: string;
}

export const NO_PROPS: PublishProps = { contentType: "", utf8: false, messageExpiry: "", responseTopic: "", correlationData: "", userProperties: "" };

/** `key=value` lines → pairs; throws on a line without a separator. */
export function parseUserProperties(text: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === "") continue;
    const m = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line);
    if (!m) throw new Error(`user property line ${i + 1}: write key=value`);
    pairs.push([m[1]!, m[2]!]);
  }
  return pairs;
}

/** mqtt.js's shape: one key, one value or several. */
export function userPropertiesObject(pairs: [string, string][]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of pairs) {
    const had = out[k];
    out[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
  }
  return out;
}

/** PUBLISH properties (MQTT 5), or undefined when none is set; throws with a message on bad input. */
export function publishProperties(p: PublishProps): IPublishPacket["properties"] | undefined {
  const props: NonNullable<IPublishPacket["properties"]> = {};
  if (p.contentType !== "") props.contentType = p.contentType;
  if (p.utf8) props.payloadFormatIndicator = true;
  if (p.messageExpiry.trim() !== "") {
    const n = Number(p.messageExpiry);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error("message expiry: whole seconds, 0 to 4294967295");
    props.messageExpiryInterval = n;
  }
  if (p.responseTopic !== "") {
    const problem = topicProblem(p.responseTopic);
    if (problem) throw new Error(`response topic: ${problem}`);
    props.responseTopic = p.responseTopic;
  }
  if (p.correlationData !== "") props.correlationData = p.correlationData as unknown as Buffer;
  const pairs = parseUserProperties(p.userProperties);
  if (pairs.length > 0) props.userProperties = userPropertiesObject(pairs);
  return Object.keys(props).length > 0 ? props : undefined;
}

/** The properties of a received PUBLISH, kept in the log (binary copied out of mqtt.js's buffers). */
export function messageProps(p: IPublishPacket["properties"] | undefined): MessageProps | undefined {
  if (!p) return undefined;
  const out: MessageProps = {};
  if (p.payloadFormatIndicator !== undefined) out.payloadFormat = p.payloadFormatIndicator ? 1 : 0;
  if (p.messageExpiryInterval !== undefined) out.messageExpiry = p.messageExpiryInterval;
  if (p.contentType !== undefined) out.contentType = p.contentType;
  if (p.responseTopic !== undefined) out.responseTopic = p.responseTopic;
  if (p.correlationData !== undefined) {
    const c = p.correlationData as unknown;
    out.correlationData = typeof c === "string" ? utf8Bytes(c) : new Uint8Array(c as Uint8Array);
  }
  if (p.userProperties !== undefined) {
    const pairs: [string, string][] = [];
    for (const [k, v] of Object.entries(p.userProperties)) for (const one of Array.isArray(v) ? v : [v]) pairs.push([k, String(one)]);
    out.userProperties = pairs;
  }
  if (p.subscriptionIdentifier !== undefined) out.subscriptionIds = Array.isArray(p.subscriptionIdentifier) ? p.subscriptionIdentifier : [p.subscriptionIdentifier];
  return Object.keys(out).length > 0 ? out : undefined;
}
