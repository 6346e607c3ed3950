// A small typed client for the public API (API.md), so integration tests read like the contract.

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export interface ApiErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export interface UserView {
  id: string;
  email: string;
  role: 'admin' | 'customer';
}

export interface SessionBody {
  user: UserView;
  accessToken: string;
  refreshToken: string;
}

export interface RequestOptions {
  token?: string;
  headers?: Record<string, string>;
  /** sent as-is instead of JSON-encoding `body` */
  rawBody?: string | Buffer;
}

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private token?: string,
  ) {}

  /** a client that sends this bearer token on every call */
  as(token: string): ApiClient {
    return new ApiClient(this.baseUrl, token);
  }

  async request<T = unknown>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    const token = opts.token ?? this.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let payload: string | Buffer | undefined = opts.rawBody;
    if (payload === undefined && body !== undefined) payload = JSON.stringify(body);
    if (payload !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(this.baseUrl + path, { method, headers, body: payload });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('application/json') && text) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as T };
  }

  /** the raw Response, for streams (SSE) the JSON helpers would buffer */
  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.token) headers.set('authorization', `Bearer ${this.token}`);
    return fetch(this.baseUrl + path, { ...init, headers });
  }

  get<T = unknown>(path: string, opts?: RequestOptions) {
    return this.request<T>('GET', path, undefined, opts);
  }
  post<T = unknown>(path: string, body?: unknown, opts?: RequestOptions) {
    return this.request<T>('POST', path, body, opts);
  }
  patch<T = unknown>(path: string, body?: unknown, opts?: RequestOptions) {
    return this.request<T>('PATCH', path, body, opts);
  }
  delete<T = unknown>(path: string, opts?: RequestOptions) {
    return this.request<T>('DELETE', path, undefined, opts);
  }

  register(email: string, password: string) {
    return this.post<SessionBody>('/api/v1/auth/register', { email, password });
  }
  login(email: string, password: string) {
    return this.post<SessionBody>('/api/v1/auth/login', { email, password });
  }
  refresh(refreshToken: string) {
    return this.post<{ accessToken: string; refreshToken: string }>('/api/v1/auth/refresh', { refreshToken });
  }
  logout(refreshToken: string) {
    return this.post('/api/v1/auth/logout', { refreshToken });
  }
  me(opts?: RequestOptions) {
    return this.get<UserView>('/api/v1/me', opts);
  }

  /** registers a fresh customer and returns a client acting as them */
  async newCustomer(email = `c${Math.random().toString(36).slice(2, 10)}@example.test`, password = 'correct horse battery') {
    const res = await this.register(email, password);
    if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
    return { client: this.as(res.body.accessToken), session: res.body, email, password };
  }
}
