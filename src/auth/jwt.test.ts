import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type JSONWebKeySet, type JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJwtVerifier, looksLikeJwt, type JwtResult } from "./jwt.js";

const SECRET = "a-test-secret-of-at-least-32-bytes!!";
const NOW = Date.UTC(2030, 0, 1);
const nowSeconds = NOW / 1000;

const base64url = (value: object): string => Buffer.from(JSON.stringify(value)).toString("base64url");

function hs256(payload: JWTPayload, secret = SECRET): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(secret));
}

function failure(result: JwtResult): string {
  return result.ok ? "ok" : result.reason;
}

describe("createJwtVerifier with JWT_SECRET (HS256)", () => {
  const verifier = createJwtVerifier({ secret: SECRET });

  it("accepts a good token and reports subject, username and expiry", async () => {
    const token = await hs256({ sub: "alice", exp: nowSeconds + 3600 });
    const result = await verifier.verify(token, "alice", NOW);
    expect(result).toMatchObject({ ok: true, subject: "alice", username: "alice", expiresAt: NOW + 3_600_000 });
    expect(result.ok && result.rights).toBeUndefined();
  });

  it("accepts a token without exp, and without an MQTT username", async () => {
    const result = await verifier.verify(await hs256({ sub: "alice" }), undefined, NOW);
    expect(result).toMatchObject({ ok: true, username: "alice" });
    expect(result.ok && result.expiresAt).toBeUndefined();
  });

  it("refuses expired tokens, with 5 s of tolerance", async () => {
    expect(failure(await verifier.verify(await hs256({ sub: "a", exp: nowSeconds - 60 }), "a", NOW))).toBe("expired");
    expect(failure(await verifier.verify(await hs256({ sub: "a", exp: nowSeconds - 3 }), "a", NOW))).toBe("ok");
  });

  it("refuses tokens that are not valid yet, with 5 s of tolerance", async () => {
    expect(failure(await verifier.verify(await hs256({ sub: "a", nbf: nowSeconds + 60 }), "a", NOW))).toBe("not-yet-valid");
    expect(failure(await verifier.verify(await hs256({ sub: "a", nbf: nowSeconds + 3 }), "a", NOW))).toBe("ok");
  });

  it("refuses a wrong signature", async () => {
    const forged = await hs256({ sub: "a" }, "another-secret-of-at-least-32-bytes");
    expect(failure(await verifier.verify(forged, "a", NOW))).toBe("bad-signature");
    const [header, , signature] = (await hs256({ sub: "a" })).split(".");
    const tampered = `${header}.${base64url({ sub: "admin" })}.${signature}`;
    expect(failure(await verifier.verify(tampered, "admin", NOW))).toBe("bad-signature");
  });

  it("refuses alg none and algorithms it has no key for", async () => {
    const unsigned = `${base64url({ alg: "none", typ: "JWT" })}.${base64url({ sub: "a" })}.`;
    expect(looksLikeJwt(unsigned)).toBe(true);
    expect(failure(await verifier.verify(unsigned, "a", NOW))).toBe("algorithm-not-allowed");
    const hs512 = await new SignJWT({ sub: "a" }).setProtectedHeader({ alg: "HS512" }).sign(new TextEncoder().encode(SECRET));
    expect(failure(await verifier.verify(hs512, "a", NOW))).toBe("algorithm-not-allowed");
    const { privateKey } = await generateKeyPair("RS256");
    const rs256 = await new SignJWT({ sub: "a" }).setProtectedHeader({ alg: "RS256" }).sign(privateKey);
    expect(failure(await verifier.verify(rs256, "a", NOW))).toBe("algorithm-not-allowed");
  });

  it("refuses malformed tokens without throwing", async () => {
    for (const token of ["", "abc", "a.b.c", "....", `${base64url({ alg: "HS256" })}.!!.x`]) {
      const result = await verifier.verify(token, "a", NOW);
      expect(result.ok).toBe(false);
    }
  });

  it("the MQTT username must equal the username claim, or sub when there is none", async () => {
    expect(failure(await verifier.verify(await hs256({ sub: "alice" }), "bob", NOW))).toBe("username-mismatch");
    const both = await hs256({ sub: "user-7f3a", username: "alice" });
    expect(await verifier.verify(both, "alice", NOW)).toMatchObject({ ok: true, subject: "user-7f3a", username: "alice" });
    expect(failure(await verifier.verify(both, "user-7f3a", NOW))).toBe("username-mismatch");
    expect(failure(await verifier.verify(await hs256({ exp: nowSeconds + 60 }), undefined, NOW))).toBe("claims-rejected");
    expect(failure(await verifier.verify(await hs256({ username: 42 }), undefined, NOW))).toBe("claims-rejected");
  });

  it("turns an acl claim into rights, and refuses a bad one", async () => {
    const token = await hs256({ sub: "alice", acl: { pub: ["up/%u/#"], sub: ["down/%c"] } });
    const result = await verifier.verify(token, "alice", NOW);
    if (!result.ok || !result.rights) throw new Error("expected rights");
    const rights = result.rights.forClient({ clientId: "dev-1", username: "alice" });
    expect(rights.check("write", "up/alice/t")).toBe(true);
    expect(rights.check("write", "up/bob/t")).toBe(false);
    expect(rights.check("subscribe", "down/dev-1")).toBe(true);
    expect(rights.check("subscribe", "down/dev-2")).toBe(false);
    const bad = await hs256({ sub: "alice", acl: { pub: "up/#" } });
    expect(failure(await verifier.verify(bad, "alice", NOW))).toBe("bad-acl-claim");
  });
});

