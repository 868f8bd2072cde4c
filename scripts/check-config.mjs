#!/usr/bin/env node
// Checks the broker's settings before anything runs: wrangler.toml [vars] plus .dev.vars (what
// `npm start` / `wrangler dev` give the Worker), or plus another env file, or [vars] alone (what
// `wrangler deploy` uploads). Every bad value and every name the broker does not know (with the
// nearest known name) is listed at once; the exit status is 1 if there is any. `npm start` and
// `npm run deploy` run it first. The checks are the Worker's own (src/worker/settings.ts), bundled.
import { build } from "esbuild";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

const HELP = `Usage: npm run check-config -- [options]

Checks the broker's settings: names every bad value and every unknown name at once; exit 1 if any.

  (no option)          wrangler.toml [vars] + .dev.vars, as npm start (wrangler dev) uses them
  --env-file FILE      wrangler.toml [vars] + FILE (KEY=value lines, e.g. what you will set as
                       secrets) instead of .dev.vars
  --no-dev-vars        wrangler.toml [vars] only: what wrangler deploy uploads (npm run deploy)
  --config FILE        another wrangler.toml
  --env NAME           a wrangler environment: [env.NAME.vars] (and .dev.vars.NAME if it exists)
  --help               this text`;

/** The Worker's checks (src/worker/settings.ts), bundled for Node in memory on first use. */
let checksModule;
export async function loadChecks() {
  if (!checksModule) {
    const result = await build({
      entryPoints: [join(root, "src", "worker", "settings.ts")],
      write: false,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      logLevel: "warning",
    });
    const code = result.outputFiles[0].text;
    checksModule = await import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`);
  }
  return checksModule;
}

/**
 * Reads the settings the Worker would get, with where each came from.
 * options: { config?: path of wrangler.toml, env?: wrangler environment, envFile?: path, devVars?: false }
 */
export function readSettings(options = {}) {
  const configPath = resolve(root, options.config ?? "wrangler.toml");
  const problems = [];
  const vars = {};
  const from = {};
  const sources = [];
  const inConfig = [];
  const label = (file) => {
    const rel = relative(process.cwd(), file);
    return rel && !rel.startsWith("..") ? rel : file;
  };
  if (!existsSync(configPath)) problems.push(`${label(configPath)} does not exist`);
  else {
    const section = options.env ? `[env.${options.env}.vars]` : "[vars]";
    const parsed = configPath.endsWith(".json") ? jsonVars(readFileSync(configPath, "utf8"), options.env) : tomlVars(readFileSync(configPath, "utf8"), options.env);
    for (const p of parsed.problems) problems.push(`${label(configPath)}: ${p}`);
    for (const [name, value] of Object.entries(parsed.vars)) {
      vars[name] = value;
      from[name] = `${label(configPath)} ${section}`;
      inConfig.push(name);
    }
    sources.push(`${label(configPath)} ${section}`);
  }
  let envFile;
  if (options.envFile) {
    envFile = resolve(process.cwd(), options.envFile);
    if (!existsSync(envFile)) problems.push(`${label(envFile)} does not exist`);
  } else if (options.devVars !== false) {
    const base = join(dirname(configPath), ".dev.vars");
    envFile = [options.env ? `${base}.${options.env}` : undefined, base].find((f) => f && existsSync(f));
  }
  if (envFile && existsSync(envFile)) {
    for (const [name, value] of Object.entries(parseDotenv(readFileSync(envFile, "utf8")))) {
      vars[name] = value;
      from[name] = label(envFile);
    }
    sources.push(label(envFile));
  }
  return { vars, from, sources, problems, configPath: label(configPath), inConfig };
}

/** Every problem with the settings: { errors, warnings, sources, count }. */
export async function checkSettings(options = {}) {
  const { settingsErrors, unknownSettings, describeUnknown, KNOWN_SETTINGS, SECRET_SETTINGS } = await loadChecks();
  const read = readSettings(options);
  const where = (message) => {
    const name = KNOWN_SETTINGS.find((n) => new RegExp(`\\b${n}\\b`).test(message) && read.from[n] !== undefined);
    return name ? `${message} (${read.from[name]})` : message;
  };
  const errors = [...read.problems, ...settingsErrors(read.vars).map(where), ...unknownSettings(Object.keys(read.vars)).map((u) => `${describeUnknown(u)} (${read.from[u.name]})`)];
  const warnings = [];
  for (const name of SECRET_SETTINGS.filter((n) => read.inConfig.includes(n))) {
    warnings.push(`${name} is in ${read.configPath}, which is committed and uploaded as plain text: set it with \`npx wrangler secret put ${name}\` instead`);
  }
  return { errors, warnings, sources: read.sources, count: Object.keys(read.vars).length };
}

