/** The forwardable PUBLISH / will properties, copied out of a decoded packet. */
import type { MessageProperties } from "../../message.js";

interface Forwardable {
  payloadFormatIndicator?: boolean;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Buffer;
  userProperties?: Record<string, string | string[]>;
}

/** Undefined when the packet carries none of them. */
export function messageProperties(p: Forwardable): MessageProperties | undefined {
  const out: MessageProperties = {};
  if (p.payloadFormatIndicator !== undefined) out.payloadFormatIndicator = p.payloadFormatIndicator;
  if (p.contentType !== undefined) out.contentType = p.contentType;
  if (p.responseTopic !== undefined) out.responseTopic = p.responseTopic;
  // Copy: the decoder's buffer may be a view over a much larger frame.
  if (p.correlationData !== undefined) out.correlationData = new Uint8Array(p.correlationData);
  // mqtt-packet builds this map without a prototype, which structured clone (RPC, storage) refuses.
  if (p.userProperties !== undefined) out.userProperties = { ...p.userProperties };
  return Object.keys(out).length > 0 ? out : undefined;
}