describe("issuer and audience", () => {
  const verifier = createJwtVerifier({ secret: SECRET, issuer: "https://issuer.example", audience: "mqtt-broker" });

  it("are required to match when configured", async () => {
    const good = await hs256({ sub: "a", iss: "https://issuer.example", aud: ["other", "mqtt-broker"] });
    expect(failure(await verifier.verify(good, "a", NOW))).toBe("ok");
    const wrongIssuer = await hs256({ sub: "a", iss: "https://evil.example", aud: "mqtt-broker" });
    expect(failure(await verifier.verify(wrongIssuer, "a", NOW))).toBe("claims-rejected");
    const wrongAudience = await hs256({ sub: "a", iss: "https://issuer.example", aud: "someone-else" });
    expect(failure(await verifier.verify(wrongAudience, "a", NOW))).toBe("claims-rejected");
    const noAudience = await hs256({ sub: "a", iss: "https://issuer.example" });
    expect(failure(await verifier.verify(noAudience, "a", NOW))).toBe("claims-rejected");
  });
});

describe("createJwtVerifier with an inline JWKS (RS256, ES256)", async () => {
  const rsa = await generateKeyPair("RS256", { extractable: true });
  const ec = await generateKeyPair("ES256", { extractable: true });
  const jwks: JSONWebKeySet = {
    keys: [
      { ...(await exportJWK(rsa.publicKey)), kid: "rsa-1", alg: "RS256", use: "sig" },
      { ...(await exportJWK(ec.publicKey)), kid: "ec-1", alg: "ES256", use: "sig" },
    ],
  };
  const verifier = createJwtVerifier({ jwks });

  it("accepts RS256 and ES256 tokens signed by the listed keys", async () => {
    const rs = await new SignJWT({ sub: "rsa-user" }).setProtectedHeader({ alg: "RS256", kid: "rsa-1" }).sign(rsa.privateKey);
    const es = await new SignJWT({ sub: "ec-user" }).setProtectedHeader({ alg: "ES256", kid: "ec-1" }).sign(ec.privateKey);
    expect(await verifier.verify(rs, "rsa-user", NOW)).toMatchObject({ ok: true, subject: "rsa-user" });
    expect(await verifier.verify(es, "ec-user", NOW)).toMatchObject({ ok: true, subject: "ec-user" });
  });

  it("refuses keys it does not list and signatures by other keys", async () => {
    const stranger = await generateKeyPair("ES256");
    const unknownKid = await new SignJWT({ sub: "a" }).setProtectedHeader({ alg: "ES256", kid: "nope" }).sign(stranger.privateKey);
    expect(failure(await verifier.verify(unknownKid, "a", NOW))).toBe("unknown-key");
    const wrongKey = await new SignJWT({ sub: "a" }).setProtectedHeader({ alg: "ES256", kid: "ec-1" }).sign(stranger.privateKey);
    expect(failure(await verifier.verify(wrongKey, "a", NOW))).toBe("bad-signature");
  });

  it("never uses a public key as an HMAC secret", async () => {
    const publicJwk = JSON.stringify(jwks.keys[0]);
    const confused = await new SignJWT({ sub: "admin" }).setProtectedHeader({ alg: "HS256", kid: "rsa-1" }).sign(new TextEncoder().encode(publicJwk));
    expect(failure(await verifier.verify(confused, "admin", NOW))).toBe("algorithm-not-allowed");
  });
});

describe("createJwtVerifier with JWT_JWKS_URL", () => {
  let server: Server;
  let url: string;
  let requests = 0;
  let jwks: JSONWebKeySet;
  let signer: CryptoKey;

  beforeAll(async () => {
    const pair = await generateKeyPair("ES256", { extractable: true });
    signer = pair.privateKey;
    jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: "remote-1", alg: "ES256" }] };
    server = createServer((request, response) => {
      requests++;
      response.writeHead(request.url === "/jwks" ? 200 : 404, { "content-type": "application/json" });
      response.end(JSON.stringify(jwks));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  });

  const sign = (payload: JWTPayload, kid = "remote-1"): Promise<string> => new SignJWT(payload).setProtectedHeader({ alg: "ES256", kid }).sign(signer);

  it("fetches the keys once and keeps them", async () => {
    const verifier = createJwtVerifier({ jwksUrl: `${url}/jwks` });
    requests = 0;
    expect(await verifier.verify(await sign({ sub: "a" }), "a")).toMatchObject({ ok: true });
    expect(await verifier.verify(await sign({ sub: "b" }), "b")).toMatchObject({ ok: true });
    expect(requests).toBe(1);
  });

  it("reports a key set it cannot get as key-unavailable, not as a bad token", async () => {
    const verifier = createJwtVerifier({ jwksUrl: `${url}/missing` });
    expect(failure(await verifier.verify(await sign({ sub: "a" }), "a"))).toBe("key-unavailable");
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const unreachable = createJwtVerifier({ jwksUrl: `http://127.0.0.1:${port}/jwks` });
    expect(failure(await unreachable.verify(await sign({ sub: "a" }), "a"))).toBe("key-unavailable");
  });
});

describe("looksLikeJwt", () => {
  it("is three base64url parts", async () => {
    expect(looksLikeJwt(await hs256({ sub: "a" }))).toBe(true);
    expect(looksLikeJwt("correct horse")).toBe(false);
    expect(looksLikeJwt("a.b")).toBe(false);
    expect(looksLikeJwt("a.b.c.d")).toBe(false);
    expect(looksLikeJwt("a+b.c.d")).toBe(false);
  });
});

describe("createJwtVerifier settings", () => {
  it("needs exactly one kind of public key source and at least one key", () => {
    expect(() => createJwtVerifier({})).toThrow(/no key/);
    expect(() => createJwtVerifier({ jwks: { keys: [] }, jwksUrl: "https://x.example/jwks" })).toThrow(/not both/);
  });
});
