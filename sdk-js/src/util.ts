import type { StorageLike } from './types';

/** Random id: 22 base-36 characters (~113 bits) from crypto.getRandomValues. */
export function rid(): string {
  let s = '';
  crypto.getRandomValues(new Uint8Array(22)).forEach((b) => (s += (b % 36).toString(36)));
  return s;
}

/** Storage access never throws (Safari private mode, blocked storage, quota). */
export function sget(st: StorageLike | undefined, k: string): string | null {
  try {
    return st ? st.getItem(k) : null;
  } catch (_) {
    return null;
  }
}

export function sset(st: StorageLike | undefined, k: string, v?: string | null): void {
  try {
    if (st) v == null ? st.removeItem(k) : st.setItem(k, v);
  } catch (_) {
    /* storage full or blocked: ignore */
  }
}

/** Wrap an event handler so it can never throw into the host page. */
export function safe<A extends unknown[]>(f: (...a: A) => unknown): (...a: A) => void {
  return (...a: A) => {
    try {
      f(...a);
    } catch (_) {
      /* ignore */
    }
  };
}
