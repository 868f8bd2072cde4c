/** Matching one topic name against one topic filter (MQTT §4.7). */

export function topicMatches(filter: string, topic: string): boolean {
  // Wildcards at the first level do not match topics that start with '$' [MQTT-4.7.2-1].
  if (topic.startsWith("$") && (filter.startsWith("+") || filter.startsWith("#"))) return false;
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    const level = f[i]!;
    // '#' also matches the parent level: "sport/#" matches "sport" (MQTT 3.1.1 §4.7.1.2).
    if (level === "#") return true;
    if (i >= t.length) return false;
    if (level !== "+" && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** The levels of a filter before its first wildcard, joined: a prefix every match starts with. */
export function literalPrefix(filter: string): string {
  const levels = filter.split("/");
  const literal: string[] = [];
  for (const level of levels) {
    if (level === "+" || level === "#") break;
    literal.push(level);
  }
  return literal.length === levels.length ? filter : literal.join("/");
}
