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

/** The broker's own limits on a topic name or filter (MAX_TOPIC_LENGTH, MAX_TOPIC_LEVELS); why not, or null. */
export function beyondTopicLimits(topic: string, limits: { maxTopicBytes: number; maxTopicLevels: number }): string | null {
  // Quick bound first: a UTF-16 unit is at most 3 UTF-8 bytes.
  if (topic.length * 3 > limits.maxTopicBytes && utf8Length(topic) > limits.maxTopicBytes) return `longer than ${limits.maxTopicBytes} bytes (MAX_TOPIC_LENGTH)`;
  let levels = 1;
  for (let i = 0; i < topic.length; i++) if (topic.charCodeAt(i) === 0x2f) levels++;
  return levels > limits.maxTopicLevels ? `more than ${limits.maxTopicLevels} levels (MAX_TOPIC_LEVELS)` : null;
}

/** Control characters (C0, DEL, C1): SHOULD NOT appear in MQTT strings (§1.5.3); refused in client ids. */
export function hasControlCharacter(text: string): boolean {
  return /[\u0000-\u001f\u007f-\u009f]/.test(text);
}

export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
