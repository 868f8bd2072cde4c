/**
 * Who a topic shard delivers to: a client's session, a shared-subscription group (one member
 * takes each message), or the wildcard shard (one more durable recipient of a topic shard's
 * fan-out). Recipients are encoded to a key only at the storage boundary, with a kind prefix, so
 * no client id can ever be taken for an internal recipient (review finding F1).
 */

export type Recipient = { kind: "client"; clientId: string } | { kind: "group"; share: string } | { kind: "wildcard" };

export type RecipientKey = string;

export const client = (clientId: string): Recipient => ({ kind: "client", clientId });
export const group = (share: string): Recipient => ({ kind: "group", share });
export const WILDCARD: Recipient = { kind: "wildcard" };

export function recipientKey(r: Recipient): RecipientKey {
  switch (r.kind) {
    case "client":
      return `c:${r.clientId}`;
    case "group":
      return `g:${r.share}`;
    case "wildcard":
      return "w:";
  }
}

export function parseRecipient(key: RecipientKey): Recipient {
  const rest = key.slice(2);
  switch (key.slice(0, 2)) {
    case "c:":
      return client(rest);
    case "g:":
      return group(rest);
    case "w:":
      return WILDCARD;
    default:
      throw new Error(`not a recipient key: ${JSON.stringify(key)}`);
  }
}

export function describe(r: Recipient): string {
  return r.kind === "client" ? r.clientId : r.kind === "group" ? `group ${r.share}` : "the wildcard shard";
}
