import type { StorageLike } from './types';

/**
 * Random id: 16 random bytes from crypto.getRandomValues written as decimal
 * numbers, concatenated (16 to 48 digits, > 100 bits).
 */
export function rid(): string {
  return crypto.getRandomValues(new Uint8Array(16)).join('');
}

/** Storage access never throws (Safari private mode, blocked storage, quota). */
export function sget(st: StorageLike | undefined, k: string): string | null | undefined {
  try {
    return st && st.getItem(k);
  } catch (_) {
    /* undefined */
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
