#!/usr/bin/env node
// Bundles the TCP gateway (gateway/src, TypeScript) into one runnable file, dist/gateway.mjs.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export async function buildGateway() {
  const outfile = join(root, "dist", "gateway.mjs");
  await build({
    entryPoints: [join(root, "gateway", "src", "main.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // ws's optional native speed-ups; it works without them.
    external: ["bufferutil", "utf-8-validate"],
    // Bundled CommonJS (mqtt-packet, ws) still calls require for Node built-ins.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: "warning",
  });
  return outfile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = await buildGateway();
  console.log(`built ${out}`);
}
