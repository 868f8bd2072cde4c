/**
 * The syntax of topic names and filters (MQTT 5 §4.7, §4.8.2; 3.1.1 §4.7) as the codec checks it,
 * with the clause each rule comes from. A name or filter that breaks it is not "correctly formed":
 * the reason codes 0x8F Topic Filter invalid and 0x90 Topic Name invalid are defined for correctly
 * formed ones a server will not accept (§2.4, Table 2-6), so these answer 0x81 Malformed Packet.
 * Limits of this broker (length, levels, rights) stay with the session, which answers those.
 */
import { SHARE_PREFIX } from "../topic/shared.js";

/** Why `filter` is not a topic filter, with its clause; null when it is one. */
export function filterViolation(filter: string, v5: boolean): { clause: string; why: string } | null {
  if (filter.length === 0) return { clause: "[MQTT-4.7.3-1]", why: "an empty topic filter" };
  let inner = filter;
  if (v5 && filter.startsWith(SHARE_PREFIX)) {
    // $share/{ShareName}/{filter}: a ShareName of at least one character without "/", "+" or "#"
    // [MQTT-4.8.2-1], then "/" and a topic filter [MQTT-4.8.2-2].
    const rest = filter.slice(SHARE_PREFIX.length);
    const slash = rest.indexOf("/");
    const share = slash === -1 ? rest : rest.slice(0, slash);
    if (share.length === 0 || share.includes("+") || share.includes("#")) return { clause: "[MQTT-4.8.2-1]", why: `shared subscription ${JSON.stringify(filter)} without a valid ShareName` };
    if (slash === -1 || slash === rest.length - 1) return { clause: "[MQTT-4.8.2-2]", why: `shared subscription ${JSON.stringify(filter)} without a topic filter` };
    inner = rest.slice(slash + 1);
  }
  const levels = inner.split("/");
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    // "#" on its own or after "/", and last (5.0 [MQTT-4.7.1-1], 3.1.1 [MQTT-4.7.1-2]).
    if (level.includes("#") && (level !== "#" || i !== levels.length - 1)) return { clause: v5 ? "[MQTT-4.7.1-1]" : "[MQTT-4.7.1-2]", why: `"#" misplaced in ${JSON.stringify(filter)}` };
    // "+" occupies a whole level (5.0 [MQTT-4.7.1-2], 3.1.1 [MQTT-4.7.1-3]).
    if (level.includes("+") && level !== "+") return { clause: v5 ? "[MQTT-4.7.1-2]" : "[MQTT-4.7.1-3]", why: `"+" not a whole level in ${JSON.stringify(filter)}` };
  }
  return null;
}

/** Why `topic` is not a topic name, with its clause; null when it is one. (An empty one is the caller's: Topic Alias.) */
export function topicNameViolation(topic: string): { clause: string; why: string } | null {
  // No wildcards in a Topic Name [MQTT-3.3.2-2] (both versions), 5.0 [MQTT-4.7.0-1], 3.1.1 [MQTT-4.7.1-1].
  if (topic.includes("+") || topic.includes("#")) return { clause: "[MQTT-3.3.2-2]", why: `wildcard in the topic name ${JSON.stringify(topic)}` };
  return null;
}
