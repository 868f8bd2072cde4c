/**
 * Records keyed by MQTT names (filters, topics) are plain objects, because they are stored with
 * structured clone. Any string is a valid name, "__proto__" and "constructor" included, so every
 * read and write goes through own properties only.
 */

export function getOwn<V>(record: Record<string, V>, key: string): V | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

export function hasOwn(record: object, key: string): boolean {
  return Object.hasOwn(record, key);
}

/** Plain assignment would set the prototype for "__proto__"; defining the property never does. */
export function setOwn<V>(record: Record<string, V>, key: string, value: V): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}
