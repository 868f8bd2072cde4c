/**
 * The topic tree: every topic seen, with its message count, its subtree's count and its last
 * value. Adding a message is O(levels); the view flattens only what is expanded. Pure.
 */
export interface LastValue {
  /** The first PREVIEW_BYTES of the payload (the tree must not keep big payloads alive). */
  payload: Uint8Array;
  size: number;
  time: number;
  qos: 0 | 1 | 2;
  retain: boolean;
}

export interface TopicNode {
  name: string;
  /** The topic (for inner nodes: the topic prefix). */
  path: string;
  depth: number;
  children?: Map<string, TopicNode>;
  /** Children sorted by name, rebuilt when a child is added. */
  sorted?: TopicNode[] | undefined;
  /** Messages to exactly this topic. */
  own: number;
  /** Messages to this topic and every topic below it. */
  total: number;
  last?: LastValue;
}

export interface TreeRow {
  node: TopicNode;
  expandable: boolean;
  expanded: boolean;
}

export const PREVIEW_BYTES = 256;

export class TopicTree {
  root: TopicNode = newNode("", "", -1);
  /** Distinct topics with messages. */
  topics = 0;
  nodes = 0;
  /** Messages to topics not added because the tree was full. */
  overflow = 0;
  /** Changes with every add (the view re-renders only when it moved). */
  version = 0;

  constructor(readonly maxNodes = 50_000) {}

  add(topic: string, payload: Uint8Array, time: number, qos: 0 | 1 | 2, retain: boolean): TopicNode | undefined {
    const levels = topic.split("/");
    // Find the path first, so a full tree counts the message as overflow without half-adding it.
    let missing = 0;
    let node: TopicNode | undefined = this.root;
    for (const level of levels) {
      node = node?.children?.get(level);
      if (!node) missing++;
    }
    if (missing > 0 && this.nodes + missing > this.maxNodes) {
      this.overflow++;
      return undefined;
    }
    node = this.root;
    node.total++;
    for (const level of levels) {
      let child: TopicNode | undefined = node.children?.get(level);
      if (!child) {
        child = newNode(level, node === this.root ? level : `${node.path}/${level}`, node.depth + 1);
        (node.children ??= new Map()).set(level, child);
        node.sorted = undefined;
        this.nodes++;
      }
      child.total++;
      node = child;
    }
    if (node.own === 0) this.topics++;
    node.own++;
    const preview = payload.length > PREVIEW_BYTES ? payload.slice(0, PREVIEW_BYTES) : payload;
    const last = node.last;
    if (last) {
      last.payload = preview;
      last.size = payload.length;
      last.time = time;
      last.qos = qos;
      last.retain = retain;
    } else node.last = { payload: preview, size: payload.length, time, qos, retain };
    this.version++;
    return node;
  }

  find(topic: string): TopicNode | undefined {
    let node: TopicNode | undefined = this.root;
    for (const level of topic.split("/")) node = node?.children?.get(level);
    return node;
  }

  clear(): void {
    this.root = newNode("", "", -1);
    this.topics = 0;
    this.nodes = 0;
    this.overflow = 0;
    this.version++;
  }

  /** Every inner node's path (for "collapse all"). */
  innerPaths(): string[] {
    const out: string[] = [];
    const walk = (n: TopicNode) => {
      for (const c of childrenOf(n)) {
        if (c.children) {
          out.push(c.path);
          walk(c);
        }
      }
    };
    walk(this.root);
    return out;
  }

  /**
   * Depth-first rows of what is visible: nodes are expanded unless collapsed. With a filter
   * (substring of the topic, case-insensitive) only matching topics and their ancestors show,
   * expanded.
   */
  rows(collapsed: ReadonlySet<string>, filter = ""): TreeRow[] {
    const needle = filter.toLowerCase();
    const all = (n: TopicNode, out: TreeRow[], expandAll: boolean): void => {
      for (const c of childrenOf(n)) {
        const expandable = c.children !== undefined;
        const expanded = expandable && (expandAll || !collapsed.has(c.path));
        out.push({ node: c, expandable, expanded });
        if (expanded) all(c, out, expandAll);
      }
    };
    if (needle === "") {
      const out: TreeRow[] = [];
      all(this.root, out, false);
      return out;
    }
    // A node whose topic matches shows with everything below it; others only on the way to a match.
    const matching = (n: TopicNode, out: TreeRow[]): void => {
      for (const c of childrenOf(n)) {
        const expandable = c.children !== undefined;
        if (c.path.toLowerCase().includes(needle)) {
          out.push({ node: c, expandable, expanded: expandable });
          all(c, out, true);
          continue;
        }
        if (!expandable) continue;
        const below: TreeRow[] = [];
        matching(c, below);
        if (below.length === 0) continue;
        out.push({ node: c, expandable, expanded: true });
        for (const row of below) out.push(row);
      }
    };
    const out: TreeRow[] = [];
    matching(this.root, out);
    return out;
  }
}

function newNode(name: string, path: string, depth: number): TopicNode {
  return { name, path, depth, own: 0, total: 0 };
}

function childrenOf(n: TopicNode): TopicNode[] {
  if (!n.children) return [];
  return (n.sorted ??= [...n.children.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));
}
