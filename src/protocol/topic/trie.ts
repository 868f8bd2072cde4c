/**
 * Subscription trie: filters are stored level by level so a publish walks only the branches its
 * topic can match, instead of testing every filter.
 */

interface Node<V> {
  children: Map<string, Node<V>>;
  /** Subscribers whose filter ends at this node, by subscriber key. */
  here: Map<string, V>;
}

const newNode = <V>(): Node<V> => ({ children: new Map(), here: new Map() });

export interface TrieMatch<V> {
  key: string;
  filter: string;
  value: V;
}

export class SubscriptionTrie<V> {
  private readonly root: Node<V> = newNode();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(filter: string, key: string, value: V): void {
    let node = this.root;
    for (const level of filter.split("/")) {
      let next = node.children.get(level);
      if (!next) {
        next = newNode();
        node.children.set(level, next);
      }
      node = next;
    }
    if (!node.here.has(key)) this.count++;
    node.here.set(key, value);
  }

  remove(filter: string, key: string): boolean {
    const path: Node<V>[] = [this.root];
    const levels = filter.split("/");
    for (const level of levels) {
      const next = path[path.length - 1]!.children.get(level);
      if (!next) return false;
      path.push(next);
    }
    const leaf = path[path.length - 1]!;
    if (!leaf.here.delete(key)) return false;
    this.count--;
    // Prune empty branches so the trie does not grow with churn.
    for (let i = levels.length; i > 0; i--) {
      const node = path[i]!;
      if (node.here.size > 0 || node.children.size > 0) break;
      path[i - 1]!.children.delete(levels[i - 1]!);
    }
    return true;
  }

  /** Every (subscriber, filter) whose filter matches the topic name. */
  match(topic: string): TrieMatch<V>[] {
    const out: TrieMatch<V>[] = [];
    const levels = topic.split("/");
    // No first-level wildcard for '$' topics [MQTT-4.7.2-1].
    const dollar = topic.startsWith("$");
    const walk = (node: Node<V>, depth: number, path: string[]): void => {
      const wildcardsAllowed = !(dollar && depth === 0);
      if (wildcardsAllowed) {
        const hash = node.children.get("#");
        if (hash) emit(hash, [...path, "#"]);
      }
      if (depth === levels.length) {
        emit(node, path);
        return;
      }
      const exact = node.children.get(levels[depth]!);
      if (exact) walk(exact, depth + 1, [...path, levels[depth]!]);
      if (wildcardsAllowed) {
        const plus = node.children.get("+");
        if (plus) walk(plus, depth + 1, [...path, "+"]);
      }
    };
    const emit = (node: Node<V>, path: string[]): void => {
      if (node.here.size === 0) return;
      const filter = path.join("/");
      for (const [key, value] of node.here) out.push({ key, filter, value });
    };
    walk(this.root, 0, []);
    return out;
  }
}
