// The customers the api benchmark plays: a region and a plan (admin), then N customers registered
// through the public API, each lifted to the business tier and credited (admin), with one project, a few apps
// (image source, never deployed) and a few env vars per app. Everything through the real API.

export interface Customer {
  userId: string;
  email: string;
  token: string;
  projectId: string;
  appIds: string[];
}

export interface TenantSettings {
  region: string;
  planId: string;
  customers: number;
  appsPerCustomer: number;
  envVarsPerApp: number;
  concurrency: number;
}

interface Res<T> {
  status: number;
  body: T;
}

export async function call<T>(baseUrl: string, method: string, path: string, token: string | undefined, body?: unknown): Promise<Res<T>> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function expect<T>(what: string, want: number, p: Promise<Res<T>>): Promise<T> {
  const res = await p;
  if (res.status !== want) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function createPlan(baseUrl: string, admin: string, id: string): Promise<void> {
  const res = await call(baseUrl, 'POST', '/api/v1/admin/plans', admin, { id, name: 'Bench small', cpuMillicores: 250, memoryMb: 256, diskMb: 1_024, hourlyPrice: 100 });
  if (res.status !== 201 && res.status !== 409) throw new Error(`plan ${id}: ${res.status} ${JSON.stringify(res.body)}`);
}

async function setupCustomer(baseUrl: string, admin: string, s: TenantSettings, i: number): Promise<Customer> {
  const email = `bench-api-${i}@example.com`;
  const reg = await expect<{ user: { id: string }; accessToken: string }>(
    `register ${email}`,
    201,
    call(baseUrl, 'POST', '/api/v1/auth/register', undefined, { email, password: `bench-api-password-${i}` }),
  );
  const token = reg.accessToken;
  await expect(`tier of ${email}`, 200, call(baseUrl, 'PATCH', `/api/v1/admin/users/${reg.user.id}`, admin, { tier: 'business' }));
  // Prepaid billing: an app is created only on a positive balance (a build without billing has no such route).
  const credit = await call(baseUrl, 'POST', `/api/v1/admin/users/${reg.user.id}/wallet/credit`, admin, { amount: 100_000_000, idempotencyKey: `bench-api-${i}` });
  if (credit.status !== 201 && credit.status !== 200 && !(credit.status === 404 && JSON.stringify(credit.body).includes('no route'))) {
    throw new Error(`wallet of ${email}: ${credit.status} ${JSON.stringify(credit.body)}`);
  }
  const project = await expect<{ id: string }>(`project of ${email}`, 201, call(baseUrl, 'POST', '/api/v1/projects', token, { name: `c${i}-main` }));
  const appIds: string[] = [];
  for (let j = 0; j < s.appsPerCustomer; j++) {
    const app = await expect<{ id: string }>(
      `app ${j} of ${email}`,
      201,
      call(baseUrl, 'POST', '/api/v1/apps', token, { projectId: project.id, name: `c${i}-app${j}`, region: s.region, planId: s.planId, source: { type: 'image', image: 'busybox:latest' } }),
    );
    if (s.envVarsPerApp > 0) {
      const set: Record<string, string | { value: string; secret: boolean }> = {};
      for (let k = 0; k < s.envVarsPerApp; k++) set[`VAR_${k}`] = k === 0 ? { value: `secret-${i}-${j}`, secret: true } : `value-${i}-${j}-${k}`;
      await expect(`env of app ${j} of ${email}`, 200, call(baseUrl, 'PATCH', `/api/v1/apps/${app.id}/env`, token, { set }));
    }
    appIds.push(app.id);
  }
  return { userId: reg.user.id, email, token, projectId: project.id, appIds };
}

/** Registers the customers, `concurrency` at a time (sign-up hashes a password: CPU-bound). */
export async function setupCustomers(baseUrl: string, admin: string, s: TenantSettings): Promise<Customer[]> {
  const out = new Array<Customer>(s.customers);
  let next = 0;
  const worker = async () => {
    while (next < s.customers) {
      const i = next++;
      out[i] = await setupCustomer(baseUrl, admin, s, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(s.concurrency, s.customers) }, worker));
  return out;
}
