/**
 * Topic shards forward to the wildcard shard only while it has subscribers. A first-level
 * wildcard subscription must see every publish after its SUBACK, whatever the shards believed
 * before (MQTT 3.1.1 §4.7.1.2, §4.7.1.3); retained messages reach it regardless.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, startBroker } from "../helpers/broker.js";
import { collect, connect, connectWithInbox, quiet } from "../helpers/clients.js";
import { eventually } from "../helpers/eventually.js";

let broker: Broker;
beforeAll(async () => {
  // A broker of its own: no other test's wildcard subscriptions.
  broker = await startBroker();
});
afterAll(() => broker.stop());

describe("forwarding to the wildcard shard", () => {
  it("delivers to a new '#' subscriber after its topic shards had stopped forwarding, and again after it left and came back", async () => {
    const pub = await connect(broker.mqttUrl);
    // No wildcard subscriber yet: the shards of a/ and b/ learn the wildcard shard is idle.
    await pub.publishAsync("a/1", "unseen", { qos: 1 });
    await pub.publishAsync("b/1", "unseen", { qos: 0 });
    await quiet(300); // no event to wait for: time for the shards to hear that the wildcard shard is idle

    const sub = await connect(broker.mqttUrl);
    await sub.subscribeAsync("#", { qos: 1 });
    const inbox = collect(sub);
    await pub.publishAsync("a/2", "after suback", { qos: 1 });
    await pub.publishAsync("b/2", "after suback", { qos: 0 });
    const got = await inbox.count(2);
    expect(got.map((m) => m.topic).sort()).toEqual(["a/2", "b/2"]);

    await sub.unsubscribeAsync("#");
    await pub.publishAsync("a/3", "nobody", { qos: 1 });
    await quiet(300); // proves a/3, published while nobody listened, is not delivered to the next subscription
    await sub.subscribeAsync("+/+", { qos: 1 });
    await pub.publishAsync("a/4", "back", { qos: 1 });
    expect((await inbox.next()).topic).toBe("a/4");
    await quiet(200); // proves a/3 never arrives
    expect(inbox.messages.map((m) => m.topic)).not.toContain("a/3");
    await Promise.all([pub.endAsync(), sub.endAsync()]);
  });

  it("keeps retained messages for wildcard subscribers even while no wildcard subscription exists", async () => {
    const pub = await connect(broker.mqttUrl);
    await pub.publishAsync("c/status", "retained while idle", { qos: 1, retain: true });
    // The wildcard shard's mirror has it once the topic shard released it.
    await eventually(async () => (await broker.stats("shards", "t/c")).pendingDurable === 0);
    const { client, inbox } = await connectWithInbox(broker.mqttUrl);
    await client.subscribeAsync("+/status", { qos: 1 });
    expect(await inbox.next()).toMatchObject({ topic: "c/status", payload: "retained while idle", retain: true });
    await Promise.all([pub.endAsync(), client.endAsync()]);
  });
});
