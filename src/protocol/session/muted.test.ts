/**
 * An offline session says so in its answer to a topic shard, so the shard holds back QoS 0
 * messages it would drop anyway (review finding F28), and it tells those shards when its client
 * is back, even after a restart of its object.
 */
import { describe, expect, it } from "vitest";
import { MemoryKv } from "../../storage/memory-kv.js";
import { forVersion, message, newSession, ok, only, route, settle, subscribePacket } from "./test-support.js";

describe.each([4, 5] as const)("MQTT %s: shards told the client is offline", (version) => {
  const { connect } = forVersion(version);
  const persistent = version === 5 ? { clean: false, properties: { sessionExpiryInterval: 3600 } } : { clean: false };

  function offlineClient(kv = new MemoryKv()) {
    const { session } = newSession({}, kv);
    connect(session, "conn1", "c1", persistent);
    settle(
      session,
      session.receive(
        "conn1",
        route("c1"),
        ok(
          subscribePacket([
            ["a/b", 1],
            ["x/#", 1],
          ]),
        ),
        0,
      ),
    );
    session.connectionLost("conn1", 0);
    return { session, kv };
  }

  it("answers offline while the client is away, and online-only otherwise", () => {
    const { session } = offlineClient();
    expect(session.deliver("t/a", [{ message: message("a/b", "q0", 0) }], 0).outcome).toEqual({ gone: false, declined: [], offline: true });
    const { session: live } = newSession();
    connect(live, "conn1", "c1", persistent);
    // (It holds no filter for a/b, and says so: see F20.)
    expect(live.deliver("t/a", [{ message: message("a/b", "q0", 0) }], 0).outcome).toEqual({ gone: false, declined: [], unmatched: ["a/b"] });
  });

  it("tells each shard that held back messages once, when the client reconnects, after a restart too", () => {
    const { kv } = offlineClient();
    const { session } = newSession({}, kv);
    session.deliver("t/a", [{ message: message("a/b", "1", 0) }], 0);
    session.deliver("t/a", [{ message: message("a/b", "2", 0) }], 0);
    session.deliver("t/x", [{ message: message("x/y", "3", 0) }], 0);
    // The object restarts before the client comes back.
    const { session: restarted } = newSession({}, kv);
    const actions = connect(restarted, "conn2", "c1", persistent);
    expect(only(actions, "online").map((a) => [a.shard, a.clientId])).toEqual([
      ["t/a", "c1"],
      ["t/x", "c1"],
    ]);
    restarted.connectionLost("conn2", 0);
    expect(only(connect(restarted, "conn3", "c1", persistent), "online")).toEqual([]);
  });

  it("a clean start forgets them: its unsubscribe clears the shards' record", () => {
    const { session } = offlineClient();
    session.deliver("t/a", [{ message: message("a/b", "1", 0) }], 0);
    const actions = connect(session, "conn2", "c1", { clean: true });
    expect(only(actions, "online")).toEqual([]);
    expect(
      only(actions, "unsubscribe")
        .flatMap((u) => u.filters)
        .sort(),
    ).toEqual(["a/b", "x/#"]);
  });
});
