/**
 * Reads a mosquitto `acl_file` and answers, per client, what it may read, write and subscribe to.
 *
 * Format (mosquitto.conf(5), plugins/acl-file/acl_parse.c in mosquitto 2.1):
 * - `topic [read|write|readwrite|deny] <filter>`: access defaults to readwrite; everything after
 *   the access word, inner spaces included, is the filter (so `topic read a b` is filter "a b",
 *   and a lone word is the filter: `topic foo` is readwrite on "foo");
 * - `user <name>`: the `topic` lines after it are that user's (the name may contain spaces);
 *   `topic` lines before any `user` line are for clients without a username;
 * - `pattern [access] <filter>`: for every client, with a level that is exactly `%u` / `%c`
 *   replaced by its username / client id;
 * - `#` comments and blank lines.
 *
 * Decisions:
 * - a client gets its own section (its user's, or the anonymous one; a user without a section gets
 *   none) plus every pattern; no matching rule means denied once an ACL file is configured;
 * - deny wins: a matching deny rule anywhere beats any allow. (mosquitto checks the user's section
 *   before the patterns and stops at the first match there, so a user allow beats a pattern deny
 *   in mosquitto; it documents "deny topics are handled before topics that grant".)
 * - a pattern whose `%u`/`%c` value is missing, empty or holds '+', '#' or '/' does not apply to
 *   that client (mosquitto 2.1 refuses such clients outright, for every pattern);
 * - read: a message's topic is matched against the rule filter; write: the publish topic;
 * - subscribe (mosquitto's acl_file does not check subscriptions at all, only deliveries): allowed
 *   when a read rule covers the whole filter and no deny rule covers it, with mosquitto's
 *   filter-vs-filter rule (`filterCovers`). A filter that only overlaps a deny rule (`#` vs deny
 *   `a/b`) is allowed; the read check at delivery then holds back the denied topics.
 * For shared subscriptions, check the filter inside `$share/<group>/`.
 */

import { isValidTopicFilter } from "../protocol/topic/validate.js";
import { AuthFileError } from "./auth-file-error.js";
import { authorizerFrom, type Access, type Authorizer, type Identity, type TopicRights } from "./authorizer.js";
import { FilterSet } from "./filter-set.js";
import { expandPlaceholders, hasPlaceholder, mosquittoPlaceholders } from "./placeholders.js";

export type Acl = Authorizer;

type RuleAccess = "read" | "write" | "readwrite" | "deny";

interface Rule {
  access: RuleAccess;
  filter: string;
}

const ruleAccesses: readonly string[] = ["read", "write", "readwrite", "deny"] satisfies RuleAccess[];

/** Rules compiled for lookups: one filter set per kind of access. */
class RuleSet {
  readonly deny = new FilterSet();
  readonly read = new FilterSet();
  readonly write = new FilterSet();

  add({ access, filter }: Rule): void {
    if (access === "deny") this.deny.add(filter);
    if (access === "read" || access === "readwrite") this.read.add(filter);
    if (access === "write" || access === "readwrite") this.write.add(filter);
  }

  get isEmpty(): boolean {
    return this.deny.size + this.read.size + this.write.size === 0;
  }
}

const noRules = new RuleSet();

/** Throws AuthFileError listing every bad line by number. */
export function parseAclFile(text: string, setting = "ACL_FILE"): Acl {
  const anonymous = new RuleSet();
  const users = new Map<string, RuleSet>();
  const fixedPatterns = new RuleSet();
  const clientPatterns: Rule[] = [];
  const problems: string[] = [];
  let section = anonymous;

  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [keyword, rest] = splitFirstWord(line);
    const problem = (message: string): void => void problems.push(`line ${index + 1}: ${message}`);
    if (keyword === "user") {
      if (rest === undefined) {
        problem("user needs a username");
        continue;
      }
      section = users.get(rest) ?? new RuleSet();
      users.set(rest, section);
      continue;
    }
    if (keyword !== "topic" && keyword !== "pattern") {
      problem(`unknown keyword ${JSON.stringify(keyword)} (expected topic, pattern or user)`);
      continue;
    }
    const rule = parseRule(rest);
    if (typeof rule === "string") problem(`${keyword}: ${rule}`);
    else if (keyword === "topic") section.add(rule);
    else if (hasPlaceholder(rule.filter, mosquittoPlaceholders)) clientPatterns.push(rule);
    else fixedPatterns.add(rule);
  }
  if (problems.length > 0) throw new AuthFileError(setting, problems);

  return authorizerFrom((identity) => {
    const own = identity.username === undefined ? anonymous : (users.get(identity.username) ?? noRules);
    return rightsOf([own, fixedPatterns, patternsFor(identity, clientPatterns)]);
  });
}

/** "[access] filter" after `topic` or `pattern`, or what is wrong with it. */
function parseRule(text: string | undefined): Rule | string {
  if (text === undefined) return "needs a topic filter";
  const [first, rest] = splitFirstWord(text);
  const access = rest === undefined ? "readwrite" : first;
  const filter = rest ?? first;
  if (!ruleAccesses.includes(access)) {
    return `unknown access ${JSON.stringify(access)} (expected read, write, readwrite or deny)`;
  }
  if (!isValidTopicFilter(filter)) return `invalid topic filter ${JSON.stringify(filter)}`;
  return { access: access as RuleAccess, filter };
}

function splitFirstWord(text: string): [string, string | undefined] {
  const match = /^(\S+)\s+(.*)$/.exec(text);
  return match ? [match[1]!, match[2]!.trim()] : [text, undefined];
}

function patternsFor(identity: Identity, patterns: readonly Rule[]): RuleSet {
  if (patterns.length === 0) return noRules;
  const own = new RuleSet();
  for (const { access, filter } of patterns) {
    const expanded = expandPlaceholders(filter, identity, mosquittoPlaceholders);
    if (expanded !== undefined) own.add({ access, filter: expanded });
  }
  return own;
}

function rightsOf(ruleSets: readonly RuleSet[]): TopicRights {
  const sets = ruleSets.filter((set) => !set.isEmpty);
  return {
    check(access: Access, topicOrFilter: string): boolean {
      if (access === "subscribe") {
        if (sets.some((set) => set.deny.coversFilter(topicOrFilter))) return false;
        return sets.some((set) => set.read.coversFilter(topicOrFilter));
      }
      if (sets.some((set) => set.deny.matchesTopic(topicOrFilter))) return false;
      return sets.some((set) => set[access].matchesTopic(topicOrFilter));
    },
  };
}