/** The report `npm start` and `npm run check-config` print; true when there is nothing wrong. */
export function report(result, prefix = "check-config") {
  for (const w of result.warnings) console.warn(`${prefix}: warning: ${w}`);
  const from = result.sources.join(" + ") || "nothing";
  if (result.errors.length === 0) {
    console.log(`${prefix}: ${result.count} setting(s) OK (${from})`);
    return true;
  }
  console.error(`${prefix}: ${result.errors.length} problem(s) with the broker's settings (${from}):`);
  for (const e of result.errors) console.error(`  - ${e}`);
  return false;
}

// ---- .dev.vars: parsed as wrangler does (dotenv) -------------------------------------------------

const DOTENV_LINE = /(?:^|^)\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)/gm;

/** KEY=value lines, as the dotenv package (which wrangler uses for .dev.vars) reads them. */
export function parseDotenv(text) {
  const out = {};
  const lines = text.replace(/\r\n?/g, "\n");
  let match;
  DOTENV_LINE.lastIndex = 0;
  while ((match = DOTENV_LINE.exec(lines)) !== null) {
    let value = (match[2] ?? "").trim();
    const quote = value[0];
    value = value.replace(/^(['"`])([\s\S]*)\1$/gm, "$2");
    if (quote === '"') value = value.replace(/\\n/g, "\n").replace(/\\r/g, "\r");
    out[match[1]] = value;
  }
  return out;
}

// ---- wrangler.toml: the [vars] table (or [env.NAME.vars]) ----------------------------------------

/** The variables of wrangler.toml's [vars] (or [env.NAME.vars]): strings, numbers, booleans. */
export function tomlVars(text, env) {
  const want = env ? `env.${env}.vars` : "vars";
  const vars = {};
  const problems = [];
  let table = "";
  let i = 0;
  let line = 1;
  const peek = (s) => text.startsWith(s, i);
  const skipSpace = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\t")) i++;
  };
  const skipComment = () => {
    skipSpace();
    if (text[i] === "#") while (i < text.length && text[i] !== "\n") i++;
  };
  const skipLine = () => {
    while (i < text.length && text[i] !== "\n") i++;
  };
  while (i < text.length) {
    skipSpace();
    if (text[i] === "\n") {
      i++;
      line++;
      continue;
    }
    if (text[i] === "\r" || text[i] === "#") {
      skipLine();
      continue;
    }
    if (text[i] === "[") {
      const end = text.indexOf("\n", i);
      const header = text
        .slice(i, end === -1 ? text.length : end)
        .replace(/#.*$/, "")
        .trim();
      table = header.startsWith("[[")
        ? ""
        : header
            .slice(1, -1)
            .trim()
            .replace(/\s*\.\s*/g, ".")
            .replace(/"/g, "");
      skipLine();
      continue;
    }
    // key = value
    const keyStart = i;
    const key = readKey();
    skipSpace();
    if (key === undefined || text[i] !== "=") {
      problems.push(`line ${line}: cannot read ${JSON.stringify(text.slice(keyStart, text.indexOf("\n", keyStart) === -1 ? undefined : text.indexOf("\n", keyStart)).trim())}`);
      skipLine();
      continue;
    }
    i++;
    skipSpace();
    const startLine = line;
    const value = readValue();
    // `[vars]` then `NAME = …`, or a dotted key `vars.NAME = …` (at the top or in [env.X]).
    const fullKey = table ? `${table}.${key}` : key;
    const name = fullKey.startsWith(`${want}.`) ? fullKey.slice(want.length + 1) : undefined;
    if (name !== undefined) {
      if (value.error) problems.push(`line ${startLine}: ${name}: ${value.error}`);
      else if (value.kind === "other") problems.push(`line ${startLine}: ${name} must be a string, a number or true/false, got ${value.raw}`);
      else vars[name] = value.value;
    } else if (fullKey === want && !value.error) {
      problems.push(`line ${startLine}: write the variables as a [${want}] table, not an inline table (this check reads only the table form)`);
    }
    skipComment();
  }
  return { vars, problems };

  function readKey() {
    const parts = [];
    for (;;) {
      skipSpace();
      if (text[i] === '"' || text[i] === "'") {
        const s = readString();
        if (s.error) return undefined;
        parts.push(s.value);
      } else {
        const m = /^[A-Za-z0-9_-]+/.exec(text.slice(i, i + 256));
        if (!m) return undefined;
        parts.push(m[0]);
        i += m[0].length;
      }
      skipSpace();
      if (text[i] !== ".") return parts.join(".");
      i++;
    }
  }

  function readString() {
    if (peek('"""') || peek("'''")) {
      const quote = text.slice(i, i + 3);
      i += 3;
      if (text[i] === "\n") {
        i++;
        line++;
      } else if (peek("\r\n")) {
        i += 2;
        line++;
      }
      let out = "";
      while (i < text.length && !(peek(quote) && text.slice(i + 3, i + 4) !== quote[0])) {
        if (quote === '"""' && text[i] === "\\") {
          // A backslash at the end of a line trims it and the following whitespace.
          if (/^\\[ \t]*\r?\n/.test(text.slice(i, i + 64))) {
            i++;
            while (/[ \t\r\n]/.test(text[i] ?? "")) {
              if (text[i] === "\n") line++;
              i++;
            }
            continue;
          }
          const esc = escapeSequence();
          if (esc.error) return esc;
          out += esc.value;
          continue;
        }
        if (text[i] === "\n") line++;
        out += text[i++];
      }
      if (i >= text.length) return { error: "an unterminated multi-line string" };
      i += 3;
      return { value: out };
    }
    const quote = text[i++];
    let out = "";
    while (i < text.length && text[i] !== quote) {
      if (text[i] === "\n") return { error: "a string that does not end on its line" };
      if (quote === '"' && text[i] === "\\") {
        const esc = escapeSequence();
        if (esc.error) return esc;
        out += esc.value;
        continue;
      }
      out += text[i++];
    }
    if (i >= text.length) return { error: "an unterminated string" };
    i++;
    return { value: out };
  }

  function escapeSequence() {
    const c = text[i + 1];
    const simple = { b: "\b", t: "\t", n: "\n", f: "\f", r: "\r", '"': '"', "\\": "\\", e: "\x1b" };
    if (c !== undefined && c in simple) {
      i += 2;
      return { value: simple[c] };
    }
    if (c === "u" || c === "U") {
      const len = c === "u" ? 4 : 8;
      const hex = text.slice(i + 2, i + 2 + len);
      if (!new RegExp(`^[0-9A-Fa-f]{${len}}$`).test(hex)) return { error: `a bad escape \\${c}${hex}` };
      i += 2 + len;
      return { value: String.fromCodePoint(parseInt(hex, 16)) };
    }
    return { error: `an unknown escape \\${c ?? ""}` };
  }

  function readValue() {
    if (text[i] === '"' || text[i] === "'") {
      const s = readString();
      return s.error ? s : { kind: "string", value: s.value };
    }
    if (text[i] === "[" || text[i] === "{") {
      // An array or inline table: skipped to its matching bracket (strings inside may hold brackets).
      const start = i;
      let depth = 0;
      while (i < text.length) {
        const ch = text[i];
        if (ch === '"' || ch === "'") {
          const s = readString();
          if (s.error) return s;
          continue;
        }
        if (ch === "\n") line++;
        if (ch === "[" || ch === "{") depth++;
        if (ch === "]" || ch === "}") depth--;
        i++;
        if (depth === 0) break;
      }
      return { kind: "other", raw: text.slice(start, i).replace(/\s+/g, " ") };
    }
    const m = /^[^\s#,\]}]+/.exec(text.slice(i, i + 256));
    const raw = m ? m[0] : "";
    i += raw.length;
    if (raw === "true" || raw === "false") return { kind: "bool", value: raw === "true" };
    const number = raw.replace(/_/g, "");
    if (/^[+-]?(\d+|0x[0-9a-fA-F]+|0o[0-7]+|0b[01]+)$/.test(number)) return { kind: "number", value: Number(number.replace(/^\+/, "")) };
    if (/^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(number)) return { kind: "number", value: Number(number) };
    return { error: raw ? `cannot read the value ${raw}` : "a missing value" };
  }
}

/** wrangler.json: its vars (or env.NAME.vars). */
function jsonVars(text, env) {
  try {
    const config = JSON.parse(text);
    const vars = (env ? config.env?.[env]?.vars : config.vars) ?? {};
    return { vars, problems: [] };
  } catch (error) {
    return { vars: {}, problems: [`not valid JSON: ${error.message}`] };
  }
}

// ---- the command -------------------------------------------------------------------------------

function parseArgs(argv) {
  const options = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === "--help" || arg === "-h") return "help";
    else if (arg === "--env-file") options.envFile = value();
    else if (arg === "--no-dev-vars") options.devVars = false;
    else if (arg === "--config" || arg === "-c") options.config = value();
    else if (arg === "--env" || arg === "-e") options.env = value();
    else throw new Error(`unknown option ${arg} (see --help)`);
  }
  if (options.envFile && options.devVars === false) throw new Error("--env-file and --no-dev-vars do not go together");
  return options;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`check-config: ${error.message}`);
    process.exit(2);
  }
  if (options === "help") {
    console.log(HELP);
    process.exit(0);
  }
  process.exit(report(await checkSettings(options)) ? 0 : 1);
}
