// A small in-process map whose entries expire at a time of their own and whose size is bounded:
// past `max` entries the oldest inserted goes first (a Map keeps insertion order). Reads of an
// expired entry miss and drop it. No timers: a process with no traffic holds nothing that runs.

export interface ExpiringCache<K, V> {
  get(key: K): V | undefined;
  set(key: K, value: V, expiresAtMs: number): void;
  delete(key: K): void;
  /** drops every entry whose value matches */
  deleteWhere(match: (value: V, key: K) => boolean): void;
  clear(): void;
  readonly size: number;
}

export function createExpiringCache<K, V>(opts: { max: number; now?: () => number }): ExpiringCache<K, V> {
  const now = opts.now ?? Date.now;
  const entries = new Map<K, { value: V; expiresAtMs: number }>();
  return {
    get(key) {
      const e = entries.get(key);
      if (!e) return undefined;
      if (now() >= e.expiresAtMs) {
        entries.delete(key);
        return undefined;
      }
      return e.value;
    },
    set(key, value, expiresAtMs) {
      if (expiresAtMs <= now()) return;
      entries.delete(key);
      while (entries.size >= opts.max) {
        const oldest = entries.keys().next();
        if (oldest.done) break;
        entries.delete(oldest.value);
      }
      entries.set(key, { value, expiresAtMs });
    },
    delete(key) {
      entries.delete(key);
    },
    deleteWhere(match) {
      for (const [k, e] of entries) if (match(e.value, k)) entries.delete(k);
    },
    clear() {
      entries.clear();
    },
    get size() {
      return entries.size;
    },
  };
}
