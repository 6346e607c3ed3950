import { describe, expect, it } from 'vitest';
import { planImageGc, type ImageInfo } from './image-gc-plan';

const NODE = 'node_1';
const img = (id: string, app: string | undefined, release: string | undefined, over: Partial<ImageInfo> = {}): ImageInfo => ({
  id,
  labels: { 'karvon.managed': 'true', 'karvon.node': NODE, ...(app ? { 'karvon.app': app } : {}), ...(release !== undefined ? { 'karvon.release-number': release } : {}) },
  tags: [`r/${id}:1`],
  created: 1,
  ...over,
});

describe('planImageGc', () => {
  it('keeps the newest N releases per app and removes the rest, oldest first', () => {
    const images = [img('a1', 'app_a', '1'), img('a3', 'app_a', '3'), img('a2', 'app_a', '2'), img('b1', 'app_b', '1'), img('b5', 'app_b', '5')];
    const d = planImageGc(images, new Set(), NODE, 1);
    expect(d.remove.map((r) => r.id)).toEqual(['a1', 'a2', 'b1']);
    expect(planImageGc(images, new Set(), NODE, 2).remove.map((r) => r.id)).toEqual(['a1']);
    expect(planImageGc(images, new Set(), NODE, 0).remove).toHaveLength(5);
  });

  it('never removes an image a container uses', () => {
    const d = planImageGc([img('a1', 'app_a', '1'), img('a2', 'app_a', '2')], new Set(['a1']), NODE, 1);
    expect(d).toEqual({ remove: [], inUse: ['a1'] });
  });

  it('never touches unlabelled, foreign-node, or unorderable images', () => {
    const images = [
      img('plain', undefined, undefined, { labels: undefined }),
      img('other-node', 'app_a', '1', { labels: { 'karvon.managed': 'true', 'karvon.node': 'node_2', 'karvon.app': 'app_a', 'karvon.release-number': '1' } }),
      img('not-managed', 'app_a', '1', { labels: { 'karvon.node': NODE, 'karvon.app': 'app_a', 'karvon.release-number': '1' } }),
      img('no-app', undefined, '1'),
      img('bad-release', 'app_a', 'x'),
      img('a9', 'app_a', '9'),
    ];
    expect(planImageGc(images, new Set(), NODE, 0).remove.map((r) => r.id)).toEqual(['a9']);
  });

  it('orders images built here (git deploys: a build, no release number) by creation, per app', () => {
    const built = (id: string, app: string, created: number): ImageInfo => ({
      id,
      labels: { 'karvon.managed': 'true', 'karvon.node': NODE, 'karvon.app': app, 'karvon.build': `bld_${id}` },
      tags: [`r/${id}:1`],
      created,
    });
    const images = [built('g3', 'app_g', 300), built('g1', 'app_g', 100), built('g2', 'app_g', 200), built('h1', 'app_h', 50), img('g-r1', 'app_g', '1')];
    const d = planImageGc(images, new Set(['g1']), NODE, 1);
    // g3 is the newest build and g-r1 the only released image of app_g; h1 the only build of app_h.
    expect(d.remove).toEqual([{ id: 'g2', appId: 'app_g', build: 'bld_g2', tags: ['r/g2:1'] }]);
    expect(d.inUse).toEqual(['g1']);
  });

  it('takes the build of an image labelled only as built here from its tag, or its id when untagged', () => {
    const built = (id: string, created: number, tags: string[]): ImageInfo => ({
      id,
      labels: { 'karvon.managed': 'true', 'karvon.node': NODE, 'karvon.app': 'app_k', 'karvon.built': 'true' },
      tags,
      created,
    });
    const images = [built('k1', 100, ['127.0.0.1:5000/karvon/app_k:bld_k1']), built('k2', 200, []), built('k3', 300, ['karvon/app_k:bld_k3'])];
    expect(planImageGc(images, new Set(), NODE, 1).remove).toEqual([
      { id: 'k1', appId: 'app_k', build: 'bld_k1', tags: ['127.0.0.1:5000/karvon/app_k:bld_k1'] },
      { id: 'k2', appId: 'app_k', build: 'k2', tags: [] },
    ]);
    // Only "true" marks it: anything else is not ordered, so not removed.
    expect(planImageGc([{ ...built('k4', 1, []), labels: { ...built('k4', 1, []).labels, 'karvon.built': 'yes' } }], new Set(), NODE, 0).remove).toEqual([]);
  });
});

