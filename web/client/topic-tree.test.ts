import { describe, expect, it } from "vitest";
import { PREVIEW_BYTES, TopicTree } from "./topic-tree.js";

const b = (s: string) => new TextEncoder().encode(s);

describe("TopicTree", () => {
  it("counts messages per topic and per subtree, keeps the last value", () => {
    const tree = new TopicTree();
    tree.add("home/kitchen/temp", b("21"), 1, 0, false);
    tree.add("home/kitchen/temp", b("22"), 2, 1, true);
    tree.add("home/hall", b("on"), 3, 0, false);
    tree.add("home", b("root"), 4, 0, false);
    expect(tree.topics).toBe(3);
    expect(tree.root.total).toBe(4);
    const home = tree.find("home")!;
    expect(home.own).toBe(1);
    expect(home.total).toBe(4);
    const temp = tree.find("home/kitchen/temp")!;
    expect(temp.own).toBe(2);
    expect(temp.last).toMatchObject({ payload: b("22"), time: 2, qos: 1, retain: true });
    expect(tree.find("home/kitchen")!.own).toBe(0);
  });

  it("lists rows depth first, sorted, honouring collapsed nodes and a filter", () => {
    const tree = new TopicTree();
    for (const t of ["b/2", "a/1", "b/1", "/lead", "c"]) tree.add(t, b("x"), 0, 0, false);
    expect(tree.rows(new Set()).map((r) => r.node.path)).toEqual(["", "/lead", "a", "a/1", "b", "b/1", "b/2", "c"]);
    expect(tree.rows(new Set(["b"])).map((r) => r.node.path)).toEqual(["", "/lead", "a", "a/1", "b", "c"]);
    expect(tree.rows(new Set(["b"]), "b/2").map((r) => r.node.path)).toEqual(["b", "b/2"]);
    expect(tree.rows(new Set(), "B").map((r) => r.node.path)).toEqual(["b", "b/1", "b/2"]);
    expect(tree.innerPaths().sort()).toEqual(["", "a", "b"]);
  });

  it("keeps only a preview of big payloads and stops at maxNodes", () => {
    const tree = new TopicTree(3);
    tree.add("a/b", new Uint8Array(10_000), 0, 0, false);
    expect(tree.find("a/b")!.last!.payload.length).toBe(PREVIEW_BYTES);
    expect(tree.find("a/b")!.last!.size).toBe(10_000);
    tree.add("a/c", b("1"), 0, 0, false);
    tree.add("x/y", b("1"), 0, 0, false);
    expect(tree.nodes).toBe(3);
    expect(tree.overflow).toBe(1);
    tree.add("a/c", b("2"), 0, 0, false);
    expect(tree.find("a/c")!.own).toBe(2);
  });
});
