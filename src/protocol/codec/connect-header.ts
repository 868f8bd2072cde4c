/** Reads the protocol name and level of a CONNECT without decoding the rest ([MQTT-3.1.2-2]). */

export interface ConnectProtocol {
  name: string;
  level: number;
}

export function peekConnectProtocol(bytes: Uint8Array): ConnectProtocol | null {
  let i = 1;
  // Skip the remaining-length varint.
  while (i < bytes.length && i <= 4 && (bytes[i]! & 0x80) !== 0) i++;
  i++;
  if (i + 2 > bytes.length) return null;
  const nameLength = (bytes[i]! << 8) | bytes[i + 1]!;
  i += 2;
  if (i + nameLength + 1 > bytes.length) return null;
  const name = new TextDecoder().decode(bytes.subarray(i, i + nameLength));
  return { name, level: bytes[i + nameLength]! };
}
