import { describe, expect, it } from "vitest";
import { KNOWN_SETTINGS, describeUnknown, nearestSetting, settingsErrors, unknownSettings } from "./settings.js";

describe("settingsErrors", () => {
  it("accepts the defaults and the local .dev.vars", () => {
    expect(settingsErrors({})).toEqual([]);
    expect(settingsErrors({ ALLOW_ANONYMOUS: "true", ALLOWED_ORIGINS: "*", ADMIN_TOKEN: "a", STATS_TOKEN: "s", GATEWAY_SECRET: "g", SYS_INTERVAL: "0", LOG_LEVEL: "debug" })).toEqual([]);
  });

  it("names every bad setting of every kind at once", () => {
    const errors = settingsErrors({
      MAX_PACKET_SIZE: "abc",
      MAX_INFLIGHT: "1.5",
      ALLOW_ANONYMOUS: "yes",
      JWT_SECRET: "short",
      ALLOWED_ORIGINS: "https://a.example/path",
      SYS_INTERVAL: "often",
      LOG_LEVEL: "verbose",
    });
    expect(errors).toEqual([
      expect.stringMatching(/^MAX_PACKET_SIZE must be an integer from 64 to \d+, got "abc"$/),
      'MAX_INFLIGHT must be an integer from 1 to 65535, got "1.5"',
      'ALLOW_ANONYMOUS must be "true" or "false", got "yes"',
      expect.stringContaining("JWT_SECRET must be at least 32 bytes"),
      expect.stringContaining('ALLOWED_ORIGINS: "https://a.example/path" is not an origin'),
      'SYS_INTERVAL must be an integer from 0 to 86400 (seconds; 0 = off), got "often"',
      'LOG_LEVEL must be one of debug, info, warn, error, got "verbose"',
    ]);
  });

  it("refuses values the runtime would not pass as text where text is needed", () => {
    expect(settingsErrors({ PASSWORD_FILE: 5, ADMIN_TOKEN: true })).toEqual(["PASSWORD_FILE must be a string, got 5", "ADMIN_TOKEN must be a string"]);
  });
});

describe("unknownSettings", () => {
  it("knows every setting the broker reads", () => {
    expect(unknownSettings(KNOWN_SETTINGS)).toEqual([]);
    expect(KNOWN_SETTINGS).toContain("MAX_PACKET_SIZE");
    expect(KNOWN_SETTINGS).toContain("JWT_AUDIENCE");
    expect(KNOWN_SETTINGS).toContain("GATEWAY_SECRET");
  });

  it("suggests the nearest known name for a misspelling", () => {
    expect(unknownSettings(["MAX_PACKETSIZE", "max_inflight", "ALLOW_ANONYMUS", "STAT_TOKEN", "ALLOWED_ORIGIN", "MAX_QUEUED_MESAGES"])).toEqual([
      { name: "MAX_PACKETSIZE", suggestion: "MAX_PACKET_SIZE" },
      { name: "max_inflight", suggestion: "MAX_INFLIGHT" },
      { name: "ALLOW_ANONYMUS", suggestion: "ALLOW_ANONYMOUS" },
      { name: "STAT_TOKEN", suggestion: "STATS_TOKEN" },
      { name: "ALLOWED_ORIGIN", suggestion: "ALLOWED_ORIGINS" },
      { name: "MAX_QUEUED_MESAGES", suggestion: "MAX_QUEUED_MESSAGES" },
    ]);
  });

  it("suggests nothing for a name that is nowhere near one", () => {
    expect(nearestSetting("DATABASE_URL")).toBeUndefined();
    expect(describeUnknown({ name: "DATABASE_URL" })).toBe("DATABASE_URL is not a setting of this broker");
    expect(describeUnknown({ name: "MAX_PACKETSIZE", suggestion: "MAX_PACKET_SIZE" })).toBe("MAX_PACKETSIZE is not a setting of this broker (did you mean MAX_PACKET_SIZE?)");
  });
});
