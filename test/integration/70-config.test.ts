/**
 * First run and operations: a misconfigured broker says so on every Worker route (500 naming every
 * bad setting); `npm run check-config` names bad values and unknown names before anything runs;
 * the gateway's startup check refuses a wrong path, a misconfigured Worker and a wrong secret;
 * /health; the stats endpoints answer 404 for a client id or shard the broker does not know.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { ADMIN_TOKEN, type Broker, STATS_TOKEN, startBroker } from "../helpers/broker.js";
import { connect, uniqueId } from "../helpers/clients.js";
import { startTestGateway } from "../helpers/gateway.js";

const root = join(import.meta.dirname, "..", "..");

/** A WebSocket upgrade's refusal: its status and body. */
function upgrade(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ["mqtt"]);
    ws.on("open", () => {
      ws.terminate();
      reject(new Error("the upgrade was accepted"));
    });
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on("error", reject);
  });
}

describe("a misconfigured broker", () => {
  let broker: Broker;
  beforeAll(async () => {
    broker = await startBroker({ vars: { MAX_PACKET_SIZE: "abc", MAX_INFLIGHT: "1.5", LOG_LEVEL: "loud", ALLOWED_ORIGINS: "not an origin", ALLOW_ANONYMOUS: "yes" } });
  });
  afterAll(() => broker.stop());

  it("answers 500 naming every bad setting on /mqtt, /health, /api, /metrics and /stats", async () => {
    const routes: [string, Record<string, string>][] = [
      ["/mqtt", {}],
      ["/health", {}],
      ["/api/overview", { Authorization: `Bearer ${ADMIN_TOKEN}` }],
      ["/metrics", { Authorization: `Bearer ${ADMIN_TOKEN}` }],
      ["/stats/sessions/x", { Authorization: `Bearer ${STATS_TOKEN}` }],
    ];
    for (const [path, headers] of routes) {
      const res = await fetch(broker.url + path, { headers });
      const body = await res.text();
      expect(res.status, path).toBe(500);
      if (path === "/mqtt") expect(await upgrade(broker.mqttUrl)).toEqual({ status: 500, body });
      expect(body, path).toMatch(/^broker misconfigured: /);
      for (const name of ["MAX_PACKET_SIZE", "MAX_INFLIGHT", "LOG_LEVEL", "ALLOWED_ORIGINS", "ALLOW_ANONYMOUS"]) expect(body, `${path} names ${name}`).toContain(name);
    }
  });

  it("still serves its static pages", async () => {
    const res = await fetch(`${broker.url}/`);
    await res.arrayBuffer();
    expect(res.status).toBe(200);
  });

  it("is refused by the gateway at startup, with what the Worker said", async () => {
    await expect(startTestGateway(broker)).rejects.toThrow(/refused the gateway's WebSocket with HTTP 500: broker misconfigured: .*MAX_PACKET_SIZE.*npm run check-config/);
  });
});

describe("a broker with good settings", () => {
  let broker: Broker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(() => broker.stop());

  const stats = async (path: string) => {
    const res = await fetch(`${broker.url}/stats/${path}`, { headers: { Authorization: `Bearer ${STATS_TOKEN}` } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it("answers /health", async () => {
    const res = await fetch(`${broker.url}/health`);
    expect([res.status, await res.text()]).toEqual([200, "edge-mqtt-broker: ok\n"]);
  });

  it("answers 404 for a client id it does not know, 200 for one it does", async () => {
    const unknown = await stats(`sessions/${uniqueId("never")}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatch(/^no session ".*": that client id never connected/);
    const id = uniqueId("known");
    const client = await connect(broker.mqttUrl, { clientId: id, clean: false });
    await client.subscribeAsync("config-test/known", { qos: 1 });
    expect(await stats(`sessions/${id}`)).toMatchObject({ status: 200, body: { clientId: id, connected: true } });
    await client.endAsync();
    expect(await stats(`sessions/${id}`)).toMatchObject({ status: 200, body: { clientId: id, connected: false } });
  });

  it("answers 404 for a shard key it does not know: not t/<level> or #, or never used", async () => {
    const bare = await stats("shards/sensors");
    expect(bare.status).toBe(404);
    expect(bare.body.error).toContain("shard keys are t/<first topic level>");
    expect((await stats(`shards/t/${uniqueId("unused")}`)).status).toBe(404);
    const level = uniqueId("level");
    const client = await connect(broker.mqttUrl);
    await client.subscribeAsync([`${level}/+`, "#"], { qos: 0 });
    expect(await stats(`shards/t/${level}`)).toMatchObject({ status: 200, body: { shard: `t/${level}`, subscriptions: 1 } });
    expect(await stats("shards/%23")).toMatchObject({ status: 200, body: { shard: "#" } });
    await client.endAsync();
  });

  it("is refused by the gateway at startup on a wrong path or a wrong secret", async () => {
    await expect(startTestGateway({ ...broker, mqttUrl: `${broker.url.replace(/^http/, "ws")}/wrongpath` })).rejects.toThrow(/HTTP 404.*the broker's is \/mqtt/);
    await expect(startTestGateway(broker, { secret: "not-the-secret" })).rejects.toThrow(/HTTP 401: unauthorized: wrong gateway secret .*GATEWAY_SECRET/);
    const gateway = await startTestGateway(broker);
    await gateway.stop();
  });
});

describe("npm run check-config", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "check-config-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const check = (toml: string, devVars: string | undefined, ...args: string[]) => {
    writeFileSync(join(dir, "wrangler.toml"), toml);
    rmSync(join(dir, ".dev.vars"), { force: true });
    if (devVars !== undefined) writeFileSync(join(dir, ".dev.vars"), devVars);
    const run = spawnSync(process.execPath, [join(root, "scripts", "check-config.mjs"), "--config", join(dir, "wrangler.toml"), ...args], { cwd: root, encoding: "utf8" });
    return { status: run.status, out: run.stdout + run.stderr };
  };

  it("passes the project's own settings", () => {
    const run = spawnSync(process.execPath, [join(root, "scripts", "check-config.mjs")], { cwd: root, encoding: "utf8" });
    expect(run.stdout + run.stderr).toContain("setting(s) OK (wrangler.toml [vars] + .dev.vars)");
    expect(run.status).toBe(0);
  });

  it("names every bad value and every unknown name at once, with the nearest known name, and exits 1", () => {
    const toml = 'name = "x"\n[vars]\nMAX_PACKET_SIZE = "abc" # bad\nMAX_PACKETSIZE = "100"\nMAX_INFLIGHT = 1.5\nRETAIN_AVAILABLE = true\n\n[[migrations]]\ntag = "v1"\n';
    const { status, out } = check(toml, "ALLOW_ANONYMOUS=yes\nSTAT_TOKEN=x\nSYS_INTERVAL=often\n");
    expect(status).toBe(1);
    expect(out).toContain("7 problem(s) with the broker's settings");
    expect(out).toMatch(/MAX_PACKET_SIZE must be an integer from 64 to \d+, got "abc" \(.*wrangler\.toml \[vars\]\)/);
    expect(out).toContain("MAX_INFLIGHT must be an integer from 1 to 65535, got 1.5");
    expect(out).toContain('RETAIN_AVAILABLE must be "true" or "false", got true');
    expect(out).toMatch(/ALLOW_ANONYMOUS must be "true" or "false", got "yes" \(.*\.dev\.vars\)/);
    expect(out).toContain('SYS_INTERVAL must be an integer from 0 to 86400 (seconds; 0 = off), got "often"');
    expect(out).toContain("MAX_PACKETSIZE is not a setting of this broker (did you mean MAX_PACKET_SIZE?)");
    expect(out).toContain("STAT_TOKEN is not a setting of this broker (did you mean STATS_TOKEN?)");
  });

  it("checks [vars] alone (--no-dev-vars, as deployed) or with another env file (--env-file)", () => {
    const toml = '[vars]\nMAX_PACKET_SIZE = "100000"\nADMIN_TOKEN = "in-the-repo"\n';
    const alone = check(toml, "MAX_INFLIGHT=0\n", "--no-dev-vars");
    expect(alone.status).toBe(0);
    expect(alone.out).toContain("warning: ADMIN_TOKEN is in");
    writeFileSync(join(dir, "production.vars"), "JWT_SECRET=short\n");
    const other = check(toml, "MAX_INFLIGHT=0\n", "--env-file", join(dir, "production.vars"));
    expect(other.status).toBe(1);
    expect(other.out).toContain("JWT_SECRET must be at least 32 bytes");
    expect(other.out).not.toContain("MAX_INFLIGHT");
  });
});
