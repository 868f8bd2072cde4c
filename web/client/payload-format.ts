/** Payloads as text, pretty JSON, hex or base64, and back (for publishing). Pure. */
export type PayloadFormat = "text" | "json" | "hex" | "base64";
export const PAYLOAD_FORMATS: readonly PayloadFormat[] = ["text", "json", "hex", "base64"];

const lenient = new TextDecoder("utf-8");
const strict = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

export function utf8(bytes: Uint8Array): string {
  return lenient.decode(bytes);
}

export function utf8Bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

export function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    strict.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** "48 65 6c 6c 6f" */
export function toHex(bytes: Uint8Array): string {
  const out = new Array<string>(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = HEX[bytes[i]!]!;
  return out.join(" ");
}

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** Hex digits, spaces, `0x` prefixes and `:` separators allowed; throws on anything else. */
export function fromHex(text: string): Uint8Array {
  const digits = text.replace(/0x/gi, "").replace(/[\s:,]/g, "");
  if (!/^[0-9a-fA-F]*$/.test(digits)) throw new Error("hex payload: only hex digits, spaces and 0x allowed");
  if (digits.length % 2 !== 0) throw new Error("hex payload: an odd number of digits");
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Standard or URL-safe base64, padding optional; throws on anything else. */
export function fromBase64(text: string): Uint8Array {
  const clean = text.replace(/\s/g, "").replace(/-/g, "+").replace(/_/g, "/");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.replace(/=+$/, "").length % 4 === 1) throw new Error("base64 payload: not valid base64");
  const binary = atob(clean.padEnd(Math.ceil(clean.length / 4) * 4, "="));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** The JSON re-indented, or undefined when the text is not JSON. */
export function prettyJson(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  try {
    return JSON.stringify(JSON.parse(trimmed), null, 2);
  } catch {
    return undefined;
  }
}

export interface Formatted {
  text: string;
  /** Why the view differs from what was asked, e.g. "not JSON: shown as text". */
  note?: string;
}

/** The whole payload (up to `limit` bytes) in a format, for the detail view. */
export function formatPayload(bytes: Uint8Array, format: PayloadFormat, limit = 256 * 1024): Formatted {
  const cut = bytes.length > limit ? bytes.subarray(0, limit) : bytes;
  const truncated = cut.length < bytes.length ? `first ${limit.toLocaleString("en")} of ${bytes.length.toLocaleString("en")} bytes` : undefined;
  const withNote = (text: string, note?: string): Formatted => {
    const notes = [note, truncated].filter((n): n is string => n !== undefined);
    return notes.length > 0 ? { text, note: notes.join("; ") } : { text };
  };
  switch (format) {
    case "hex":
      return withNote(toHex(cut));
    case "base64":
      return withNote(toBase64(cut));
    case "json": {
      const text = utf8(cut);
      const pretty = truncated === undefined ? prettyJson(text) : undefined;
      return pretty !== undefined ? withNote(pretty) : withNote(text, truncated === undefined ? "not JSON: shown as text" : "too long to parse as JSON");
    }
    case "text":
      return withNote(utf8(cut), isValidUtf8(cut) || truncated !== undefined ? undefined : "not valid UTF-8: � marks bad bytes (hex shows them)");
  }
}

/** One line for the log: decodes only the first bytes, so 100,000 rows cost nothing. */
export function previewPayload(bytes: Uint8Array, format: PayloadFormat, maxChars = 160): string {
  if (bytes.length === 0) return "(empty)";
  let text: string;
  if (format === "hex") text = toHex(bytes.subarray(0, Math.ceil(maxChars / 3)));
  else if (format === "base64") text = toBase64(bytes.subarray(0, Math.ceil((maxChars * 3) / 4)));
  else text = utf8(bytes.subarray(0, maxChars * 2)).replace(/\s+/g, " ");
  return text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
}

/** What the user typed, as payload bytes in the chosen format; throws with a message on bad input. */
export function encodePayload(input: string, format: PayloadFormat): Uint8Array {
  switch (format) {
    case "hex":
      return fromHex(input);
    case "base64":
      return fromBase64(input);
    case "json":
      try {
        JSON.parse(input);
      } catch (error) {
        throw new Error(`JSON payload: ${(error as Error).message}`);
      }
      return encoder.encode(input);
    case "text":
      return encoder.encode(input);
  }
}
