#!/usr/bin/env node
// Runs the broker locally: the Worker in workerd (wrangler dev, offline: no telemetry, no update
// checks, no login) at ws://127.0.0.1:8787/mqtt, and the TCP gateway at mqtt://127.0.0.1:1883.
// Durable Object state is kept in .state/ (or STATE_DIR) so a restart keeps sessions and retained
// messages.
//
// Environment: HOST (both listeners, default 127.0.0.1), PORT (the Worker, 8787), GATEWAY_PORT
// (1883), GATEWAY_HOST (default HOST), INSPECTOR_PORT (wrangler's devtools port; default 9229 or
// a free one), STATE_DIR, and the gateway's own GATEWAY_* settings.
//
// It behaves like a service: the settings are checked first (as `npm run check-config`), busy
// ports are named before anything starts, and the exit status is 1 when anything fails. Each
// child runs in its own process group, so SIGINT/SIGTERM/SIGHUP (or npm being killed) stop all of
// them: the gateway first, given up to 5 s to close its devices (their wills fire and clean
// sessions end in the Worker), then wrangler, then whatever is left of its group (workerd, the
// inspector).
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { dirname, join, resolve } from "node:path";
import { buildGateway } from "./build-gateway.mjs";
import { checkSettings, report } from "./check-config.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const host = process.env.HOST || "127.0.0.1";
const port = process.env.PORT || "8787";
const gatewayHost = process.env.GATEWAY_HOST || host;
const gatewayPort = process.env.GATEWAY_PORT || "1883";
const inspectorPort = process.env.INSPECTOR_PORT || undefined;
const stateDir = process.env.STATE_DIR ? resolve(process.env.STATE_DIR) : join(root, ".state");

/** How long the gateway has to close its devices before it is killed. */
const GATEWAY_STOP_MS = 5000;
/** After the gateway closed devices: time for the Worker to publish their wills and end their sessions. */
const WORKER_DRAIN_MS = 1000;
/** How long wrangler has to stop workerd before its whole process group is killed. */
const WRANGLER_STOP_MS = 5000;

const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  // The banner is where wrangler checks the registry for a newer version; hiding it skips that.
  WRANGLER_HIDE_BANNER: "true",
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const urlHost = (h) => (h.includes(":") ? `[${h}]` : h);
/** Where to reach a listener bound to `h` (a wildcard address is reached on loopback). */
const reachable = (h) => (h === "0.0.0.0" || h === "::" ? "127.0.0.1" : h);

function quit(message) {
  console.error(`start: ${message}`);
  process.exit(1);
}

// ---- before anything starts: settings and ports ------------------------------------------------

for (const [name, value] of [
  ["PORT", port],
  ["GATEWAY_PORT", gatewayPort],
  ["INSPECTOR_PORT", inspectorPort],
]) {
  if (value !== undefined && !(/^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= 65535)) quit(`${name} must be a port from 1 to 65535, got ${JSON.stringify(value)}`);
}
if (!report(await checkSettings(), "start")) quit("not starting: fix the settings above (`npm run check-config` checks them again)");

/** Resolves to undefined when host:port can be listened on, or to the error code. */
function tryListen(h, p) {
  return new Promise((done) => {
    const server = createServer();
    server.once("error", (error) => done(error.code ?? error.message));
    server.listen({ host: h, port: Number(p), exclusive: true }, () => server.close(() => done(undefined)));
  });
}
const listeners = [
  { h: host, p: port, setting: "PORT", who: "the Worker (wrangler dev)" },
  { h: gatewayHost, p: gatewayPort, setting: "GATEWAY_PORT", who: "the TCP gateway" },
  ...(inspectorPort ? [{ h: "127.0.0.1", p: inspectorPort, setting: "INSPECTOR_PORT", who: "wrangler's inspector" }] : []),
];
for (const { h, p, setting, who } of listeners) {
  const error = await tryListen(h, p);
  if (error === "EADDRINUSE")
    quit(`port ${p} on ${h} is already in use, so ${who} cannot listen there: stop what holds it, or choose another port with ${setting} (e.g. ${setting}=${Number(p) + 1} npm start)`);
  if (error) quit(`${who} cannot listen on ${h}:${p} (${error}): check HOST${setting === "GATEWAY_PORT" ? " / GATEWAY_HOST" : ""} and ${setting}`);
}

const gatewayFile = await buildGateway();
// The web pages (/ and /dashboard) are static assets: built before wrangler serves them.
await new Promise((done) =>
  spawn(process.execPath, [join(root, "node_modules", "vite", "bin", "vite.js"), "build", "--config", "web/vite.config.ts", "--logLevel", "warn"], { cwd: root, stdio: "inherit" }).on(
    "exit",
    (code, signal) => (code === 0 ? done() : quit(`building the web pages failed (${signal ?? `exit ${code}`})`)),
  ),
);

// ---- the children, each leading its own process group ------------------------------------------

let stopping = false;
let failed = false;
let parentWatch;
const children = {};

