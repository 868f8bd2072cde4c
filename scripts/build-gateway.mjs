#!/usr/bin/env node
// Bundles the TCP gateway (gateway/src, TypeScript) into one runnable file, dist/gateway.mjs.
import { bundleForNode } from "./bundle-node.mjs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export async function buildGateway() {
  return bundleForNode(join(root, "gateway", "src", "main.ts"), join(root, "dist", "gateway.mjs"));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = await buildGateway();
  console.log(`built ${out}`);
}
