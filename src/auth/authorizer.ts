/**
 * The one question every authorization source answers: may this client do this with this topic?
 * The ACL file, a JWT's `acl` claim and "no restrictions" all plug into a session the same way.
 */

/**
 * - `read`: receive a message published on a topic (checked at delivery, topic vs rule filter);
 * - `write`: publish to a topic;
 * - `subscribe`: subscribe with a filter (the filter must stay inside what a rule allows).
 */
export type Access = "read" | "write" | "subscribe";

/** Who a connection is, as the rules see it. */
export interface Identity {
  clientId: string;
  /** Absent for clients that connected without a username. */
  username?: string;
}

/** One client's rights with its username and client id already substituted: built once per connection. */
export interface TopicRights {
  check(access: Access, topicOrFilter: string): boolean;
}

/** A source of rules for every client. */
export interface Authorizer {
  /** Convenience for one-off checks; a session should keep `forClient(identity)` instead. */
  check(identity: Identity, access: Access, topicOrFilter: string): boolean;
  forClient(identity: Identity): TopicRights;
}

/** Builds an Authorizer from its per-connection form, so `check` and `forClient` never disagree. */
export function authorizerFrom(forClient: (identity: Identity) => TopicRights): Authorizer {
  return {
    check: (identity, access, topicOrFilter) => forClient(identity).check(access, topicOrFilter),
    forClient,
  };
}

export const everythingAllowed: TopicRights = { check: () => true };

/** Used when no ACL is configured at all: mosquitto without acl_file allows every topic. */
export const allowEverything: Authorizer = authorizerFrom(() => everythingAllowed);

/** Rights that allow only what every one of `rights` allows (ACL file and JWT claim together). */
export function allRightsOf(rights: readonly TopicRights[]): TopicRights {
  if (rights.length === 0) return everythingAllowed;
  if (rights.length === 1) return rights[0]!;
  return { check: (access, topicOrFilter) => rights.every((r) => r.check(access, topicOrFilter)) };
}

/** An Authorizer that allows only what every one of `authorizers` allows. */
export function allOf(authorizers: readonly Authorizer[]): Authorizer {
  return authorizerFrom((identity) => allRightsOf(authorizers.map((a) => a.forClient(identity))));
}
