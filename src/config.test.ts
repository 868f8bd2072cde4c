import { describe, expect, it } from "vitest";
import { BROKER_LIMIT_SETTINGS, ConfigError, loadConfig, MAX_STORABLE_PACKET, readBrokerConfig } from "./config.js";

describe("loadConfig", () => {
  it("gives the documented defaults without settings", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      maxPacketSize: 1048576,
      maxQueuedMessages: 100000,
      maxInflight: 64,
      maximumQoS: 2,
      retainAvailable: true,
      responseInformation: "response/",
      connectTimeoutMs: 10_000,
    });
  });

  it("reads integers given as strings or (unquoted in wrangler.toml) as numbers", () => {
    expect(loadConfig({ MAX_PACKET_SIZE: "100000" }).maxPacketSize).toBe(100000);
    expect(loadConfig({ MAX_PACKET_SIZE: 100000 } as never).maxPacketSize).toBe(100000);
  });

  it("names the setting, its range and the value it got", () => {
    expect(() => loadConfig({ MAX_PACKET_SIZE: "abc" })).toThrow(new ConfigError(`MAX_PACKET_SIZE must be an integer from 64 to ${MAX_STORABLE_PACKET}, got "abc"`));
    expect(() => loadConfig({ RETAIN_AVAILABLE: "yes" })).toThrow('RETAIN_AVAILABLE must be "true" or "false", got "yes"');
    expect(() => loadConfig({ RETAIN_AVAILABLE: true } as never)).toThrow('RETAIN_AVAILABLE must be "true" or "false", got true');
    expect(() => loadConfig({ MAXIMUM_QOS: "3" })).toThrow("MAXIMUM_QOS must be an integer from 0 to 2");
    expect(() => loadConfig({ MAX_INFLIGHT: " " })).toThrow("MAX_INFLIGHT must be an integer from 1 to 65535");
  });

  it("names every bad setting at once, in one ConfigError", () => {
    let error: unknown;
    try {
      loadConfig({ MAX_QUEUED_MESSAGES: "-1", MAX_INFLIGHT: "1.5", SHARED_SUBSCRIPTIONS: "no" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      'MAX_QUEUED_MESSAGES must be an integer from 1 to 10000000, got "-1"; MAX_INFLIGHT must be an integer from 1 to 65535, got "1.5"; SHARED_SUBSCRIPTIONS must be "true" or "false", got "no"',
    );
    const result = readBrokerConfig({ MAX_QUEUED_MESSAGES: "-1", MAX_INFLIGHT: "1.5" });
    expect(result.ok ? [] : result.errors).toHaveLength(2);
  });

  it("checks that a packet it accepts fits a publish burst", () => {
    expect(() => loadConfig({ MAX_PACKET_SIZE: "1000000", MAX_PUBLISH_BYTES_PER_SECOND: "1024" })).toThrow("MAX_PUBLISH_BYTES_PER_SECOND (1024) must be at least half of MAX_PACKET_SIZE (1000000)");
  });

  it("lists every setting it reads", () => {
    expect(BROKER_LIMIT_SETTINGS).toHaveLength(25);
    const bad = Object.fromEntries(BROKER_LIMIT_SETTINGS.filter((n) => n !== "RESPONSE_INFORMATION").map((n) => [n, "x"]));
    const result = readBrokerConfig(bad);
    expect(result.ok ? [] : result.errors).toHaveLength(BROKER_LIMIT_SETTINGS.length - 1);
  });
});
