/** The log's filter: by topic (an MQTT filter with + or #, else a substring) and by payload text. Pure. */
import type { LoggedMessage } from "./message-log.js";
import { utf8 } from "./payload-format.js";
import { topicMatches } from "./topic-match.js";

export interface LogFilter {
  topic: string;
  text: string;
  /** "all", only received, only sent */
  dir: "all" | "in" | "out";
}

export const NO_FILTER: LogFilter = { topic: "", text: "", dir: "all" };

/** Payload bytes searched for text (a huge payload is searched at its start only). */
export const TEXT_SEARCH_BYTES = 64 * 1024;

export function isEmpty(f: LogFilter): boolean {
  return f.topic.trim() === "" && f.text === "" && f.dir === "all";
}

export function makePredicate(f: LogFilter): ((m: LoggedMessage) => boolean) | undefined {
  if (isEmpty(f)) return undefined;
  const topic = f.topic.trim();
  const wildcard = topic.includes("+") || topic.includes("#");
  const topicLower = topic.toLowerCase();
  const text = f.text.toLowerCase();
  return (m) => {
    if (f.dir !== "all" && m.dir !== f.dir) return false;
    if (topic !== "" && !(wildcard ? topicMatches(topic, m.topic) : m.topic.toLowerCase().includes(topicLower))) return false;
    if (text !== "" && !utf8(m.payload.subarray(0, TEXT_SEARCH_BYTES)).toLowerCase().includes(text)) return false;
    return true;
  };
}
