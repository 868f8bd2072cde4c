/**
 * Process trees from /proc: the broker is whatever its root PIDs spawned (wrangler starts workerd
 * children), so CPU, memory and stopping all walk the tree, and stopping checks that nothing of
 * it is left running or listening.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { connect } from "node:net";

/** The PIDs and all their descendants that are still alive. */
export function descendants(pids: number[]): number[] {
  const out: number[] = [];
  const walk = (pid: number) => {
    if (out.includes(pid)) return;
    try {
      const tasks = readdirSync(`/proc/${pid}/task`);
      out.push(pid);
      for (const task of tasks) {
        const children = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim();
        for (const child of children ? children.split(/\s+/).map(Number) : []) walk(child);
      }
    } catch {
      // gone
    }
  };
  pids.forEach(walk);
  return out;
}

/** CPU seconds used by processes and all their descendants. */
export function treeCpu(pids: number[]): number {
  let total = 0;
  for (const pid of descendants(pids)) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      total += (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks
    } catch {
      // gone
    }
  }
  return total;
}

/** Resident memory of processes and all their descendants, in bytes. */
export function treeRss(pids: number[]): number {
  let total = 0;
  for (const pid of descendants(pids)) {
    try {
      total += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
    } catch {
      // gone
    }
  }
  return total;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    // A zombie still answers kill(0) until its parent reaps it; it holds no port and no CPU.
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
};

const signal = (pid: number, sig: NodeJS.Signals) => {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
};

/** Whether something accepts connections on 127.0.0.1:port. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Stops a child started with `detached: true` (so it leads its own process group) and everything
 * it spawned: SIGTERM to the group, SIGKILL to whatever of the group or the tree is left after
 * `graceMs`. Returns what was still there at the end (nothing, normally): PIDs alive, ports
 * still accepting connections.
 */
export async function stopGroup(child: ChildProcess, ports: number[], graceMs = 10_000): Promise<{ pids: number[]; ports: number[] }> {
  const leader = child.pid!;
  const tree = descendants([leader]);
  signal(-leader, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && tree.some(alive)) await new Promise((r) => setTimeout(r, 100));
  if (tree.some(alive)) {
    signal(-leader, "SIGKILL");
    for (const pid of tree.filter(alive)) signal(pid, "SIGKILL");
    await new Promise((r) => setTimeout(r, 300));
  }
  const open: number[] = [];
  for (const port of ports) if (await listening(port)) open.push(port);
  return { pids: tree.filter(alive), ports: open };
}
