/**
 * Whether a subscription filter asks for nothing beyond an ACL rule's filter. This is how
 * mosquitto's `mosquitto_sub_matches_acl()` (libcommon/topic_common.c, 2.1) compares two filters:
 * rule `a/#` covers `a/+/c`, rule `a/b` does not cover `a/#`, rule `+` does not cover `#`.
 */

export function filterCovers(ruleFilter: string, subscription: string): boolean {
  // '$' topics are reached only by rules that name them, as with topic matching [MQTT-4.7.2-1].
  if (ruleFilter.startsWith("$") !== subscription.startsWith("$")) return false;
  const rule = ruleFilter.split("/");
  const wanted = subscription.split("/");
  for (let i = 0; i < rule.length; i++) {
    const level = rule[i]!;
    // '#' covers its parent level and everything below, wildcards included.
    if (level === "#") return true;
    if (i >= wanted.length) return false;
    const asked = wanted[i]!;
    if (level === "+") {
      if (asked === "#") return false; // one level cannot cover any number of levels
      continue;
    }
    // A literal rule level covers only that literal: a '+' or '#' in the filter asks for more.
    if (level !== asked) return false;
  }
  return rule.length === wanted.length;
}
