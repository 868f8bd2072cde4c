import { describe, expect, it } from "vitest";
import { encodePayload, formatPayload, fromBase64, fromHex, previewPayload, prettyJson, toBase64, toHex } from "./payload-format.js";

const b = (s: string) => new TextEncoder().encode(s);

describe("payload formats", () => {
  it("hex and base64 round-trip", () => {
    const bytes = new Uint8Array([0, 1, 127, 128, 255]);
    expect(toHex(bytes)).toBe("00 01 7f 80 ff");
    expect(fromHex("00 01 7F 0x80:ff")).toEqual(bytes);
    expect(fromBase64(toBase64(bytes))).toEqual(bytes);
    expect(fromBase64("AAF_gP8")).toEqual(bytes);
    expect(() => fromHex("abc")).toThrow(/odd/);
    expect(() => fromHex("zz")).toThrow();
    expect(() => fromBase64("a")).toThrow();
  });

  it("pretty JSON, with a note when it is not JSON or not UTF-8", () => {
    expect(prettyJson('{"a":[1,2]}')).toBe('{\n  "a": [\n    1,\n    2\n  ]\n}');
    expect(prettyJson("nope")).toBeUndefined();
    expect(formatPayload(b("nope"), "json")).toEqual({ text: "nope", note: "not JSON: shown as text" });
    expect(formatPayload(new Uint8Array([0xff]), "text").note).toMatch(/UTF-8/);
    expect(formatPayload(b("abcdef"), "text", 3)).toEqual({ text: "abc", note: "first 3 of 6 bytes" });
  });

  it("previews decode only the start, on one line", () => {
    expect(previewPayload(b("a\nb"), "text")).toBe("a b");
    expect(previewPayload(new Uint8Array(0), "hex")).toBe("(empty)");
    expect(previewPayload(b("x".repeat(1000)), "text", 10)).toBe(`${"x".repeat(10)}…`);
    expect(previewPayload(b("hi"), "hex")).toBe("68 69");
  });

  it("encodes what is typed, refusing bad JSON, hex or base64", () => {
    expect(encodePayload("héllo", "text")).toEqual(b("héllo"));
    expect(encodePayload('{"a":1}', "json")).toEqual(b('{"a":1}'));
    expect(() => encodePayload("{", "json")).toThrow(/JSON payload/);
    expect(encodePayload("6869", "hex")).toEqual(b("hi"));
    expect(encodePayload("aGk=", "base64")).toEqual(b("hi"));
  });
});
