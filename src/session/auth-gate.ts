/**
 * The session object's door: it turns a CONNECT's (or an MQTT 5 AUTH's) credentials into the
 * verdict the session core needs, with the configured methods (src/auth), and finds a live
 * connection's rights again after the object hibernated. Settings are parsed once per isolate.
 */
import { decodeJwt } from "jose";
import type { IAuthPacket, IConnectPacket } from "mqtt-packet";
import { loadAuthSettings } from "../auth/auth-config.js";
import { authenticate, type AuthResult, type AuthSettings, reauthenticate } from "../auth/authenticator.js";
import { allRightsOf, type Identity, type TopicRights } from "../auth/authorizer.js";
import { parseAclClaim } from "../auth/jwt-acl-claim.js";
import type { AuthRefusal } from "../auth/reason-codes.js";
import { ConfigError } from "../config.js";
import { Reason, type ReasonCode } from "../protocol/errors.js";
import { type AuthVerdict, JWT_AUTH_METHOD } from "../protocol/session/auth-verdict.js";
import type { ConnectionState } from "../protocol/session/state.js";

/**
 * A token rides in the connection's socket attachment (16 KiB in all) so its rights survive
 * hibernation; larger ones are refused rather than trimmed.
 */
export const MAX_TOKEN_BYTES = 4096;

const REFUSALS: Record<AuthRefusal, ReasonCode> = {
  "bad-credentials": Reason.BadUserNameOrPassword,
  "not-authorized": Reason.NotAuthorized,
  "server-unavailable": Reason.ServerUnavailable,
};

let cached: { key: string; settings: AuthSettings } | undefined;

/** The isolate's authentication settings (a bad one throws a ConfigError naming every problem). */
export function authSettings(env: Record<string, unknown>): AuthSettings {
  const names = ["ALLOW_ANONYMOUS", "PASSWORD_FILE", "ACL_FILE", "JWT_SECRET", "JWT_JWKS", "JWT_JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE"];
  const vars = Object.fromEntries(names.map((n) => [n, typeof env[n] === "string" ? (env[n] as string) : undefined]));
  const key = JSON.stringify(vars);
  if (cached?.key === key) return cached.settings;
  const result = loadAuthSettings(vars);
  if (!result.ok) throw new ConfigError(result.errors.join("; "));
  cached = { key, settings: result.settings };
  return result.settings;
}

export class AuthGate {
  constructor(private readonly settings: AuthSettings) {}

  /** The verdict on a CONNECT's credentials: User Name and Password, or a JWT in Authentication Data. */
  async connect(clientId: string, packet: IConnectPacket): Promise<AuthVerdict> {
    const props = packet.properties ?? {};
    const jwtMethod = props.authenticationMethod === JWT_AUTH_METHOD;
    const data = jwtMethod ? props.authenticationData : undefined;
    const password = data !== undefined ? new Uint8Array(data) : packet.password !== undefined ? bytesOf(packet.password) : undefined;
    if (password !== undefined && password.byteLength > MAX_TOKEN_BYTES && (jwtMethod || this.settings.jwt)) {
      return refused("bad-credentials", `client ${JSON.stringify(clientId)} refused: a password or token over ${MAX_TOKEN_BYTES} bytes`);
    }
    return this.verdict(
      await this.guard(() => authenticate(this.settings, { clientId, ...(packet.username !== undefined ? { username: packet.username } : {}), ...(password !== undefined ? { password } : {}) })),
      password,
    );
  }

  /** The verdict on an MQTT 5 AUTH re-authentication (a fresh JWT in Authentication Data). */
  async reauthenticate(conn: ConnectionState, packet: IAuthPacket): Promise<AuthVerdict> {
    const data = packet.properties?.authenticationData;
    const token = data !== undefined ? new Uint8Array(data) : new Uint8Array();
    if (token.byteLength > MAX_TOKEN_BYTES) return refused("bad-credentials", `client ${conn.clientId}: a token over ${MAX_TOKEN_BYTES} bytes`);
    const identity: Identity = conn.auth.username !== undefined ? { clientId: conn.clientId, username: conn.auth.username } : { clientId: conn.clientId };
    const verdict = this.verdict(await this.guard(() => reauthenticate(this.settings, identity, token)), token);
    // DISCONNECT has no 0x86 or 0x88 (MQTT 5 §3.14.2.1): wrong token 0x87, key server down 0x89.
    if (!verdict.ok) return { ...verdict, reason: verdict.reason === Reason.ServerUnavailable ? Reason.ServerBusy : Reason.NotAuthorized };
    return verdict;
  }

  /**
   * A live connection's rights after hibernation, from what its attachment kept: the ACL file's
   * for its identity, and its token's `acl` claim (verified when it was presented).
   */
  rightsAfterWake(conn: ConnectionState): TopicRights {
    const identity: Identity = conn.auth.username !== undefined ? { clientId: conn.clientId, username: conn.auth.username } : { clientId: conn.clientId };
    const sources: TopicRights[] = [];
    if (this.settings.acl) sources.push(this.settings.acl.forClient(identity));
    if (conn.auth.token !== undefined) {
      const claim = parseAclClaim(decodeJwt(conn.auth.token).acl);
      // A claim that cannot be read again grants nothing (it was read at CONNECT: this does not happen).
      sources.push(typeof claim === "string" ? { check: () => false } : claim.forClient(identity));
    }
    return allRightsOf(sources);
  }

  private verdict(result: AuthResult, password: Uint8Array | undefined): AuthVerdict {
    if (!result.ok) return { ok: false, reason: REFUSALS[result.reason], log: result.log };
    const token = result.method === "jwt" && password !== undefined ? new TextDecoder().decode(password) : undefined;
    const tokenHasRights = token !== undefined && decodeJwt(token).acl !== undefined;
    return {
      ok: true,
      rights: result.rights,
      auth: {
        ...(result.identity.username !== undefined ? { username: result.identity.username } : {}),
        ...(tokenHasRights ? { token } : {}),
        ...(result.expiresAt !== undefined ? { expiresAt: result.expiresAt } : {}),
      },
    };
  }

  /** An unexpected failure of a method (a bug, a runtime error) refuses the client, never lets it in. */
  private async guard(decide: () => Promise<AuthResult>): Promise<AuthResult> {
    try {
      return await decide();
    } catch (error) {
      return { ok: false, reason: "server-unavailable", log: `authentication failed unexpectedly: ${String(error)}` };
    }
  }
}

function refused(refusal: AuthRefusal, log: string): AuthVerdict {
  return { ok: false, reason: REFUSALS[refusal], log };
}

function bytesOf(password: Buffer | string): Uint8Array {
  return typeof password === "string" ? new TextEncoder().encode(password) : new Uint8Array(password);
}
