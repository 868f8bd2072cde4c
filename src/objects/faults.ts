/**
 * Test-only fault injection: the fault tests make a session object or a topic shard reset in the
 * middle of fan-out, delay the wildcard path, or lose the reply to a delivery, at a message they
 * choose by its topic. Off unless the runtime has a `FAULTS` binding (a JSON object: only the
 * tests set it; it is not a setting of the broker and wrangler.toml does not list it). Each fault
 * fires once per object, remembered in storage so a reset object does not fire it again.
 */
import type { Delivery, Message } from "../protocol/message.js";
import type { SyncKv } from "../storage/sync-kv.js";

export interface FaultPlan {
  /** A session object resets (ctx.abort) when a delivery with a topic starting with this reaches it. */
  resetSessionOn?: string;
  /** A session object stores a delivery, then its reply is lost (the call fails). */
  loseDeliveryReplyOn?: string;
  /** The session core throws after it applied a delivery with such a topic (review F13: all or nothing). */
  throwInDeliverOn?: string;
  /** A topic shard resets when a publish with a topic starting with this reaches it, before storing. */
  resetShardOn?: string;
  /** The wildcard shard resets when a forward with such a topic reaches it, before storing. */
  resetWildcardOn?: string;
  /** Forwards to the wildcard shard with such a topic take this long. */
  delayForward?: { prefix: string; ms: number };
}

const FIRED = "fault:";

export class Faults {
  private constructor(
    private readonly plan: FaultPlan,
    private readonly kv: SyncKv,
  ) {}

  static from(raw: unknown, kv: SyncKv): Faults | null {
    if (typeof raw !== "string" || raw === "") return null;
    return new Faults(JSON.parse(raw) as FaultPlan, kv);
  }

  /** True once per object for the first delivery or publish whose topic matches the fault. */
  fires(fault: keyof FaultPlan, topics: { topic: string }[]): boolean {
    const prefix = fault === "delayForward" ? this.plan.delayForward?.prefix : (this.plan[fault] as string | undefined);
    if (prefix === undefined || !topics.some((m) => m.topic.startsWith(prefix))) return false;
    if (this.kv.get(FIRED + fault) !== undefined) return false;
    this.kv.put(FIRED + fault, 1);
    console.log(`FAULT ${fault} on ${topics.map((m) => m.topic).join(",")}`);
    return true;
  }

  delayMs(deliveries: Delivery[]): number {
    const d = this.plan.delayForward;
    return d && deliveries.some((x) => x.message.topic.startsWith(d.prefix)) ? d.ms : 0;
  }
}

export const topicsOf = (deliveries: Delivery[]): Message[] => deliveries.map((d) => d.message);
