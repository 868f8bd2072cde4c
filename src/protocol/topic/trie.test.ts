import { describe, expect, it } from "vitest";
import { topicMatches } from "./match.js";
import { SubscriptionTrie } from "./trie.js";

const keys = <V>(trie: SubscriptionTrie<V>, topic: string) =>
  trie
    .match(topic)
    .map((m) => `${m.key}@${m.filter}`)
    .sort();

describe("SubscriptionTrie", () => {
  it("is empty at first and matches nothing", () => {
    const trie = new SubscriptionTrie<number>();
    expect(trie.size).toBe(0);
    expect(trie.match("a/b")).toEqual([]);
  });

  it("returns the key, filter and value of every matching subscription", () => {
    const trie = new SubscriptionTrie<number>();
    trie.add("sport/tennis/+", "c1", 1);
    trie.add("sport/#", "c2", 2);
    trie.add("sport/football", "c3", 3);
    expect(trie.size).toBe(3);
    const matches = trie.match("sport/tennis/player1").sort((a, b) => a.key.localeCompare(b.key));
    expect(matches).toEqual([
      { key: "c1", filter: "sport/tennis/+", value: 1 },
      { key: "c2", filter: "sport/#", value: 2 },
    ]);
    expect(keys(trie, "sport/football")).toEqual(["c2@sport/#", "c3@sport/football"]);
  });

  it("'sport/#' matches 'sport' itself (MQTT 3.1.1 §4.7.1.2)", () => {
    const trie = new SubscriptionTrie<true>();
    trie.add("sport/#", "c", true);
    expect(keys(trie, "sport")).toEqual(["c@sport/#"]);
    expect(keys(trie, "sports")).toEqual([]);
  });

  it("'+' matches empty levels", () => {
    const trie = new SubscriptionTrie<true>();
    trie.add("+/+", "a", true);
    trie.add("/+", "b", true);
    trie.add("+", "c", true);
    expect(keys(trie, "/finance")).toEqual(["a@+/+", "b@/+"]);
  });

  it("no first-level wildcard matches a '$' topic, but '$SYS/#' does [MQTT-4.7.2-1]", () => {
    const trie = new SubscriptionTrie<true>();
    trie.add("#", "hash", true);
    trie.add("+/x", "plus", true);
    trie.add("+/#", "plushash", true);
    trie.add("$SYS/#", "sys", true);
    trie.add("$SYS/+", "sysplus", true);
    expect(keys(trie, "$SYS/x")).toEqual(["sys@$SYS/#", "sysplus@$SYS/+"]);
    expect(keys(trie, "a/x")).toEqual(["hash@#", "plus@+/x", "plushash@+/#"]);
  });

  it("keeps several keys on one filter and replaces the value of an existing key", () => {
    const trie = new SubscriptionTrie<number>();
    trie.add("a/b", "c1", 1);
    trie.add("a/b", "c2", 2);
    trie.add("a/b", "c1", 10);
    expect(trie.size).toBe(2);
    expect(
      trie
        .match("a/b")
        .map((m) => [m.key, m.value])
        .sort(),
    ).toEqual([
      ["c1", 10],
      ["c2", 2],
    ]);
    expect(trie.remove("a/b", "c1")).toBe(true);
    expect(trie.size).toBe(1);
    expect(keys(trie, "a/b")).toEqual(["c2@a/b"]);
  });

  it("reports whether remove found the subscription", () => {
    const trie = new SubscriptionTrie<true>();
    trie.add("a/+/c", "k", true);
    expect(trie.remove("a/+/c", "other")).toBe(false);
    expect(trie.remove("a/+", "k")).toBe(false);
    expect(trie.remove("a/+/c/d", "k")).toBe(false);
    expect(trie.remove("x", "k")).toBe(false);
    expect(trie.size).toBe(1);
    expect(trie.remove("a/+/c", "k")).toBe(true);
    expect(trie.remove("a/+/c", "k")).toBe(false);
    expect(trie.size).toBe(0);
  });

  it("removing a filter keeps the filters that share its branch", () => {
    const trie = new SubscriptionTrie<true>();
    trie.add("a", "k", true);
    trie.add("a/b", "k", true);
    trie.add("a/b/c", "k", true);
    trie.remove("a/b", "k");
    expect(keys(trie, "a")).toEqual(["k@a"]);
    expect(keys(trie, "a/b")).toEqual([]);
    expect(keys(trie, "a/b/c")).toEqual(["k@a/b/c"]);
    trie.remove("a/b/c", "k");
    expect(keys(trie, "a")).toEqual(["k@a"]);
    expect(trie.size).toBe(1);
  });

  it("prunes emptied branches so churn leaves nothing behind", () => {
    const trie = new SubscriptionTrie<true>();
    const filters = ["a/b/c/d", "a/b/#", "+/+/+", "#", "a", "x/y"];
    for (let round = 0; round < 3; round++) {
      for (const f of filters) trie.add(f, `k${round}`, true);
      for (const f of filters) expect(trie.remove(f, `k${round}`)).toBe(true);
      expect(trie.size).toBe(0);
      expect(trie.match("a/b/c/d")).toEqual([]);
    }
    // Nothing is left under the root.
    const root = (trie as unknown as { root: { children: Map<string, unknown> } }).root;
    expect(root.children.size).toBe(0);
  });

  it("agrees with topicMatches on a few hundred random filters and topics (seeded)", () => {
    // mulberry32: a small deterministic PRNG so the test is reproducible.
    let state = 0x5eed1234;
    const random = () => {
      state = (state + 0x6d2b79f5) | 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const words = ["a", "b", "c", "", "$SYS", "$x"];
    const randomTopic = () => {
      const n = 1 + Math.floor(random() * 4);
      return Array.from({ length: n }, () => pick(words)).join("/");
    };
    const randomFilter = () => {
      const n = 1 + Math.floor(random() * 4);
      const levels = Array.from({ length: n }, () => (random() < 0.3 ? "+" : pick(words)));
      if (random() < 0.3) levels[n - 1] = "#";
      return levels.join("/");
    };

    const trie = new SubscriptionTrie<string>();
    const subs: { filter: string; key: string }[] = [];
    for (let i = 0; i < 300; i++) {
      const filter = randomFilter();
      const key = `c${i % 40}`;
      if (subs.some((s) => s.filter === filter && s.key === key)) continue;
      subs.push({ filter, key });
      trie.add(filter, key, filter);
    }
    // Remove a third so pruning is exercised as well.
    const kept = subs.filter((s, i) => {
      if (i % 3 !== 0) return true;
      expect(trie.remove(s.filter, s.key)).toBe(true);
      return false;
    });
    expect(trie.size).toBe(kept.length);

    let nonEmpty = 0;
    for (let i = 0; i < 400; i++) {
      const topic = randomTopic();
      const expected = kept
        .filter((s) => topicMatches(s.filter, topic))
        .map((s) => `${s.key}@${s.filter}`)
        .sort();
      const actual = trie.match(topic);
      for (const m of actual) expect(m.value).toBe(m.filter);
      expect(actual.map((m) => `${m.key}@${m.filter}`).sort(), `topic ${JSON.stringify(topic)}`).toEqual(expected);
      if (expected.length > 0) nonEmpty++;
    }
    // The generator must produce real matches, or the cross-check proves little.
    expect(nonEmpty).toBeGreaterThan(100);
  });
});
