/**
 * Reads the protocol name and level of a CONNECT without decoding the rest ([MQTT-3.1.2-2]), and
 * finds the raw bytes of its client id (the decoder reads strings leniently, see `connectClientIdBytes`).
 */

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

/**
 * The raw bytes of a CONNECT's client id (the payload's first field, after the variable header
 * and, in MQTT 5, its properties); null when the packet is too short to hold them.
 */
export function connectClientIdBytes(bytes: Uint8Array): Uint8Array | null {
  let i = 1;
  while (i < bytes.length && i <= 4 && (bytes[i]! & 0x80) !== 0) i++;
  i++;
  if (i + 2 > bytes.length) return null;
  i += 2 + ((bytes[i]! << 8) | bytes[i + 1]!); // protocol name
  const level = bytes[i];
  i += 4; // level, flags, keepalive
  if (level === 5) {
    // Properties: a variable byte integer length, then that many bytes.
    let length = 0;
    for (let shift = 0; ; shift += 7) {
      if (i >= bytes.length || shift > 21) return null;
      const b = bytes[i++]!;
      length += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) break;
    }
    i += length;
  }
  if (i + 2 > bytes.length) return null;
  const idLength = (bytes[i]! << 8) | bytes[i + 1]!;
  i += 2;
  return i + idLength <= bytes.length ? bytes.subarray(i, i + idLength) : null;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Whether bytes are well-formed UTF-8 (RFC 3629: no overlong forms, no encoded surrogates, nothing
 * above U+10FFFF), as every MQTT string must be [MQTT-1.5.3-1] (3.1.1), [MQTT-1.5.4-1] (5.0).
 */
export function isWellFormedUtf8(bytes: Uint8Array): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}
