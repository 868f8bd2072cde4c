import { describe, expect, it } from "vitest";
import { topicMatches } from "./match.js";
import { isShardKey, shardForFilter, shardForTopic, shardsForPublish, WILDCARD_SHARD } from "./shard-key.js";

describe("shard keys", () => {
  it("names a topic's shard by its first level", () => {
    expect(shardForTopic("sport/tennis/player1")).toBe("t/sport");
    expect(shardForTopic("sport")).toBe("t/sport");
    expect(shardForTopic("/finance")).toBe("t/");
    expect(shardForTopic("$SYS/broker")).toBe("t/$SYS");
  });

  it("puts a filter with a literal first level in that level's shard", () => {
    expect(shardForFilter("sport/tennis/+")).toBe("t/sport");
    expect(shardForFilter("sport/#")).toBe("t/sport");
    expect(shardForFilter("sport")).toBe("t/sport");
    expect(shardForFilter("$SYS/#")).toBe("t/$SYS");
    expect(shardForFilter("/+")).toBe("t/");
  });

  it("recognises shard names: every key it gives, and not the empty name", () => {
    for (const key of [shardForTopic("a/b"), shardForTopic("/x"), shardForFilter("#"), shardForTopic("$SYS/x")]) expect(isShardKey(key)).toBe(true);
    expect(isShardKey("")).toBe(false);
    expect(isShardKey("sport")).toBe(false);
  });

  it("puts filters starting with a wildcard in the wildcard shard", () => {
    expect(shardForFilter("#")).toBe(WILDCARD_SHARD);
    expect(shardForFilter("+")).toBe(WILDCARD_SHARD);
    expect(shardForFilter("+/tennis/#")).toBe(WILDCARD_SHARD);
  });

  it("puts a shared subscription with its inner filter (MQTT 5 §4.8.2)", () => {
    expect(shardForFilter("$share/g/sport/#")).toBe("t/sport");
    expect(shardForFilter("$share/g/#")).toBe(WILDCARD_SHARD);
    expect(shardForFilter("$share/g/+/x")).toBe(WILDCARD_SHARD);
  });

  it("the wildcard shard cannot be a topic's shard", () => {
    for (const topic of ["#", "a", "", "/"]) expect(shardForTopic(topic)).not.toBe(WILDCARD_SHARD);
  });

  it("a publish reaches its topic's shard and the wildcard shard", () => {
    expect(shardsForPublish("sport/tennis")).toEqual(["t/sport", WILDCARD_SHARD]);
  });

  it("a publish to a '$' topic does not go to the wildcard shard [MQTT-4.7.2-1]", () => {
    expect(shardsForPublish("$SYS/broker/load")).toEqual(["t/$SYS"]);
    expect(shardsForPublish("$x")).toEqual(["t/$x"]);
  });

  it("every filter matching a topic lives in a shard the publish reaches", () => {
    const filters = ["#", "+", "+/+", "+/#", "a/#", "a/+", "a", "a/b", "/+", "+/b", "$SYS/#", "$SYS/+", "$x", "b/+/c"];
    const topics = ["a", "a/b", "b", "b/x/c", "/b", "/", "$SYS", "$SYS/load", "$x", "a/b/c"];
    let pairs = 0;
    for (const filter of filters) {
      for (const topic of topics) {
        if (!topicMatches(filter, topic)) continue;
        pairs++;
        expect(shardsForPublish(topic), `${filter} ~ ${topic}`).toContain(shardForFilter(filter));
      }
    }
    expect(pairs).toBeGreaterThan(20);
  });
});
