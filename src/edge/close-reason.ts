/**
 * A WebSocket close reason may hold at most 123 bytes of UTF-8 (RFC 6455 §5.5: a control frame
 * carries 125 bytes, 2 of them the code), and workerd throws on a longer one — which once left a
 * connection open and its will unpublished (review finding F12). Reasons can carry client text
 * (a topic, a client id), so every close goes through this: cut at a character boundary.
 */
export const MAX_CLOSE_REASON_BYTES = 123;

export function closeReason(reason: string): string {
  const bytes = new TextEncoder().encode(reason);
  if (bytes.length <= MAX_CLOSE_REASON_BYTES) return reason;
  // Step back over UTF-8 continuation bytes (10xxxxxx) so no character is cut in half.
  let end = MAX_CLOSE_REASON_BYTES;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(bytes.subarray(0, end));
}
