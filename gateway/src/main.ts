/** The gateway's command line: parse settings, start, and stop cleanly on SIGTERM/SIGINT. */
import { GatewayStartError, startGateway } from "./gateway.js";
import { GatewayConfigError, helpText, parseOptions } from "./options.js";

async function main(): Promise<void> {
  let options;
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
  let gateway;
  try {
    gateway = await startGateway(options);
  } catch (error) {
    if (error instanceof GatewayStartError) {
      console.error(`gateway: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`gateway: ${signal}: closing ${gateway.stats().open} client(s)`);
    await gateway.stop();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

void main();
