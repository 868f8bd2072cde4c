import { describe, expect, it } from "vitest";
import { literalPrefix, topicMatches } from "./match.js";

describe("topicMatches", () => {
  it("matches identical literal topics only (case-sensitive) [MQTT-4.7.3-4]", () => {
    expect(topicMatches("sport/tennis", "sport/tennis")).toBe(true);
    expect(topicMatches("sport/tennis", "Sport/Tennis")).toBe(false);
    expect(topicMatches("sport/tennis", "sport/tennis/player1")).toBe(false);
    expect(topicMatches("sport/tennis/player1", "sport/tennis")).toBe(false);
    expect(topicMatches("a/b", "a/b/")).toBe(false);
  });

  it("'#' matches the parent level and any number of child levels (MQTT 3.1.1 §4.7.1.2)", () => {
    expect(topicMatches("sport/tennis/player1/#", "sport/tennis/player1")).toBe(true);
    expect(topicMatches("sport/tennis/player1/#", "sport/tennis/player1/ranking")).toBe(true);
    expect(topicMatches("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon")).toBe(true);
    expect(topicMatches("sport/#", "sport")).toBe(true);
    expect(topicMatches("sport/#", "sport/")).toBe(true);
    expect(topicMatches("sport/#", "sports")).toBe(false);
    expect(topicMatches("sport/#", "other/sport")).toBe(false);
  });

  it("'#' alone matches every non-'$' topic", () => {
    for (const topic of ["a", "a/b/c", "/", "/finance", "finance/"]) expect(topicMatches("#", topic)).toBe(true);
  });

  it("'+' matches exactly one level (MQTT 3.1.1 §4.7.1.3)", () => {
    expect(topicMatches("sport/tennis/+", "sport/tennis/player1")).toBe(true);
    expect(topicMatches("sport/tennis/+", "sport/tennis/player2")).toBe(true);
    expect(topicMatches("sport/tennis/+", "sport/tennis/player1/ranking")).toBe(false);
    expect(topicMatches("sport/+", "sport")).toBe(false);
    expect(topicMatches("sport/+", "sport/")).toBe(true);
    expect(topicMatches("+/tennis/#", "sport/tennis/player1")).toBe(true);
    expect(topicMatches("+", "sport")).toBe(true);
    expect(topicMatches("+", "sport/tennis")).toBe(false);
  });

  it("'+' matches empty levels: '/finance' matches '+/+' and '/+' but not '+'", () => {
    expect(topicMatches("+/+", "/finance")).toBe(true);
    expect(topicMatches("/+", "/finance")).toBe(true);
    expect(topicMatches("+", "/finance")).toBe(false);
    expect(topicMatches("+/+", "/")).toBe(true);
    expect(topicMatches("a/+/b", "a//b")).toBe(true);
  });

  it("wildcards at the first level do not match '$' topics [MQTT-4.7.2-1]", () => {
    expect(topicMatches("#", "$SYS/x")).toBe(false);
    expect(topicMatches("#", "$SYS")).toBe(false);
    expect(topicMatches("+/x", "$SYS/x")).toBe(false);
    expect(topicMatches("+/#", "$SYS/x")).toBe(false);
    expect(topicMatches("+", "$SYS")).toBe(false);
  });

  it("filters starting with '$' literally match '$' topics [MQTT-4.7.2-1]", () => {
    expect(topicMatches("$SYS/#", "$SYS/x")).toBe(true);
    expect(topicMatches("$SYS/#", "$SYS")).toBe(true);
    expect(topicMatches("$SYS/+", "$SYS/x")).toBe(true);
    expect(topicMatches("$SYS/monitor/+", "$SYS/monitor/Clients")).toBe(true);
    expect(topicMatches("$SYS/x", "$SYS/x")).toBe(true);
    expect(topicMatches("$SYS/#", "$OTHER/x")).toBe(false);
  });

  it("a '$' that is not at the start of the topic does not block wildcards", () => {
    expect(topicMatches("#", "a/$SYS")).toBe(true);
    expect(topicMatches("+/$x", "a/$x")).toBe(true);
  });
});

describe("literalPrefix", () => {
  it("is the whole filter when it has no wildcard", () => {
    expect(literalPrefix("sport/tennis")).toBe("sport/tennis");
    expect(literalPrefix("/")).toBe("/");
  });

  it("is the levels before the first wildcard", () => {
    expect(literalPrefix("sport/tennis/#")).toBe("sport/tennis");
    expect(literalPrefix("sport/+/player1")).toBe("sport");
    expect(literalPrefix("#")).toBe("");
    expect(literalPrefix("+/x")).toBe("");
    expect(literalPrefix("/+")).toBe("");
  });

  it("is a string prefix of every topic the filter matches", () => {
    const cases: [string, string][] = [
      ["sport/tennis/#", "sport/tennis"],
      ["sport/tennis/#", "sport/tennis/p1/r"],
      ["sport/+/player1", "sport/x/player1"],
      ["a/b/+", "a/b/"],
    ];
    for (const [filter, topic] of cases) {
      expect(topicMatches(filter, topic)).toBe(true);
      expect(topic.startsWith(literalPrefix(filter))).toBe(true);
    }
  });
});
