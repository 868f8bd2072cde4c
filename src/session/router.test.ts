/** The session's router: a subscription is registered only after the publishes routed before it were accepted [MQTT-4.5.0-1]. */
import { describe, expect, it } from "vitest";
import type { Env } from "../env.js";
import type { Message } from "../protocol/message.js";
import { ShardRouter } from "./router.js";

const message = (topic: string): Message => ({ topic, payload: new Uint8Array(1), qos: 0, retain: false, origin: "c1" });
const tick = () => new Promise((r) => setTimeout(r, 0));

/** Shards whose publish calls wait until the test lets them finish; every call is logged. */
function fakeShards() {
  const calls: string[] = [];
  const pending: (() => void)[] = [];
  const ns = {
    idFromName: (key: string) => key,
    get: (key: string) => ({
      publish: (_key: string, messages: Message[]) => {
        calls.push(`publish ${key} ${messages.map((m) => m.topic).join(",")}`);
        return new Promise<void>((resolve) =>
          pending.push(() => {
            calls.push(`accepted ${key}`);
            resolve();
          }),
        );
      },
      subscribe: async (_key: string, _clientId: string, items: { filter: string }[]) => {
        calls.push(`subscribe ${key} ${items.map((i) => i.filter).join(",")}`);
        return items.map(() => ({ messages: [] }));
      },
    }),
  } as unknown as Env["SHARDS"];
  return {
    ns,
    calls,
    accept: () => {
      for (const f of pending.splice(0)) f();
    },
  };
}

describe("ShardRouter.subscribe [MQTT-4.5.0-1]", () => {
  it("registers a filter at its shard only once the publishes routed there before were accepted", async () => {
    const { ns, calls, accept } = fakeShards();
    const router = new ShardRouter(ns);
    void router.publish(message("a/1"));
    void router.publish(message("a/2")); // waits for the first call: batched in the next one
    const subscribed = router.subscribe("c1", [{ filter: "a/#", qos: 0, retained: true }]);
    await tick();
    expect(calls).toEqual(["publish t/a a/1"]);
    accept();
    await tick();
    expect(calls).toEqual(["publish t/a a/1", "accepted t/a", "publish t/a a/2"]);
    accept();
    await subscribed;
    expect(calls.slice(3)).toEqual(["accepted t/a", "subscribe t/a a/#"]);
  });

  it("does not wait for other shards, except for a filter of the wildcard shard, which waits for all", async () => {
    const { ns, calls, accept } = fakeShards();
    const router = new ShardRouter(ns);
    void router.publish(message("a/1"));
    await router.subscribe("c1", [{ filter: "b/#", qos: 0, retained: true }]);
    expect(calls).toEqual(["publish t/a a/1", "subscribe t/b b/#"]);
    const wildcard = router.subscribe("c1", [{ filter: "+/1", qos: 0, retained: true }]);
    await tick();
    expect(calls).toHaveLength(2);
    accept();
    await wildcard;
    expect(calls.slice(2)).toEqual(["accepted t/a", "subscribe # +/1"]);
  });

  it("publishes never wait for one another beyond the one call in flight per shard", async () => {
    const { ns, calls } = fakeShards();
    const router = new ShardRouter(ns);
    void router.publish(message("a/1"));
    void router.publish(message("b/1"));
    await tick();
    expect(calls).toEqual(["publish t/a a/1", "publish t/b b/1"]);
  });
});
