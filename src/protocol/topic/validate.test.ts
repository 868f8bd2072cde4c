import { describe, expect, it } from "vitest";
import { beyondTopicLimits, hasControlCharacter, hasWildcard, isValidTopicFilter, isValidTopicName, utf8Length } from "./validate.js";

describe("isValidTopicName", () => {
  it.each(["sport/tennis/player1", "sport", "/", "/finance", "finance/", "a//b", "$SYS/broker/load", "caf\u00e9/\u4e2d", " "])("accepts %j", (topic) => {
    expect(isValidTopicName(topic)).toBe(true);
  });

  it("rejects the empty string [MQTT-4.7.3-1]", () => {
    expect(isValidTopicName("")).toBe(false);
  });

  it("rejects U+0000 anywhere [MQTT-4.7.3-2]", () => {
    expect(isValidTopicName("\u0000")).toBe(false);
    expect(isValidTopicName("a/\u0000/b")).toBe(false);
    expect(isValidTopicName("abc\u0000")).toBe(false);
  });

  it.each(["sport/#", "#", "+", "sport/+/player1", "sport+", "a#b", "+/x"])("rejects wildcard characters in %j [MQTT-3.3.2-2], [MQTT-4.7.1-1]", (topic) => {
    expect(isValidTopicName(topic)).toBe(false);
  });
});

describe("isValidTopicFilter", () => {
  it.each(["sport/tennis/player1", "sport/tennis/#", "sport/#", "#", "+", "+/+", "/+", "+/tennis/#", "sport/+/player1", "sport/+", "$SYS/#", "/", "a//b"])("accepts %j", (filter) => {
    expect(isValidTopicFilter(filter)).toBe(true);
  });

  it("rejects the empty string [MQTT-4.7.3-1]", () => {
    expect(isValidTopicFilter("")).toBe(false);
  });

  it("rejects U+0000 [MQTT-4.7.3-2]", () => {
    expect(isValidTopicFilter("a/\u0000")).toBe(false);
    expect(isValidTopicFilter("\u0000/#")).toBe(false);
  });

  it.each(["sport/tennis#", "sport/#/ranking", "#/", "#/a", "##", "a/#b", "a/b#"])("rejects %j: '#' must stand alone as the last level [MQTT-4.7.1-2]", (filter) => {
    expect(isValidTopicFilter(filter)).toBe(false);
  });

  it.each(["sport+", "+sport", "sport/+tennis", "a/++", "a/+b/c", "++"])("rejects %j: '+' must occupy a whole level [MQTT-4.7.1-3]", (filter) => {
    expect(isValidTopicFilter(filter)).toBe(false);
  });
});

describe("hasWildcard", () => {
  it("is true for filters with '+' or '#'", () => {
    expect(hasWildcard("a/+")).toBe(true);
    expect(hasWildcard("#")).toBe(true);
    expect(hasWildcard("a/b/#")).toBe(true);
  });

  it("is false for literal filters, including '$' ones", () => {
    expect(hasWildcard("a/b")).toBe(false);
    expect(hasWildcard("$SYS/x")).toBe(false);
    expect(hasWildcard("/")).toBe(false);
  });
});

describe("the broker's topic limits", () => {
  const limits = { maxTopicBytes: 10, maxTopicLevels: 3 };
  it("counts UTF-8 bytes and levels", () => {
    expect(beyondTopicLimits("a/b/c", limits)).toBeNull();
    expect(beyondTopicLimits("a/b/c/d", limits)).toBe("more than 3 levels (MAX_TOPIC_LEVELS)");
    expect(beyondTopicLimits("abcdefghij", limits)).toBeNull();
    expect(beyondTopicLimits("abcdefghijk", limits)).toBe("longer than 10 bytes (MAX_TOPIC_LENGTH)");
    expect(beyondTopicLimits("ééééé", limits)).toBeNull();
    expect(beyondTopicLimits("éééééé", limits)).toBe("longer than 10 bytes (MAX_TOPIC_LENGTH)");
  });

  it("utf8Length agrees with TextEncoder", () => {
    for (const s of ["", "abc", "é€", "😀x", "a\u0000b"]) expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length);
  });

  it("finds control characters", () => {
    expect(hasControlCharacter("sensor-1")).toBe(false);
    expect(hasControlCharacter("\u0001wildcard")).toBe(true);
    expect(hasControlCharacter("a\u007fb")).toBe(true);
    expect(hasControlCharacter("a\u0085b")).toBe(true);
    expect(hasControlCharacter("émile")).toBe(false);
  });
});
