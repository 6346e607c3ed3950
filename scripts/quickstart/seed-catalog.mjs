// What a fresh quickstart offers: one `local` region, three plans and one runtime per kind, made
// through the admin API. Idempotent: an id that exists is left as it is (an operator's edits are
// kept), so running `npm start` again seeds nothing twice.

export const LOCAL_REGION = Object.freeze({ id: 'local', name: 'Local (this machine)' });

// Prices are integers in the minor unit (tiyin: 1 UZS = 100) per hour, as API.md says for money.
export const DEFAULT_PLANS = Object.freeze([
  { id: 'small', name: 'Small', cpuMillicores: 250, memoryMb: 256, diskMb: 1024, hourlyPrice: 5_000, currency: 'UZS' },
  { id: 'medium', name: 'Medium', cpuMillicores: 500, memoryMb: 512, diskMb: 2048, hourlyPrice: 10_000, currency: 'UZS' },
  { id: 'large', name: 'Large', cpuMillicores: 1000, memoryMb: 1024, diskMb: 4096, hourlyPrice: 20_000, currency: 'UZS' },
]);

// Public base image names, the same defaults the agent's buildpacks use (buildpacks/types.ts).
// Nothing is pulled here: the agent pulls on the first build that needs one.
export const DEFAULT_RUNTIMES = Object.freeze([
  { id: 'node-20', kind: 'node', version: '20', baseImage: 'node:20-bookworm-slim' },
  { id: 'python-3-12', kind: 'python', version: '3.12', baseImage: 'python:3.12-slim-bookworm' },
  { id: 'go-1-22', kind: 'go', version: '1.22', baseImage: 'golang:1.22-bookworm' },
  { id: 'php-8-3', kind: 'php', version: '8.3', baseImage: 'php:8.3-cli-bookworm' },
  { id: 'static', kind: 'static', version: '1', baseImage: 'busybox:latest' },
]);

/**
 * Creates what is missing. Returns the ids created and kept, per kind of record.
 * @param {{ request: (method: string, path: string, body?: unknown, opts?: { accept?: number[] }) => Promise<{ status: number, body: any }> }} api an admin client
 */
export async function seedCatalog(api) {
  const report = { created: /** @type {string[]} */ ([]), kept: /** @type {string[]} */ ([]) };
  const ensure = async (/** @type {string} */ listPath, /** @type {string} */ createPath, /** @type {Array<{ id: string }>} */ wanted) => {
    const existing = new Set((await api.request('GET', listPath)).body.items.map((/** @type {{ id: string }} */ i) => i.id));
    for (const record of wanted) {
      if (existing.has(record.id)) {
        report.kept.push(`${createPath}:${record.id}`);
        continue;
      }
      // 409: made meanwhile (or the same kind+version under another id); either way it is there.
      const { status } = await api.request('POST', createPath, record, { accept: [201, 409] });
      (status === 201 ? report.created : report.kept).push(`${createPath}:${record.id}`);
    }
  };
  await ensure('/regions', '/admin/regions', [LOCAL_REGION]);
  await ensure('/admin/plans', '/admin/plans', [...DEFAULT_PLANS]);
  await ensure('/admin/runtimes', '/admin/runtimes', [...DEFAULT_RUNTIMES]);
  return report;
}
