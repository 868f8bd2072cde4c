/** A retained payload (base64 from the API) as the console previews it: text when it is printable UTF-8, hex otherwise. */

export interface PayloadPreview {
  kind: "empty" | "text" | "binary";
  /** The text, or the hex of the first bytes ("0a 1b …"). */
  display: string;
}

const HEX_BYTES = 48;

export function base64ToBytes(b64: string): Uint8Array {
  try {
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return new Uint8Array(0);
  }
}

export function previewPayload(b64: string, maxChars = 200): PayloadPreview {
  const bytes = base64ToBytes(b64);
  if (bytes.length === 0) return { kind: "empty", display: "" };
  let text: string | undefined;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    // Not UTF-8 (or cut inside a character at the 4 KiB limit: the hex view is honest then).
  }
  // Printable: no control characters besides tab, line feed and carriage return.
  // eslint-disable-next-line no-control-regex
  if (text !== undefined && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) {
    return { kind: "text", display: text.length > maxChars ? `${text.slice(0, maxChars)}…` : text };
  }
  const hex = Array.from(bytes.subarray(0, HEX_BYTES), (b) => b.toString(16).padStart(2, "0")).join(" ");
  return { kind: "binary", display: bytes.length > HEX_BYTES ? `${hex} …` : hex };
}
