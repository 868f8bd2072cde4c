/**
 * Every setting the broker reads, checked at once: the broker's limits (src/config.ts), the
 * authentication settings (src/auth/auth-config.ts), ALLOWED_ORIGINS, SYS_INTERVAL and LOG_LEVEL.
 * The Worker refuses to serve while any is bad (500 naming each); `npm start` and
 * `npm run check-config` run the same check before anything starts, and also name settings the
 * broker does not know (a misspelling is otherwise silently ignored), with the nearest known name.
 */
import { loadAuthSettings } from "../auth/auth-config.js";
import { BROKER_LIMIT_SETTINGS, readBrokerConfig, type ConfigVars } from "../config.js";
import { parseAllowedOrigins } from "./origin.js";

/** Authentication settings (src/auth/auth-config.ts). */
export const AUTH_SETTINGS = ["ALLOW_ANONYMOUS", "PASSWORD_FILE", "ACL_FILE", "JWT_SECRET", "JWT_JWKS", "JWT_JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE"] as const;

/** Settings whose value is not checked beyond being text: set or not. */
export const TOKEN_SETTINGS = ["ADMIN_TOKEN", "STATS_TOKEN", "GATEWAY_SECRET"] as const;

/** Every variable the broker reads. */
export const KNOWN_SETTINGS: readonly string[] = [...BROKER_LIMIT_SETTINGS, ...AUTH_SETTINGS, "ALLOWED_ORIGINS", "SYS_INTERVAL", "LOG_LEVEL", ...TOKEN_SETTINGS];

/** Secrets: they belong in `wrangler secret put`, not in wrangler.toml's [vars] (which is committed). */
export const SECRET_SETTINGS: readonly string[] = ["PASSWORD_FILE", "JWT_SECRET", ...TOKEN_SETTINGS];

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/** Longest SYS_INTERVAL, seconds (a day). */
const MAX_SYS_INTERVAL = 86_400;

/** Every problem with the settings in `env`, each naming its setting; empty when all are good. */
export function settingsErrors(env: Readonly<Record<string, unknown>>): string[] {
  const errors: string[] = [];
  const limits = readBrokerConfig(env as ConfigVars);
  if (!limits.ok) errors.push(...limits.errors);

  const authVars: Record<string, string | undefined> = {};
  for (const name of AUTH_SETTINGS) {
    const value = env[name];
    if (value === undefined || typeof value === "string") authVars[name] = value;
    else errors.push(`${name} must be a string, got ${JSON.stringify(value)}`);
  }
  const auth = loadAuthSettings(authVars);
  if (!auth.ok) errors.push(...auth.errors);

  const origins = env.ALLOWED_ORIGINS;
  if (origins !== undefined && typeof origins !== "string") errors.push(`ALLOWED_ORIGINS must be a string, got ${JSON.stringify(origins)}`);
  else {
    const parsed = parseAllowedOrigins(origins);
    if ("error" in parsed) errors.push(parsed.error);
  }

  const sys = env.SYS_INTERVAL;
  if (sys !== undefined && sys !== "") {
    const value = typeof sys === "string" && sys.trim() !== "" ? Number(sys) : typeof sys === "number" ? sys : NaN;
    if (!Number.isInteger(value) || value < 0 || value > MAX_SYS_INTERVAL) {
      errors.push(`SYS_INTERVAL must be an integer from 0 to ${MAX_SYS_INTERVAL} (seconds; 0 = off), got ${JSON.stringify(sys)}`);
    }
  }

  const level = env.LOG_LEVEL;
  if (level !== undefined && level !== "" && !(LOG_LEVELS as readonly unknown[]).includes(level)) {
    errors.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(level)}`);
  }

  for (const name of TOKEN_SETTINGS) {
    const value = env[name];
    if (value !== undefined && typeof value !== "string") errors.push(`${name} must be a string`);
  }
  return errors;
}

/** A name the broker does not read, and the known name it most likely meant. */
export interface UnknownSetting {
  name: string;
  suggestion?: string;
}

/** The names among `names` that the broker does not read (a misspelling is otherwise ignored). */
export function unknownSettings(names: Iterable<string>): UnknownSetting[] {
  const out: UnknownSetting[] = [];
  for (const name of names) {
    if (KNOWN_SETTINGS.includes(name)) continue;
    const suggestion = nearestSetting(name);
    out.push(suggestion !== undefined ? { name, suggestion } : { name });
  }
  return out;
}

/** "unknown setting X (did you mean Y?)": one line for an unknown name. */
export function describeUnknown(u: UnknownSetting): string {
  return `${u.name} is not a setting of this broker${u.suggestion !== undefined ? ` (did you mean ${u.suggestion}?)` : ""}`;
}

/** The known setting closest to `name`, if it is close enough to be a misspelling of it. */
export function nearestSetting(name: string): string | undefined {
  const squash = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]/g, "");
  const given = squash(name);
  let best: { name: string; distance: number } | undefined;
  for (const known of KNOWN_SETTINGS) {
    const distance = editDistance(given, squash(known));
    if (!best || distance < best.distance) best = { name: known, distance };
  }
  if (!best) return undefined;
  // Case, `_` or `-` only, or a few letters off for a name of some length.
  const allowed = Math.max(1, Math.min(4, Math.floor(given.length / 4)));
  return best.distance <= allowed ? best.name : undefined;
}

/** Levenshtein distance, with a swap of two neighbours counted as one edit. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
