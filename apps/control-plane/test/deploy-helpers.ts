// Customer-side steps the deploy-engine tests share: make an image app, deploy it, wait for the
// deploy to end. `ctx` is read at each call (the customer and project are made in beforeAll).
import { expect } from 'vitest';
import type { ApiClient } from '../../../test/api-client';
import { eventually } from '../../../test/eventually';

export interface DeployBody {
  id: string;
  status: string;
  releaseNumber?: number;
  error?: { code: string; message: string };
}

export function deployHelpers(ctx: () => { api: ApiClient; projectId: string }) {
  const deployOf = async (id: string) => (await ctx().api.get<DeployBody>(`/api/v1/deploys/${id}`)).body;
  return {
    deployOf,
    /** the deploy once it ended (succeeded, failed or cancelled) */
    finished: (id: string) =>
      eventually(async () => {
        const d = await deployOf(id);
        expect(['succeeded', 'failed', 'cancelled']).toContain(d.status);
        return d;
      }, 20_000),
    /** a new busybox image app in `region` with `replicas` */
    newApp: async (region: string, replicas: number, namePrefix = 'a'): Promise<string> => {
      const { api, projectId } = ctx();
      const res = await api.post<{ id: string }>('/api/v1/apps', {
        projectId,
        name: `${namePrefix}${Math.random().toString(36).slice(2, 9)}`,
        region,
        planId: 'small',
        source: { type: 'image', image: 'busybox:latest' },
        replicas,
      });
      expect(res.status).toBe(201);
      return res.body.id;
    },
    deploy: async (appId: string): Promise<DeployBody> => {
      const res = await ctx().api.post<DeployBody>(`/api/v1/apps/${appId}/deploys`, {});
      expect(res.status).toBe(202);
      return res.body;
    },
  };
}
