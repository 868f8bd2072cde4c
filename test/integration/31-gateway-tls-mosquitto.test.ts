/** The gateway with TLS (certificate made in the test), Debian's mosquitto clients, and startup errors. */
import { execFile, execFileSync, spawn } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway } from "../../gateway/src/gateway.js";
import { GatewayConfigError, parseOptions } from "../../gateway/src/options.js";
import { type Broker, startBroker } from "../helpers/broker.js";
import { collect, connect, uniqueId } from "../helpers/clients.js";
import { eventually } from "../helpers/eventually.js";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";

let broker: Broker;
let gateway: TestGateway;
let dir: string;
let cert: Buffer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gateway-tls-"));
  // A throwaway self-signed certificate for 127.0.0.1, valid for one day.
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
    { stdio: "ignore" },
  );
  cert = readFileSync(join(dir, "cert.pem"));
  broker = await startBroker();
  gateway = await startTestGateway(broker, { tls: { cert, key: readFileSync(join(dir, "key.pem")) } });
});
afterAll(async () => {
  await gateway.stop();
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("TLS", () => {
  it("carries MQTT over TLS, verified against the test certificate", async () => {
    const topic = `tls/${uniqueId()}`;
    const wsSub = await connect(broker.mqttUrl);
    await wsSub.subscribeAsync(topic, { qos: 1 });
    const inbox = collect(wsSub);
    const tls = await connect(`mqtts://127.0.0.1:${gateway.tlsPort}`, { ca: cert, rejectUnauthorized: true });
    await tls.publishAsync(topic, "encrypted", { qos: 1 });
    expect((await inbox.next()).payload).toBe("encrypted");
    await Promise.all([tls.endAsync(), wsSub.endAsync()]);
  });

  it("refuses a client that does not trust the certificate, and keeps serving", async () => {
    await expect(connect(`mqtts://127.0.0.1:${gateway.tlsPort}`, { rejectUnauthorized: true })).rejects.toThrow();
    const ok = await connect(`mqtts://127.0.0.1:${gateway.tlsPort}`, { ca: cert });
    await ok.endAsync();
  });
});

const hasMosquitto = (() => {
  try {
    execFileSync("mosquitto_sub", ["--help"], { stdio: "ignore" });
    return true;
  } catch (error) {
    // mosquitto_sub --help exits 1 but exists; ENOENT means it is not installed.
    return (error as NodeJS.ErrnoException).code !== "ENOENT";
  }
})();
// CI installs mosquitto-clients (.ci/run) and sets REQUIRE_MOSQUITTO_CLIENTS, so there it never skips.
if (!hasMosquitto && process.env.REQUIRE_MOSQUITTO_CLIENTS) throw new Error("mosquitto-clients are required but not installed");

// Never execFileSync here: the gateway runs in this process and must keep serving meanwhile.
const run = promisify(execFile);

describe.skipIf(!hasMosquitto)("Debian's mosquitto_pub / mosquitto_sub through the gateway", () => {
  const sub = (args: string[]) => {
    const child = spawn("mosquitto_sub", ["-h", "127.0.0.1", "-p", String(gateway.port), "-W", "10", ...args]);
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    const done = new Promise<string>((resolve) => child.on("exit", () => resolve(out)));
    return { child, done };
  };
  /** mosquitto_sub says nothing when it has subscribed: its session does. */
  const subscribed = (id: string, filter: string) => eventually(async () => expect((await broker.stats("sessions", id)).subscriptions).toHaveProperty([filter]), { timeout: 10_000 });

  it.each(["0", "1", "2"])("mosquitto_sub (TCP) gets a WebSocket publisher's QoS %s message", async (qos) => {
    const topic = `mosq/${uniqueId()}`;
    const id = uniqueId("mosq-sub");
    const s = sub(["-i", id, "-t", topic, "-q", qos, "-C", "1", "-v"]);
    await subscribed(id, topic);
    const ws = await connect(broker.mqttUrl);
    await ws.publishAsync(topic, `hello ${qos}`, { qos: Number(qos) as 0 | 1 | 2 });
    expect((await s.done).trim()).toBe(`${topic} hello ${qos}`);
    await ws.endAsync();
  });

  it.each(["0", "1", "2"])("mosquitto_pub (TCP) reaches a WebSocket subscriber at QoS %s", async (qos) => {
    const topic = `mosq/${uniqueId()}`;
    const ws = await connect(broker.mqttUrl);
    await ws.subscribeAsync(topic, { qos: 2 });
    const inbox = collect(ws);
    await run("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(gateway.port), "-t", topic, "-m", "from mosquitto", "-q", qos]);
    expect(await inbox.next()).toMatchObject({ payload: "from mosquitto", qos: Number(qos) });
    await ws.endAsync();
  });

  it("mosquitto_pub -r leaves a retained message that a WebSocket subscriber gets", async () => {
    const topic = `mosq/retained/${uniqueId()}`;
    await run("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(gateway.port), "-t", topic, "-m", "sticky", "-q", "1", "-r"]);
    const ws = await connect(broker.mqttUrl);
    const inbox = collect(ws);
    await ws.subscribeAsync(topic, { qos: 1 });
    expect(await inbox.next()).toMatchObject({ payload: "sticky", retain: true });
    await ws.endAsync();
  });

  it("mosquitto_sub with MQTT 5 (-V 5) and a will fired by killing it", async () => {
    const topic = `mosq/will/${uniqueId()}`;
    const watcher = await connect(broker.mqttUrl);
    await watcher.subscribeAsync(topic, { qos: 1 });
    const inbox = collect(watcher);
    const id = uniqueId("mosq-will");
    const s = sub(["-V", "5", "-i", id, "-t", "mosq/none", "--will-topic", topic, "--will-payload", "mosquitto died", "--will-qos", "1"]);
    await subscribed(id, "mosq/none");
    s.child.kill("SIGKILL");
    expect((await inbox.next()).payload).toBe("mosquitto died");
    await watcher.endAsync();
  });
});

describe("startup errors name what to change", () => {
  it("a port in use", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const port = (blocker.address() as { port: number }).port;
    const options = parseOptions(["--port", String(port), "--worker-url", broker.mqttUrl], {});
    await expect(startGateway(options as never, () => {})).rejects.toThrow(`cannot listen on 127.0.0.1:${port}: the address is already in use (change --port / GATEWAY_PORT)`);
    blocker.close();
  });

  it("an unreadable certificate", () => {
    expect(() => parseOptions(["--tls-cert", "/nonexistent/cert.pem", "--tls-key", "/nonexistent/key.pem"], {})).toThrow(GatewayConfigError);
    expect(() => parseOptions(["--tls-cert", "/nonexistent/cert.pem", "--tls-key", "/x"], {})).toThrow("cannot read --tls-cert / GATEWAY_TLS_CERT file /nonexistent/cert.pem: ENOENT");
  });

  it("an unreachable Worker", async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", () => r()));
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const options = parseOptions(["--port", "0", "--worker-url", `ws://127.0.0.1:${port}/mqtt`], {});
    await expect(startGateway(options as never, () => {})).rejects.toThrow(`the Worker at ws://127.0.0.1:${port}/mqtt is unreachable: ECONNREFUSED`);
  });

  it("a bad value, from a flag or the environment", () => {
    expect(() => parseOptions([], { GATEWAY_PORT: "eighty" })).toThrow('--port / GATEWAY_PORT must be an integer from 0 to 65535, got "eighty"');
    expect(() => parseOptions(["--worker-url", "http://x"], {})).toThrow("--worker-url / GATEWAY_WORKER_URL must start with ws:// or wss://");
    expect(() => parseOptions(["--frobnicate"], {})).toThrow("unknown flag --frobnicate");
    expect(parseOptions(["--help"], {})).toBe("help");
  });

  it("--max-connections / GATEWAY_MAX_CONNECTIONS: 10000 unless set, at least 1", () => {
    expect(parseOptions([], {})).toMatchObject({ maxConnections: 10_000 });
    expect(parseOptions(["--max-connections", "50"], {})).toMatchObject({ maxConnections: 50 });
    expect(parseOptions([], { GATEWAY_MAX_CONNECTIONS: "7" })).toMatchObject({ maxConnections: 7 });
    expect(() => parseOptions(["--max-connections=0"], {})).toThrow("--max-connections / GATEWAY_MAX_CONNECTIONS must be an integer from 1 to 1000000");
  });
});
