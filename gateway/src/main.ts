/** The gateway's command line: parse settings, start, and stop cleanly on SIGTERM/SIGINT. */
import { type Gateway, GatewayStartError, startGateway } from "./gateway.js";
import { GatewayConfigError, type GatewayOptions, helpText, parseOptions } from "./options.js";

async function main(): Promise<void> {
  let options: GatewayOptions | "help";
  try {
    options = parseOptions(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof GatewayConfigError) {
      console.error(`gateway: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  if (options === "help") {
    console.log(helpText());
    return;
  }
  // Started by `npm start` with an IPC channel: if it goes (killed with SIGKILL), so do we.
  const orphaned = () => process.exit(1);
  if (process.send) process.once("disconnect", orphaned);
  let gateway: Gateway;
  try {
    gateway = await startGateway(options);
  } catch (error) {
    if (error instanceof GatewayStartError) {
      console.error(`gateway: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  // Started by `npm start` (scripts/start.mjs) with an IPC channel: it waits for this before saying "ready".
  process.send?.({ type: "ready", port: gateway.port, tlsPort: gateway.tlsPort });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const open = gateway.stats().open;
    console.log(`gateway: ${signal}: closing ${open} client(s)`);
    await gateway.stop();
    // Tells npm start whether the Worker has wills and clean sessions to finish before it stops.
    if (process.send && process.connected) await new Promise((done) => process.send!({ type: "stopped", closed: open }, () => done(undefined)));
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  if (process.send) {
    process.off("disconnect", orphaned);
    process.on("disconnect", () => void stop("npm start is gone"));
  }
}

void main();
