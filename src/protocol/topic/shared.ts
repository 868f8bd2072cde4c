/** Shared subscription filters, `$share/{ShareName}/{filter}` (MQTT 5 §4.8.2). */
import { isValidTopicFilter } from "./validate.js";

export const SHARE_PREFIX = "$share/";

export interface SharedFilter {
  group: string;
  filter: string;
}

export const isShared = (filter: string): boolean => filter.startsWith(SHARE_PREFIX);

/**
 * Splits a shared filter; null when it is malformed: the ShareName is at least one character
 * without '/', '+' or '#' [MQTT-4.8.2-1], followed by '/' and a valid topic filter [MQTT-4.8.2-2].
 */
export function parseShared(filter: string): SharedFilter | null {
  if (!isShared(filter)) return null;
  const rest = filter.slice(SHARE_PREFIX.length);
  const slash = rest.indexOf("/");
  if (slash <= 0) return null;
  const group = rest.slice(0, slash);
  const inner = rest.slice(slash + 1);
  if (group.includes("+") || group.includes("#")) return null;
  if (!isValidTopicFilter(inner)) return null;
  return { group, filter: inner };
}
