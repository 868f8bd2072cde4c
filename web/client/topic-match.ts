/** MQTT topic rules for the page: does a filter match a topic, is a filter / topic name valid. */

/** `$share/<group>/<filter>` → `<filter>` (a shared subscription delivers topics of its inner filter). */
export function innerFilter(filter: string): string {
  if (!filter.startsWith("$share/")) return filter;
  const rest = filter.slice("$share/".length);
  const slash = rest.indexOf("/");
  return slash < 0 ? rest : rest.slice(slash + 1);
}

export function topicMatches(filter: string, topic: string): boolean {
  const f = innerFilter(filter).split("/");
  const t = topic.split("/");
  // Wildcards at the first level do not match `$` topics [MQTT-4.7.2-1].
  if (topic.startsWith("$") && (f[0] === "+" || f[0] === "#")) return false;
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === "#") return true;
    if (i >= t.length) return false;
    if (level !== "+" && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Why a subscription filter is invalid, or undefined. */
export function filterProblem(filter: string): string | undefined {
  if (filter.length === 0) return "the filter is empty";
  const levels = innerFilter(filter).split("/");
  if (filter.startsWith("$share/") && (filter.split("/").length < 3 || filter.split("/")[1] === "")) return "a shared subscription is $share/<group>/<filter>";
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.includes("#") && (level !== "#" || i !== levels.length - 1)) return "# must be a whole level, and the last";
    if (level.includes("+") && level !== "+") return "+ must be a whole level";
  }
  return undefined;
}

/** Why a topic name is invalid for PUBLISH, or undefined. */
export function topicProblem(topic: string): string | undefined {
  if (topic.length === 0) return "the topic is empty";
  if (topic.includes("+") || topic.includes("#")) return "a topic name has no wildcards (+ or #)";
  if (topic.includes("\u0000")) return "a topic has no NUL character";
  return undefined;
}