function run(name, args, { extraEnv = {}, ipc = false } = {}) {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...env, ...extraEnv },
    // Its own process group: a terminal's Ctrl-C reaches only this script, which stops the
    // children in order; and the group takes grandchildren (workerd) with it.
    detached: true,
    stdio: ["ignore", "inherit", "inherit", ...(ipc ? ["ipc"] : [])],
  });
  const entry = { name, child, exit: undefined };
  // After the exit and the IPC channel's end, so every message the child sent has arrived.
  entry.closed = new Promise((done) => child.on("close", done));
  entry.exited = new Promise((done) =>
    child.on("exit", (code, signal) => {
      entry.exit = { code, signal };
      done(entry.exit);
      if (!stopping) {
        failed = true;
        void stopAll(`${name} exited (${signal ?? `exit ${code}`}) while running`);
      }
    }),
  );
  child.on("error", (error) => {
    if (!stopping) {
      failed = true;
      void stopAll(`${name} could not be started: ${error.message}`);
    }
  });
  children[name] = entry;
  return entry;
}

const alive = (entry) => entry !== undefined && entry.exit === undefined;

/** Signals a child's whole process group; false if nothing of it is left. */
function signalGroup(entry, signal) {
  try {
    process.kill(-entry.child.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Waits until no process of the group is left, up to `ms`; true if it is gone. */
async function groupGone(entry, ms) {
  const deadline = Date.now() + ms;
  while (signalGroup(entry, 0)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

/** Stops a group: its leader with `signal`, up to `ms`; then what is left of the group, by force. */
async function stopGroup(entry, signal, ms) {
  if (alive(entry)) {
    try {
      entry.child.kill(signal);
    } catch {
      // already gone
    }
    const result = await Promise.race([entry.exited, sleep(ms)]);
    if (result === undefined) console.warn(`start: ${entry.name} did not stop within ${ms / 1000} s: killing it`);
  }
  // Whatever the leader left behind (workerd, the inspector, esbuild): asked, then forced.
  if (!(await groupGone(entry, 0))) {
    signalGroup(entry, "SIGTERM");
    if (!(await groupGone(entry, 1000))) {
      signalGroup(entry, "SIGKILL");
      await groupGone(entry, 2000);
    }
  }
}

let gatewayClosed = 0;
async function stopAll(reason) {
  if (stopping) return;
  stopping = true;
  clearInterval(parentWatch);
  console.log(`start: ${reason}: stopping the gateway, then the Worker`);
  const { gateway, wrangler } = children;
  if (gateway) {
    await stopGroup(gateway, "SIGTERM", GATEWAY_STOP_MS);
    await Promise.race([gateway.closed, sleep(500)]);
    // The devices' WebSockets are closed; give the Worker a moment to publish their wills.
    if (gatewayClosed > 0 && alive(wrangler)) await sleep(WORKER_DRAIN_MS);
  }
  // SIGINT is wrangler's Ctrl-C: it shuts workerd down itself.
  if (wrangler) await stopGroup(wrangler, "SIGINT", WRANGLER_STOP_MS);
  console.log(`start: stopped${failed ? " (after a failure: exit status 1)" : ""}`);
  process.exit(failed ? 1 : 0);
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => void stopAll(signal));

// Under `npm start`, npm runs this through `sh -c`, which does not pass a signal on: when npm is
// killed, this script is left with another parent. Noticing that is the only way to stop then.
const parent = process.ppid;
parentWatch = setInterval(() => {
  if (process.ppid !== parent) void stopAll("npm start was stopped");
}, 500);
if (process.env.npm_lifecycle_event === undefined || parent === 1) clearInterval(parentWatch);

const workerUrl = `ws://${urlHost(reachable(host))}:${port}/mqtt`;
run("wrangler", [
  join(root, "node_modules", "wrangler", "bin", "wrangler.js"),
  "dev",
  "--local",
  "--ip",
  host,
  "--port",
  port,
  ...(inspectorPort ? ["--inspector-port", inspectorPort] : []),
  "--persist-to",
  stateDir,
  "--show-interactive-dev-session=false",
]);
const gateway = run("gateway", [gatewayFile, "--wait-for-worker", "60"], {
  ipc: true,
  extraEnv: {
    GATEWAY_HOST: gatewayHost,
    GATEWAY_PORT: gatewayPort,
    GATEWAY_WORKER_URL: process.env.GATEWAY_WORKER_URL ?? workerUrl,
    // Matches .dev.vars, so the local Worker believes the gateway's client addresses.
    GATEWAY_SECRET: process.env.GATEWAY_SECRET ?? "local-gateway-secret",
  },
});
gateway.child.on("message", (message) => {
  if (message?.type === "ready" && !stopping) {
    const web = `http://${urlHost(reachable(host))}:${port}`;
    console.log(
      `start: ready: broker ${workerUrl} (web client ${web}/, console ${web}/dashboard), gateway mqtt://${urlHost(reachable(gatewayHost))}:${message.port}; state in ${stateDir}. Ctrl-C stops both.`,
    );
  }
  if (message?.type === "stopped") gatewayClosed = message.closed ?? 0;
});
