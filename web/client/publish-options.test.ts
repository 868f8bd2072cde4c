import { describe, expect, it } from "vitest";
import { messageProps, NO_PROPS, parseUserProperties, publishProperties } from "./publish-options.js";

describe("publish properties", () => {
  it("parse user properties, repeated keys kept", () => {
    expect(parseUserProperties("a=1\n\nb: two words\na=3")).toEqual([
      ["a", "1"],
      ["b", "two words"],
      ["a", "3"],
    ]);
    expect(() => parseUserProperties("novalue")).toThrow(/line 1/);
    expect(publishProperties({ ...NO_PROPS, userProperties: "a=1\na=2\nb=3" })).toEqual({ userProperties: { a: ["1", "2"], b: "3" } });
  });

  it("only what is set, checked", () => {
    expect(publishProperties(NO_PROPS)).toBeUndefined();
    expect(publishProperties({ ...NO_PROPS, contentType: "application/json", utf8: true, messageExpiry: "60", responseTopic: "r/1", correlationData: "abc" })).toEqual({
      contentType: "application/json",
      payloadFormatIndicator: true,
      messageExpiryInterval: 60,
      responseTopic: "r/1",
      correlationData: "abc",
    });
    expect(() => publishProperties({ ...NO_PROPS, messageExpiry: "-1" })).toThrow(/expiry/);
    expect(() => publishProperties({ ...NO_PROPS, responseTopic: "r/#" })).toThrow(/response topic/);
  });

  it("keep a received message's properties as plain data", () => {
    expect(messageProps(undefined)).toBeUndefined();
    expect(messageProps({ userProperties: { a: ["1", "2"] }, subscriptionIdentifier: 3, correlationData: Buffer.from("id"), payloadFormatIndicator: true })).toEqual({
      userProperties: [
        ["a", "1"],
        ["a", "2"],
      ],
      subscriptionIds: [3],
      correlationData: new Uint8Array(Buffer.from("id")),
      payloadFormat: 1,
    });
  });
});
