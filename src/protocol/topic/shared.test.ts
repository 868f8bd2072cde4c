import { describe, expect, it } from "vitest";
import { isShared, parseShared } from "./shared.js";

describe("shared subscription filters (MQTT 5 §4.8.2)", () => {
  it("recognises the $share/ prefix", () => {
    expect(isShared("$share/g/a")).toBe(true);
    expect(isShared("$SHARE/g/a")).toBe(false);
    expect(isShared("$shared/g/a")).toBe(false);
    expect(isShared("a/$share/g")).toBe(false);
  });

  it("splits the share name and the filter", () => {
    expect(parseShared("$share/consumers/sport/tennis/+")).toEqual({ group: "consumers", filter: "sport/tennis/+" });
    expect(parseShared("$share/g/#")).toEqual({ group: "g", filter: "#" });
    expect(parseShared("$share/g//")).toEqual({ group: "g", filter: "/" });
  });

  it("is null for a filter that is not shared", () => {
    expect(parseShared("sport/#")).toBeNull();
  });

  it("rejects an empty share name or one with wildcards [MQTT-4.8.2-1], [MQTT-4.8.2-2]", () => {
    expect(parseShared("$share//a")).toBeNull();
    expect(parseShared("$share/g+/a")).toBeNull();
    expect(parseShared("$share/#/a")).toBeNull();
    expect(parseShared("$share/+/a")).toBeNull();
  });

  it("needs a '/' and a valid filter after the share name [MQTT-4.8.2-2]", () => {
    expect(parseShared("$share/g")).toBeNull();
    expect(parseShared("$share/g/")).toBeNull();
    expect(parseShared("$share/g/a/#/b")).toBeNull();
    expect(parseShared("$share/g/a+")).toBeNull();
  });
});
