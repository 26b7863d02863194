/** Wire-format event (see PROTOCOL.md). Short field names keep requests small. */
export type Props = Record<string, unknown>;

export interface Ev {
  /** type: track | page | identify | alias | group | screen */
  t: string;
  /** message id, random, reused on retries so the server can dedupe */
  id: string;
  /** client timestamp (epoch ms) */
  ts: number;
  /** sent-at (epoch ms), set on every send attempt */
  sa?: number;
  e?: string;
  a?: string;
  u?: string;
  s?: string;
  pid?: string;
  g?: string;
  url?: string;
  ref?: string;
  ti?: string;
  sw?: number;
  sh?: number;
  vw?: number;
  vh?: number;
  lang?: string;
  p?: Props;
  tr?: Props;
}

/** The subset of the Web Storage API we use (localStorage / sessionStorage). */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Minimal fetch signature so tests can inject a fake. */
export type FetchLike = (
  url: string,
  init: { method: string; keepalive: boolean; body: string },
) => Promise<{ status: number; headers: { get(name: string): string | null } }>;

export interface Timers {
  _setTimeout(fn: () => void, ms: number): unknown;
}

/** Offline persistence for undelivered events (full bundle only). */
export interface OfflineStore {
  /** events still waiting (already filtered by age/count) */
  read(): Ev[];
  /** remember undelivered events (merged by id, bounded) */
  add(evs: Ev[]): void;
  /** forget delivered / dropped events */
  remove(evs: Ev[]): void;
  clear(): void;
}
