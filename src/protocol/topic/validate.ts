/** Topic name and topic filter rules of MQTT §4.7; pure so they can be tested hard. */

/** A topic name as sent in PUBLISH: no wildcards, at least one character, no U+0000. */
export function isValidTopicName(topic: string): boolean {
  if (topic.length === 0) return false; // [MQTT-4.7.3-1]
  if (topic.includes("\u0000")) return false; // [MQTT-4.7.3-2]
  // Wildcards are for filters only [MQTT-3.3.2-2], [MQTT-4.7.1-1].
  return !topic.includes("+") && !topic.includes("#");
}

/** A topic filter as sent in SUBSCRIBE / UNSUBSCRIBE. */
export function isValidTopicFilter(filter: string): boolean {
  if (filter.length === 0) return false; // [MQTT-4.7.3-1]
  if (filter.includes("\u0000")) return false; // [MQTT-4.7.3-2]
  const levels = filter.split("/");
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.includes("#")) {
      // '#' stands alone and last [MQTT-4.7.1-2].
      if (level !== "#" || i !== levels.length - 1) return false;
    }
    // '+' occupies a whole level [MQTT-4.7.1-3].
    if (level.includes("+") && level !== "+") return false;
  }
  return true;
}

export function hasWildcard(filter: string): boolean {
  return filter.includes("+") || filter.includes("#");
}
