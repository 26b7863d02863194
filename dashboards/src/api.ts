// The dashboard's HTTP calls: same-origin, cookie session, CSRF token on changes.

let csrf = '';
export function setCsrf(token: string): void { csrf = token; }

export class ApiError extends Error {
  constructor(public status: number, message: string) { super(message); }
}

export async function api<T = any>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['X-CSRF-Token'] = csrf;
  const response = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body), signal });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, data.error ?? response.statusText);
  return data as T;
}

export interface ProjectAccess { id: number; name: string; role: 'viewer' | 'analyst' | 'admin'; write_key: string }
export interface Me { user: { id: number; email: string }; csrf_token: string; projects: ProjectAccess[] }

/** A question to the query API. Aborting `signal` closes the request, and the server then
 * stops computing the answer. */
export const query = (projectId: number, question: unknown, signal?: AbortSignal) =>
  api('POST', `/api/projects/${projectId}/query`, question, signal);
