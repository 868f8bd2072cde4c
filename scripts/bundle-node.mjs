// Bundles a TypeScript entry point into one ESM file that Node runs: the gateway, and the fuzz
// and soak runners (and the fault tests' own copy of the gateway).
import { build } from "esbuild";

/** @param {string} entry @param {string} outfile @param {string[]} [external] */
export async function bundleForNode(entry, outfile, external = []) {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // ws's optional native speed-ups; it works without them.
    external: ["bufferutil", "utf-8-validate", ...external],
    // Bundled CommonJS (mqtt-packet, ws) still calls require for Node built-ins.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: "warning",
  });
  return outfile;
}
