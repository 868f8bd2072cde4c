/** The log as JSON or CSV (payloads as UTF-8 text when they are, base64 otherwise), and a download. */
import type { LoggedMessage, MessageProps } from "./message-log.js";
import { isValidUtf8, toBase64, utf8 } from "./payload-format.js";

export interface ExportedMessage {
  time: string;
  direction: "received" | "sent";
  topic: string;
  qos: number;
  retain: boolean;
  encoding: "utf8" | "base64";
  payload: string;
  properties?: Record<string, unknown>;
}

function payloadField(bytes: Uint8Array): { encoding: "utf8" | "base64"; payload: string } {
  return isValidUtf8(bytes) ? { encoding: "utf8", payload: utf8(bytes) } : { encoding: "base64", payload: toBase64(bytes) };
}

export function exportedProperties(p: MessageProps): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (p.payloadFormat !== undefined) out.payloadFormatIndicator = p.payloadFormat;
  if (p.messageExpiry !== undefined) out.messageExpiryInterval = p.messageExpiry;
  if (p.contentType !== undefined) out.contentType = p.contentType;
  if (p.responseTopic !== undefined) out.responseTopic = p.responseTopic;
  if (p.correlationData !== undefined) out.correlationData = payloadField(p.correlationData);
  if (p.userProperties !== undefined) out.userProperties = p.userProperties;
  if (p.subscriptionIds !== undefined) out.subscriptionIdentifiers = p.subscriptionIds;
  return out;
}

export function toExported(m: LoggedMessage): ExportedMessage {
  return {
    time: new Date(m.time).toISOString(),
    direction: m.dir === "in" ? "received" : "sent",
    topic: m.topic,
    qos: m.qos,
    retain: m.retain,
    ...payloadField(m.payload),
    ...(m.props ? { properties: exportedProperties(m.props) } : {}),
  };
}

export function toJson(messages: Iterable<LoggedMessage>): string {
  const parts: string[] = [];
  for (const m of messages) parts.push(JSON.stringify(toExported(m)));
  return `[\n${parts.join(",\n")}\n]\n`;
}

/** RFC 4180: quoted when it holds a comma, quote or line break; quotes doubled. */
export function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export const CSV_HEADER = ["time", "direction", "topic", "qos", "retain", "encoding", "payload", "properties"];

export function toCsv(messages: Iterable<LoggedMessage>): string {
  const lines = [CSV_HEADER.join(",")];
  for (const m of messages) {
    const e = toExported(m);
    const cells = [e.time, e.direction, e.topic, String(e.qos), String(e.retain), e.encoding, e.payload, e.properties ? JSON.stringify(e.properties) : ""];
    lines.push(cells.map(csvCell).join(","));
  }
  return `${lines.join("\r\n")}\r\n`;
}

/** Saves text as a file (browser only). */
export function download(filename: string, mime: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: mime }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.style.display = "none";
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
