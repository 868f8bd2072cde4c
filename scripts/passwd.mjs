#!/usr/bin/env node
// Prints one password-file line for PASSWORD_FILE, in the format mosquitto_passwd writes:
//   user:$7$<iterations>$<base64 salt>$<base64 PBKDF2-HMAC-SHA512 hash>
// mosquitto 2.1 writes 1000 iterations by default (libcommon/password_common.c); so does this.
// The salt is 12 random bytes: mosquitto 2.0 accepts only 12-byte salts and 2.1 accepts 12 or 64,
// so the line works in both as well as here.
//
//   npm run passwd -- alice                      # asks for the password (not echoed), twice
//   printf %s "$PW" | npm run passwd -- alice    # reads it from stdin, one trailing newline dropped
//   npm run passwd -- alice --password "$PW"     # for scripts (visible in ps and shell history)
//   npm run passwd -- alice --iterations 210000  # costlier to guess, and to check on every CONNECT
import { pbkdf2Sync, randomBytes } from "node:crypto";

const DEFAULT_ITERATIONS = 1000;
const MAX_ITERATIONS = 1_000_000; // the most src/auth/password-file.ts accepts
const SALT_BYTES = 12;
const HASH_BYTES = 64;

const usage = `usage: npm run passwd -- <username> [--password <password>] [--iterations <n>]
Prints "<username>:$7$..." for PASSWORD_FILE (mosquitto password file format).
Without --password the password is read from the terminal (not echoed) or from stdin.`;

function fail(message) {
  process.stderr.write(`passwd: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const options = { username: undefined, password: undefined, iterations: DEFAULT_ITERATIONS };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    } else if (arg === "--password") {
      if (i + 1 >= argv.length) fail("--password needs a value");
      options.password = Buffer.from(argv[++i], "utf8");
    } else if (arg === "--iterations") {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 1 || value > MAX_ITERATIONS) {
        fail(`--iterations must be an integer from 1 to ${MAX_ITERATIONS}`);
      }
      options.iterations = value;
    } else if (arg.startsWith("-")) {
      fail(`unknown option ${arg}\n${usage}`);
    } else if (options.username === undefined) {
      options.username = arg;
    } else {
      fail(`one username only\n${usage}`);
    }
  }
  if (options.username === undefined) fail(usage);
  // The file is "user:hash" per line, so neither ':' nor line breaks fit in a username; mosquitto
  // refuses control characters too.
  if (options.username === "" || /[:\u0000-\u001f\u007f]/.test(options.username)) {
    fail("the username must be non-empty, without ':' or control characters");
  }
  return options;
}

/** Reads one line from the terminal without echoing it. */
function promptHidden(prompt) {
  return new Promise((resolve) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let typed = "";
    const onData = (chunk) => {
      for (const char of chunk.toString("utf8")) {
        if (char === "\r" || char === "\n") {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off("data", onData);
          process.stderr.write("\n");
          resolve(Buffer.from(typed, "utf8"));
          return;
        }
        if (char === "\u0003") {
          stdin.setRawMode(false);
          process.stderr.write("\n");
          process.exit(130);
        }
        if (char === "\u007f" || char === "\b") typed = [...typed].slice(0, -1).join("");
        else typed += char;
      }
    };
    stdin.on("data", onData);
  });
}

/** All of stdin as bytes (MQTT passwords may be binary), minus one trailing newline. */
async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  let bytes = Buffer.concat(chunks);
  if (bytes.at(-1) === 0x0a) bytes = bytes.subarray(0, bytes.at(-2) === 0x0d ? -2 : -1);
  return bytes;
}

async function readPassword() {
  if (!process.stdin.isTTY) return readStdin();
  const first = await promptHidden("Password: ");
  const again = await promptHidden("Reenter password: ");
  if (!first.equals(again)) fail("the passwords do not match");
  return first;
}

const options = parseArgs(process.argv.slice(2));
const password = options.password ?? (await readPassword());
if (password.length === 0) fail("empty password");
const salt = randomBytes(SALT_BYTES);
const hash = pbkdf2Sync(password, salt, options.iterations, HASH_BYTES, "sha512");
const encoded = `$7$${options.iterations}$${salt.toString("base64")}$${hash.toString("base64")}`;
process.stdout.write(`${options.username}:${encoded}\n`);
