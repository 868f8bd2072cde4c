/**
 * What the shell decided about a client's credentials, handed to the session core with the
 * CONNECT (or an MQTT 5 AUTH packet) it was decided for. Checking a password or a token takes
 * time (PBKDF2, a signature, maybe a key fetch), so the shell does it before the core sees the
 * packet, and the core stays synchronous. A refusal is answered before anything else happens:
 * an unauthenticated CONNECT never takes over a live session.
 */
import type { TopicRights } from "../../auth/authorizer.js";
import type { ReasonCode } from "../errors.js";

/** How a connection's rights are found again after its object hibernated (see the shell). */
export interface ConnectionAuth {
  username?: string;
  /** The JWT the client presented, when its claims carry rights. */
  token?: string;
  /** When the client's right to stay connected ends (a JWT's `exp`), epoch ms. */
  expiresAt?: number;
  /** MQTT 5 Authentication Method the client named in CONNECT (re-authentication needs it). */
  method?: string;
}

export type AuthVerdict = { ok: true; auth: ConnectionAuth; rights: TopicRights } | { ok: false; reason: ReasonCode; log: string };

/** For tests and tools: a client let in with every right. */
export const ALLOWED: AuthVerdict = { ok: true, auth: {}, rights: { check: () => true } };

/** The MQTT 5 Authentication Method under which a JWT travels in Authentication Data (and AUTH re-authenticates). */
export const JWT_AUTH_METHOD = "JWT";
