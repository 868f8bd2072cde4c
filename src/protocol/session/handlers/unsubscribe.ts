/** UNSUBSCRIBE (MQTT §3.10): forget the filters, tell the shards, then UNSUBACK. */
import type { IUnsubscribePacket } from "mqtt-packet";
import type { Action } from "../../actions.js";
import { ProtocolError, Reason } from "../../errors.js";
import { hasOwn } from "../own-keys.js";
import { send, type Session } from "../session.js";
import type { ConnectionState } from "../state.js";

/** UNSUBACK reason code 0x11 (MQTT 5 §3.11.3). */
const NO_SUBSCRIPTION_EXISTED = 0x11;

export function handleUnsubscribe(s: Session, conn: ConnectionState, packet: IUnsubscribePacket, now: number): Action[] {
  // Guard: at least one filter [MQTT-3.10.3-2].
  if (packet.unsubscriptions.length === 0) throw new ProtocolError(Reason.ProtocolError, "UNSUBSCRIBE without filters");
  const record = s.record!;
  // In order, as separate UNSUBSCRIBEs: a filter named twice exists only the first time.
  const known: string[] = [];
  const reasons = packet.unsubscriptions.map((filter) => {
    if (!hasOwn(record.subscriptions, filter)) return NO_SUBSCRIPTION_EXISTED;
    // Messages published before now may still be on their way for it (see RecentSubscriptions).
    s.recentSubscriptions.end(filter, record.subscriptions[filter]!, now);
    delete record.subscriptions[filter];
    known.push(filter);
    return Reason.Success;
  });
  s.saveRecord();
  // UNSUBACK even when no filter matched [MQTT-3.10.4-5]; MQTT 5 says which ones did.
  const unsuback = send(conn, { cmd: "unsuback", messageId: packet.messageId!, granted: conn.version === 5 ? reasons : [] });
  if (known.length === 0) return [unsuback];
  // UNSUBACK once the shards let go of the filters (see `Session.unsubscribed`).
  return [{ type: "unsubscribe", clientId: conn.clientId, filters: known, unsubscribeId: s.awaitShardCall({ kind: "unsubscribe", unsuback }) }];
}
