// The panel's only door to Karvon: the public API (API.md). Tokens: the short-lived access token
// lives in memory only; the refresh token is kept in sessionStorage so a reload of this tab stays
// signed in (the API hands tokens out in JSON, not as httpOnly cookies). sessionStorage is per tab
// and gone when the tab closes; nothing else is stored in the browser.

export const API_BASE = '/api/v1';
const REFRESH_KEY = 'karvon.refreshToken';

export interface FieldProblem {
  path: string;
  message: string;
}

/** An API error as the API reported it: `{error: {code, message, details?}}` with its status. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** VALIDATION_FAILED names each field: `details.fields[{path, message}]`. */
  get fields(): FieldProblem[] {
    const d = this.details as { fields?: unknown } | null | undefined;
    if (!d || !Array.isArray(d.fields)) return [];
    return d.fields.filter(
      (f): f is FieldProblem => typeof (f as FieldProblem).path === 'string' && typeof (f as FieldProblem).message === 'string',
    );
  }
}

export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof DOMException && e.name === 'AbortError') return new ApiError(0, 'ABORTED', 'request aborted');
  return new ApiError(0, 'NETWORK_ERROR', e instanceof Error ? e.message : String(e));
}

export type Role = 'admin' | 'customer';
export interface User {
  id: string;
  email: string;
  role: Role;
}
interface SessionBody {
  user: User;
  accessToken: string;
  refreshToken: string;
}

type Listener = (user: User | null) => void;

class Session {
  private accessToken: string | null = null;
  private refreshing: Promise<boolean> | null = null;
  user: User | null = null;
  private listeners = new Set<Listener>();

  onChange(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(): void {
    for (const fn of this.listeners) fn(this.user);
  }

  private get refreshToken(): string | null {
    try {
      return sessionStorage.getItem(REFRESH_KEY);
    } catch {
      return null;
    }
  }

  private set refreshToken(value: string | null) {
    try {
      if (value) sessionStorage.setItem(REFRESH_KEY, value);
      else sessionStorage.removeItem(REFRESH_KEY);
    } catch {
      // storage disabled: the session lasts as long as this page
    }
  }

  private adopt(body: SessionBody): User {
    this.accessToken = body.accessToken;
    this.refreshToken = body.refreshToken;
    this.user = body.user;
    this.emit();
    return body.user;
  }

  async register(email: string, password: string): Promise<User> {
    return this.adopt(await request<SessionBody>('POST', '/auth/register', { email, password }, { anonymous: true }));
  }

  async login(email: string, password: string): Promise<User> {
    return this.adopt(await request<SessionBody>('POST', '/auth/login', { email, password }, { anonymous: true }));
  }

  async logout(): Promise<void> {
    const refreshToken = this.refreshToken;
    this.clear();
    if (refreshToken) {
      await request('POST', '/auth/logout', { refreshToken }, { anonymous: true }).catch(() => undefined);
    }
  }

  clear(): void {
    this.accessToken = null;
    this.refreshToken = null;
    this.user = null;
    this.emit();
  }

  /** On page load: trade a stored refresh token for a session, if there is one. */
  async resume(): Promise<User | null> {
    if (!this.refreshToken) return null;
    if (!(await this.refresh())) return null;
    try {
      this.user = await request<User>('GET', '/me');
      this.emit();
      return this.user;
    } catch {
      this.clear();
      return null;
    }
  }

  /** A used refresh token is dead, so concurrent callers share one refresh. */
  refresh(): Promise<boolean> {
    this.refreshing ??= (async () => {
      const refreshToken = this.refreshToken;
      if (!refreshToken) return false;
      try {
        const body = await request<{ accessToken: string; refreshToken: string }>(
          'POST',
          '/auth/refresh',
          { refreshToken },
          { anonymous: true },
        );
        this.accessToken = body.accessToken;
        this.refreshToken = body.refreshToken;
        return true;
      } catch (e) {
        if (toApiError(e).status === 401) this.clear();
        return false;
      }
    })().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  authHeader(): Record<string, string> {
    return this.accessToken ? { authorization: `Bearer ${this.accessToken}` } : {};
  }

  canRefresh(): boolean {
    return this.refreshToken !== null;
  }
}

export const session = new Session();

interface RequestOptions {
  anonymous?: boolean;
  signal?: AbortSignal;
  /** answer the body as text instead of JSON */
  text?: boolean;
}

async function errorFrom(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    if (body.error && typeof body.error.code === 'string') {
      return new ApiError(res.status, body.error.code, typeof body.error.message === 'string' ? body.error.message : '', body.error.details);
    }
  } catch {
    // not the API's error shape
  }
  return new ApiError(res.status, `HTTP_${res.status}`, text.slice(0, 200) || res.statusText);
}

async function send(method: string, path: string, body: unknown, opts: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { accept: opts.text ? 'text/plain' : 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (!opts.anonymous) Object.assign(headers, session.authHeader());
  return fetch(API_BASE + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: opts.signal,
    credentials: 'same-origin',
  });
}

/** One API call; a 401 on an expired access token refreshes once and retries. */
export async function request<T>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
  let res = await send(method, path, body, opts);
  if (res.status === 401 && !opts.anonymous && session.canRefresh()) {
    if (await session.refresh()) res = await send(method, path, body, opts);
  }
  if (res.status === 401 && !opts.anonymous) {
    const err = await errorFrom(res);
    session.clear();
    throw err;
  }
  if (!res.ok) throw await errorFrom(res);
  if (res.status === 204) return undefined as T;
  if (opts.text) return (await res.text()) as T;
  return (await res.json()) as T;
}

export const api = {
  get: <T>(path: string, opts?: RequestOptions) => request<T>('GET', path, undefined, opts),
  post: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('POST', path, body ?? {}, opts),
  patch: <T>(path: string, body: unknown, opts?: RequestOptions) => request<T>('PATCH', path, body, opts),
  del: <T>(path: string, opts?: RequestOptions) => request<T>('DELETE', path, undefined, opts),
};

export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Reads a Server-Sent Events stream with fetch (EventSource cannot send the Authorization header).
 * Resolves when the stream ends; abort the signal to stop.
 */
export async function streamEvents(path: string, onEvent: (e: SseEvent) => void, signal: AbortSignal): Promise<void> {
  let res = await send('GET', path, undefined, { signal });
  if (res.status === 401 && session.canRefresh() && (await session.refresh())) res = await send('GET', path, undefined, { signal });
  if (!res.ok) throw await errorFrom(res);
  if (!res.body) return;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n?/g, '\n');
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = val;
        else if (field === 'data') data.push(val);
      }
      if (data.length > 0 || event !== 'message') onEvent({ event, data: data.join('\n') });
    }
  }
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
