import { describe, expect, it } from "vitest";
import { filterProblem, topicMatches, topicProblem } from "./topic-match.js";

describe("topic rules", () => {
  it("matches + and # as MQTT does", () => {
    expect(topicMatches("a/+/c", "a/b/c")).toBe(true);
    expect(topicMatches("a/+/c", "a/b/d/c")).toBe(false);
    expect(topicMatches("a/#", "a")).toBe(true);
    expect(topicMatches("a/#", "a/b/c")).toBe(true);
    expect(topicMatches("#", "$SYS/x")).toBe(false);
    expect(topicMatches("+/x", "$SYS/x")).toBe(false);
    expect(topicMatches("$SYS/#", "$SYS/x")).toBe(true);
    expect(topicMatches("$share/g/a/+", "a/b")).toBe(true);
    expect(topicMatches("a", "a/b")).toBe(false);
  });

  it("explains bad filters and topic names", () => {
    expect(filterProblem("a/#/b")).toMatch(/#/);
    expect(filterProblem("a/b+")).toMatch(/\+/);
    expect(filterProblem("$share/g")).toMatch(/share/);
    expect(filterProblem("a/+/#")).toBeUndefined();
    expect(topicProblem("a/+")).toMatch(/wildcards/);
    expect(topicProblem("")).toMatch(/empty/);
  });
});
