/**
 * Walks one MQTT 5 property set (§2.2.2: a Variable Byte Integer length, then identifier / value
 * pairs) and rejects what mqtt-packet lets through: an identifier not valid for the packet type or
 * unknown, a value cut short or running past the set, a property given twice, a byte property
 * outside 0..1. Returns the values by identifier for the packet's own cross-checks.
 */
import { ALLOWED_PROPERTIES, PROPERTIES, type PropertyContext, USER_PROPERTY, ZERO_OR_ONE } from "./properties-table.js";
import { type ByteReader, Violation, malformed, protocolError } from "./reader.js";

export type PropertyValue = number | string | Uint8Array | [string, string];

export function scanProperties(reader: ByteReader, context: PropertyContext): Map<number, PropertyValue> {
  const length = reader.varint("Property Length");
  // The set must fit in what is left of the packet (or of the will) (§2.2.2.1).
  const set = reader.take(length, "the properties");
  const found = new Map<number, PropertyValue>();
  while (!set.atEnd) {
    const id = set.varint("a Property Identifier");
    const spec = PROPERTIES[id];
    // An identifier not valid for the packet type is a Malformed Packet (§2.2.2.2).
    if (!spec) throw malformed("§2.2.2.2", `unknown property identifier 0x${id.toString(16)}`);
    if (!ALLOWED_PROPERTIES[context].has(id)) throw malformed("§2.2.2.2", `${spec.name} (0x${id.toString(16)}) is not valid in ${contextName(context)}`);
    const value = readValue(set, spec.type, spec.name);
    // Only User Property may appear more than once; each other's section says twice is a
    // Protocol Error (e.g. §3.1.2.11.2, §3.3.2.3.4, §3.8.2.1.2).
    if (id !== USER_PROPERTY && found.has(id)) throw new Violation("duplicate-property", "§2.2.2.2", `${spec.name} included more than once`);
    const zeroOrOne = ZERO_OR_ONE[id];
    if (zeroOrOne !== undefined && value !== 0 && value !== 1) throw protocolError(zeroOrOne, `${spec.name} of ${String(value)} (only 0 or 1)`);
    found.set(id, value);
  }
  return found;
}

function readValue(reader: ByteReader, type: (typeof PROPERTIES)[number]["type"], name: string): PropertyValue {
  switch (type) {
    case "byte":
      return reader.byte(name);
    case "u16":
      return reader.u16(name);
    case "u32":
      return reader.u32(name);
    case "varint":
      return reader.varint(name);
    case "string":
      return reader.string(name);
    case "binary":
      return reader.binary(name);
    case "pair":
      // Both strings of a pair obey the UTF-8 string rules [MQTT-1.5.7-1].
      return [reader.string(`${name} name`, true), reader.string(`${name} value`, true)];
  }
}

function contextName(context: PropertyContext): string {
  switch (context) {
    case "connect":
      return "CONNECT";
    case "will":
      return "the Will Properties";
    case "publish":
      return "PUBLISH";
    case "ack":
      return "PUBACK, PUBREC, PUBREL or PUBCOMP";
    case "subscribe":
      return "SUBSCRIBE";
    case "unsubscribe":
      return "UNSUBSCRIBE";
    case "disconnect":
      return "DISCONNECT";
    case "auth":
      return "AUTH";
  }
}
