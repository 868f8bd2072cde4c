/** The property table (§2.2.2.2, Table 2-4) and the scanner that applies it. */
import { describe, expect, it } from "vitest";
import { ALLOWED_PROPERTIES, PROPERTIES, type PropertyContext } from "./properties-table.js";
import { scanProperties } from "./properties.js";
import { ByteReader, Violation } from "./reader.js";

const scan = (context: PropertyContext, ...bytes: number[]) => scanProperties(new ByteReader(Uint8Array.from(bytes), 0, bytes.length, true), context);
const violation = (context: PropertyContext, ...bytes: number[]): Violation => {
  try {
    scan(context, ...bytes);
  } catch (e) {
    if (e instanceof Violation) return e;
    throw e;
  }
  throw new Error("no violation");
};

describe("ALLOWED_PROPERTIES (§2.2.2.2)", () => {
  it("names only identifiers MQTT 5 defines", () => {
    for (const ids of Object.values(ALLOWED_PROPERTIES)) for (const id of ids) expect(PROPERTIES[id], `0x${id.toString(16)}`).toBeDefined();
  });

  it("lets no client send what only a server sends (CONNACK's properties, Assigned Client Identifier, Server Keep Alive, Response Information)", () => {
    const serverOnly = [0x12, 0x13, 0x1a, 0x24, 0x25, 0x28, 0x29, 0x2a];
    for (const [context, ids] of Object.entries(ALLOWED_PROPERTIES)) for (const id of serverOnly) expect(ids.has(id), `${context} 0x${id.toString(16)}`).toBe(false);
  });

  it("allows User Property everywhere a client sends properties", () => {
    for (const ids of Object.values(ALLOWED_PROPERTIES)) expect(ids.has(0x26)).toBe(true);
  });
});

describe("scanProperties", () => {
  it("reads each type and returns the values by identifier", () => {
    // Message Expiry 9, Content Type "t", Correlation Data [7], Topic Alias 2.
    const found = scan("publish", 16, 0x02, 0, 0, 0, 9, 0x03, 0, 1, 0x74, 0x09, 0, 1, 7, 0x23, 0, 2);
    expect(found.get(0x02)).toBe(9);
    expect(found.get(0x03)).toBe("t");
    expect([...(found.get(0x09) as Uint8Array)]).toEqual([7]);
    expect(found.get(0x23)).toBe(2);
  });

  it("§2.2.2.2 an identifier not valid for the packet type is malformed", () => {
    expect(violation("ack", 2, 0x23, 0, 1)).toMatchObject({ kind: "malformed", clause: "§2.2.2.2" });
    expect(violation("will", 5, 0x11, 0, 0, 0, 1)).toMatchObject({ kind: "malformed" });
  });

  it("§2.2.2.2 a property given twice is a Protocol Error; User Property may repeat", () => {
    expect(violation("connect", 6, 0x21, 0, 1, 0x21, 0, 2)).toMatchObject({ kind: "duplicate-property" });
    expect(scan("connect", 12, 0x26, 0, 1, 0x6b, 0, 0, 0x26, 0, 1, 0x6b, 0, 0).size).toBe(1);
  });

  it("a set longer than what is left, or a value cut by its set, is malformed", () => {
    expect(violation("publish", 9, 0x01, 1)).toMatchObject({ kind: "malformed" });
    expect(violation("publish", 2, 0x02, 0, 0, 0)).toMatchObject({ kind: "malformed" });
  });

  it("§3.1.2.11.6 / §3.1.2.11.7 Request Response / Problem Information other than 0 or 1 is a Protocol Error", () => {
    expect(violation("connect", 2, 0x19, 2)).toMatchObject({ kind: "protocol-error", clause: "§3.1.2.11.6" });
    expect(violation("connect", 2, 0x17, 0xff)).toMatchObject({ kind: "protocol-error", clause: "§3.1.2.11.7" });
  });
});
