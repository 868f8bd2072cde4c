/**
 * Topic rights carried in a JWT's `acl` claim, in the two shapes EMQX reads, so tokens minted for
 * EMQX work here (docs.emqx.com: "JWT ACL" in 4.x, "Access Control List" under authn in 5.x):
 *
 * - object: `{"pub": [...], "sub": [...], "all": [...]}`, allow-lists; anything else is denied;
 * - array (EMQX 5.5+): `[{"permission": "allow"|"deny", "action": "publish"|"subscribe"|"all",
 *   "topic": "..."}]`; the first rule that matches decides, and if none does the client is
 *   denied (EMQX would ask its other authorizers; a token's rights here are complete).
 *
 * `pub`/`publish` grant write; `sub`/`subscribe` grant subscribe and receiving (read). Topics may
 * use `%u`, `%c`, `${username}`, `${clientid}` as whole levels, and EMQX's `eq ` prefix: `eq t/#`
 * allows subscribing to exactly `t/#` (not `t/a`), and receiving what that subscription matches.
 * Array rules with `qos`, `retain` or other conditions are refused, and with them the token: these
 * checks see neither QoS nor retain, and dropping a condition could allow more than was meant.
 */

import { isValidTopicFilter } from "../protocol/topic/validate.js";
import { topicMatches } from "../protocol/topic/match.js";
import { authorizerFrom, type Access, type Authorizer, type Identity } from "./authorizer.js";
import { filterCovers } from "./filter-covers.js";
import { emqxPlaceholders, expandPlaceholders } from "./placeholders.js";

interface ClaimRule {
  allow: boolean;
  accesses: readonly Access[];
  filter: string;
  /** EMQX's `eq ` prefix: the filter itself, not what it matches. */
  exact: boolean;
}

const grants: Readonly<Record<string, readonly Access[]>> = {
  pub: ["write"],
  publish: ["write"],
  sub: ["subscribe", "read"],
  subscribe: ["subscribe", "read"],
  all: ["write", "subscribe", "read"],
};

/** The rights in the claim, or what is wrong with it. */
export function parseAclClaim(claim: unknown): Authorizer | string {
  const rules = Array.isArray(claim) ? parseRuleList(claim) : parseAllowLists(claim);
  if (typeof rules === "string") return rules;
  return authorizerFrom((identity) => {
    const own = rulesFor(identity, rules);
    return {
      check(access, topicOrFilter) {
        const decisive = own.find((rule) => rule.accesses.includes(access) && ruleMatches(rule, access, topicOrFilter));
        return decisive?.allow ?? false;
      },
    };
  });
}

function parseAllowLists(claim: unknown): ClaimRule[] | string {
  if (typeof claim !== "object" || claim === null) return "acl claim must be an object or an array";
  const rules: ClaimRule[] = [];
  for (const [key, topics] of Object.entries(claim)) {
    if (key !== "pub" && key !== "sub" && key !== "all") {
      return `acl claim has unknown key ${JSON.stringify(key)} (expected pub, sub, all)`;
    }
    if (!Array.isArray(topics)) return `acl.${key} must be an array of topic filters`;
    for (const topic of topics) {
      const parsed = parseTopic(topic);
      if (typeof parsed === "string") return `acl.${key}: ${parsed}`;
      rules.push({ allow: true, accesses: grants[key]!, ...parsed });
    }
  }
  return rules;
}

function parseRuleList(claim: readonly unknown[]): ClaimRule[] | string {
  const rules: ClaimRule[] = [];
  for (const [index, entry] of claim.entries()) {
    const where = `acl[${index}]`;
    if (typeof entry !== "object" || entry === null) return `${where} must be an object`;
    const { permission, action, topic, ...conditions } = entry as Record<string, unknown>;
    const extra = Object.keys(conditions);
    if (extra.length > 0) return `${where} has conditions that cannot be checked here: ${extra.join(", ")}`;
    if (permission !== "allow" && permission !== "deny") return `${where}.permission must be "allow" or "deny"`;
    if (action !== "publish" && action !== "subscribe" && action !== "all") {
      return `${where}.action must be "publish", "subscribe" or "all"`;
    }
    const parsed = parseTopic(topic);
    if (typeof parsed === "string") return `${where}.topic: ${parsed}`;
    rules.push({ allow: permission === "allow", accesses: grants[action]!, ...parsed });
  }
  return rules;
}

function parseTopic(topic: unknown): { filter: string; exact: boolean } | string {
  if (typeof topic !== "string") return "topic filters must be strings";
  const exact = topic.startsWith("eq ");
  const filter = exact ? topic.slice(3) : topic;
  if (!isValidTopicFilter(filter)) return `invalid topic filter ${JSON.stringify(topic)}`;
  return { filter, exact };
}

/** Rules with this client's placeholders filled in; rules that cannot be filled in do not apply. */
function rulesFor(identity: Identity, rules: readonly ClaimRule[]): ClaimRule[] {
  const own: ClaimRule[] = [];
  for (const rule of rules) {
    const filter = expandPlaceholders(rule.filter, identity, emqxPlaceholders);
    if (filter !== undefined) own.push({ ...rule, filter });
  }
  return own;
}

function ruleMatches(rule: ClaimRule, access: Access, topicOrFilter: string): boolean {
  // `eq` narrows which filters may be subscribed (and published to); the messages that such a
  // subscription brings are still every topic its filter matches.
  if (rule.exact && access !== "read") return rule.filter === topicOrFilter;
  return access === "subscribe" ? filterCovers(rule.filter, topicOrFilter) : topicMatches(rule.filter, topicOrFilter);
}
