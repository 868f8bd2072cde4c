/**
 * Joins whole packets into one frame for the session object, so packets a client sent together
 * reach it as one event, not one each. Packets cut from one chunk are usually neighbours in one
 * buffer: then the frame is a view over them, with no copy.
 */
export function joinPackets(packets: Uint8Array[]): Uint8Array {
  const first = packets[0];
  if (!first) return new Uint8Array(0);
  if (packets.length === 1) return first;
  let end = first.byteOffset + first.length;
  let adjacent = true;
  let size = first.length;
  for (let i = 1; i < packets.length; i++) {
    const p = packets[i]!;
    if (p.buffer !== first.buffer || p.byteOffset !== end) adjacent = false;
    end = p.byteOffset + p.length;
    size += p.length;
  }
  if (adjacent) return new Uint8Array(first.buffer, first.byteOffset, size);
  const out = new Uint8Array(size);
  let offset = 0;
  for (const p of packets) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
