/** Client ids the broker assigns to clients that connect with an empty one [MQTT-3.1.3-6]. */

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** 23 characters from [0-9a-zA-Z], the form every server must accept [MQTT-3.1.3-5]. */
export function assignClientId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(23));
  let id = "";
  for (const b of bytes) id += ALPHABET[b % ALPHABET.length];
  return id;
}
