/** Durability: what was acknowledged survives a restart of the runtime (state on disk). */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, startBroker } from "../helpers/broker.js";
import { connect, connectWithInbox, uniqueId } from "../helpers/clients.js";
import { eventually } from "../helpers/eventually.js";

let broker: Broker;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mqtt-restart-"));
  broker = await startBroker({ persistDir: dir });
});
afterAll(async () => {
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("runtime restart", () => {
  it("keeps a persistent session, its subscriptions and its queued messages [MQTT-3.1.2-4] [MQTT-3.1.2-5]", async () => {
    const id = uniqueId("restart");
    const topic = `restart/${id}`;
    const sub = await connect(broker.mqttUrl, { clientId: id, clean: false });
    await sub.subscribeAsync(topic, { qos: 1 });
    await sub.endAsync();
    const pub = await connect(broker.mqttUrl);
    await pub.publishAsync(topic, "before restart", { qos: 1 });
    await pub.endAsync();
    await eventually(async () => (await broker.stats("sessions", id)).queued === 1); // stored in the offline session

    await broker.restart();

    const { client, inbox } = await connectWithInbox(broker.mqttUrl, { clientId: id, clean: false });
    expect((await inbox.next()).payload).toBe("before restart");
    // The subscription itself survived too.
    const pub2 = await connect(broker.mqttUrl);
    await pub2.publishAsync(topic, "after restart", { qos: 1 });
    expect((await inbox.next()).payload).toBe("after restart");
    await Promise.all([client.endAsync(), pub2.endAsync()]);
  });

  it("keeps retained messages", async () => {
    const topic = `restart/retained/${uniqueId()}`;
    const pub = await connect(broker.mqttUrl);
    await pub.publishAsync(topic, "durable", { qos: 1, retain: true });
    await pub.endAsync();

    await broker.restart();

    const { client, inbox } = await connectWithInbox(broker.mqttUrl);
    await client.subscribeAsync(topic, { qos: 1 });
    expect(await inbox.next()).toMatchObject({ payload: "durable", retain: true });
    await client.endAsync();
  });

  it("delivers every acknowledged QoS 1 message when the runtime stops right after the PUBACKs", async () => {
    const id = uniqueId("burst");
    const topic = `restart/burst/${id}`;
    const sub = await connect(broker.mqttUrl, { clientId: id, clean: false });
    await sub.subscribeAsync(topic, { qos: 1 });
    await sub.endAsync();
    const pub = await connect(broker.mqttUrl);
    const sent = Array.from({ length: 50 }, (_, i) => `m${i}`);
    await Promise.all(sent.map((m) => pub.publishAsync(topic, m, { qos: 1 })));
    pub.end(true);
    // No pause: fan-out from the shard may still be under way when the runtime goes down.
    await broker.restart();

    const { client, inbox } = await connectWithInbox(broker.mqttUrl, { clientId: id, clean: false });
    const got = await inbox.count(50, 15_000);
    expect(new Set(got.map((m) => m.payload))).toEqual(new Set(sent));
    await client.endAsync();
  });
});
