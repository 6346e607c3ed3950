// The quickstart talks to its control plane only through the public API (API.md), as an operator
// would with curl: what it seeds is exactly what the admin API accepts.

export class ApiError extends Error {
  /** @param {string} method @param {string} path @param {number} status @param {unknown} body */
  constructor(method, path, status, body) {
    const err = /** @type {{ error?: { code?: string, message?: string } }} */ (body)?.error;
    super(`${method} ${path}: ${status} ${err?.code ?? ''} ${err?.message ?? (typeof body === 'string' ? body : '')}`.trim());
    this.status = status;
    this.code = err?.code;
  }
}

/**
 * A small JSON client. `request` resolves `{status, body}` for any status listed in `accept`
 * (default: 2xx only) and throws ApiError otherwise.
 * @param {string} baseUrl e.g. http://127.0.0.1:8080
 * @param {string} [token]
 */
export function createApiClient(baseUrl, token) {
  return {
    baseUrl,
    /** @param {string} t */
    as: (t) => createApiClient(baseUrl, t),
    /**
     * @param {string} method @param {string} path @param {unknown} [body]
     * @param {{ accept?: number[] }} [opts]
     */
    async request(method, path, body, opts = {}) {
      /** @type {Record<string, string>} */
      const headers = {};
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${baseUrl}/api/v1${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      const parsed = (res.headers.get('content-type') ?? '').includes('json') && text ? JSON.parse(text) : text;
      const ok = opts.accept ? opts.accept.includes(res.status) : res.status >= 200 && res.status < 300;
      if (!ok) throw new ApiError(method, path, res.status, parsed);
      return { status: res.status, body: parsed };
    },
  };
}

/**
 * Logs in and returns a client carrying the admin's access token.
 * @param {string} baseUrl @param {{ email: string, password: string }} admin
 */
export async function loginAs(baseUrl, admin) {
  const { body } = await createApiClient(baseUrl).request('POST', '/auth/login', { email: admin.email, password: admin.password });
  return createApiClient(baseUrl, body.accessToken);
}

/** Every item of a paginated list (`{items, nextCursor}`). @param {ReturnType<typeof createApiClient>} api @param {string} path */
export async function listAll(api, path) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const { body } = await api.request('GET', `${path}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...body.items);
    cursor = body.nextCursor;
  } while (cursor);
  return items;
}
