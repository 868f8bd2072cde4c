import { describe, expect, it } from "vitest";
import { filterCovers } from "./filter-covers.js";

// Expectations follow mosquitto's mosquitto_sub_matches_acl() (libcommon/topic_common.c, 2.1)
// and the examples in its header (include/mosquitto/libcommon_topic.h).
describe("filterCovers (subscription filter inside a rule filter)", () => {
  it("a literal rule covers only the same literal filter", () => {
    expect(filterCovers("a/b", "a/b")).toBe(true);
    expect(filterCovers("a/b", "a/c")).toBe(false);
    expect(filterCovers("a/b", "a/b/c")).toBe(false);
    expect(filterCovers("a/b", "a")).toBe(false);
    expect(filterCovers("a/b", "a/+")).toBe(false);
    expect(filterCovers("a/b", "a/#")).toBe(false);
  });

  it("'#' in the rule covers the parent level and anything below, wildcards included", () => {
    expect(filterCovers("a/#", "a/+/c")).toBe(true);
    expect(filterCovers("a/#", "a/#")).toBe(true);
    expect(filterCovers("a/#", "a/b/#")).toBe(true);
    expect(filterCovers("a/#", "a")).toBe(true);
    expect(filterCovers("a/#", "b/#")).toBe(false);
    expect(filterCovers("a/#", "#")).toBe(false);
    expect(filterCovers("#", "#")).toBe(true);
    expect(filterCovers("#", "+/x/#")).toBe(true);
  });

  it("'+' in the rule covers one level, also '+', never '#'", () => {
    expect(filterCovers("a/+", "a/b")).toBe(true);
    expect(filterCovers("a/+", "a/+")).toBe(true);
    expect(filterCovers("a/+", "a/#")).toBe(false);
    expect(filterCovers("a/+", "a/b/c")).toBe(false);
    expect(filterCovers("a/+", "a")).toBe(false);
    expect(filterCovers("+", "#")).toBe(false);
    expect(filterCovers("a/+/#", "a/b")).toBe(true);
    expect(filterCovers("a/+/#", "a")).toBe(false);
  });

  it("'$' filters are covered only by rules that start with '$'", () => {
    expect(filterCovers("$SYS/#", "$SYS/broker/#")).toBe(true);
    expect(filterCovers("$SYS/broker/uptime", "$SYS/broker/#")).toBe(false);
    expect(filterCovers("#", "$SYS/#")).toBe(false);
    expect(filterCovers("+/broker", "$SYS/broker")).toBe(false);
    expect(filterCovers("$SYS/#", "a/#")).toBe(false);
  });

  it("empty levels are levels", () => {
    expect(filterCovers("/+", "/a")).toBe(true);
    expect(filterCovers("+/+", "/finance")).toBe(true);
    expect(filterCovers("+", "/finance")).toBe(false);
  });
});
