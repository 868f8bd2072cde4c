/**
 * Substitution of the client's username and client id into rule filters (`%u`, `%c` in mosquitto
 * ACL patterns; also `${username}`, `${clientid}` in EMQX-style JWT claims).
 *
 * As in mosquitto 2.1 (`mosquitto_topic_matches_sub_with_pattern`), a placeholder counts only when
 * it is a whole level: `a/%c/b` is substituted, `a/x%c` is a literal level.
 */

import type { Identity } from "./authorizer.js";

export type PlaceholderSyntax = ReadonlyMap<string, "username" | "clientId">;

export const mosquittoPlaceholders: PlaceholderSyntax = new Map([
  ["%u", "username"],
  ["%c", "clientId"],
]);

export const emqxPlaceholders: PlaceholderSyntax = new Map([
  ["%u", "username"],
  ["%c", "clientId"],
  ["${username}", "username"],
  ["${clientid}", "clientId"],
]);

export function hasPlaceholder(filter: string, syntax: PlaceholderSyntax): boolean {
  return filter.split("/").some((level) => syntax.has(level));
}

/**
 * The filter with placeholders replaced, or undefined when the rule cannot apply to this client:
 * the value is missing or empty, or holds '+', '#' or '/', which would widen the rule into other
 * clients' topics (mosquitto denies such clients outright; here only the rule is skipped), or
 * would make the rule start with '$'.
 */
export function expandPlaceholders(filter: string, identity: Identity, syntax: PlaceholderSyntax): string | undefined {
  const levels = filter.split("/");
  for (let i = 0; i < levels.length; i++) {
    const field = syntax.get(levels[i]!);
    if (field === undefined) continue;
    const value = identity[field];
    if (value === undefined || !isSafeLevel(value)) return undefined;
    levels[i] = value;
  }
  const expanded = levels.join("/");
  // A value must not turn a rule into a '$' rule: a username "$SYS" with `%u/#` would otherwise
  // reach the broker's $SYS topics (mosquitto 2.1 does not match such a pattern either).
  if (expanded.startsWith("$") && !filter.startsWith("$")) return undefined;
  return expanded;
}

function isSafeLevel(value: string): boolean {
  return value.length > 0 && !/[+#/]/.test(value);
}
