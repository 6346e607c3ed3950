// Which Karvon images of this node may go. Pure: the gc task (image-gc.ts) lists, this decides.
import { LABELS, isOwned } from '../runtime/labels';

export interface ImageInfo {
  id: string;
  labels: Record<string, string> | undefined;
  tags: readonly string[];
  /** seconds since the epoch, as Docker lists it */
  created: number;
}

export interface GcDecision {
  /** `releaseNumber` for an image labelled with its release; `build` for one built here (git deploys) */
  remove: Array<{ id: string; appId: string; releaseNumber?: number; build?: string; tags: readonly string[] }>;
  /** kept although old: a container (of any owner, running or not) uses it */
  inUse: string[];
}

/** What images built before LABELS.built carried instead (build/build-task.ts imageLabels): the build's id. */
const LEGACY_BUILD_LABEL = 'karvon.build';

/** The build an image was made by: its legacy label, else the tag's (`karvon/<app>:<build>`), else its id. */
function builtBy(image: ImageInfo): string | undefined {
  const legacy = image.labels?.[LEGACY_BUILD_LABEL];
  if (legacy) return legacy;
  if (image.labels?.[LABELS.built] !== 'true') return undefined;
  const tag = image.tags.find((t) => t.lastIndexOf(':') > t.lastIndexOf('/'));
  return tag ? tag.slice(tag.lastIndexOf(':') + 1) : image.id;
}

interface Candidate {
  image: ImageInfo;
  /** what orders an app's images of one kind: the release number, or the build's creation time */
  order: number;
  releaseNumber?: number;
  build?: string;
}

/**
 * Per app, the images of the newest `keep` release numbers stay (rollback needs them); older ones
 * go, unless any container on the engine uses them. Images built here for git deploys carry their
 * build, not a release number (the release is cut after the build): per app, the newest `keep`
 * builds by creation time stay. Images without both ownership labels for this node, or without a
 * readable app and either a release number or a build, are never candidates: what cannot be
 * ordered is not deleted.
 */
export function planImageGc(images: readonly ImageInfo[], usedImageIds: ReadonlySet<string>, nodeId: string, keep: number): GcDecision {
  const groups = new Map<string, { appId: string; list: Candidate[] }>();
  for (const image of images) {
    if (!isOwned(image.labels, nodeId)) continue;
    const appId = image.labels?.[LABELS.app];
    if (!appId) continue;
    const release = Number(image.labels?.[LABELS.releaseNumber] ?? Number.NaN);
    const build = builtBy(image);
    let candidate: Candidate;
    let kind: string;
    if (Number.isSafeInteger(release) && release >= 0) {
      candidate = { image, order: release, releaseNumber: release };
      kind = 'release';
    } else if (build) {
      candidate = { image, order: image.created, build };
      kind = 'build';
    } else continue;
    const key = `${appId}\u0000${kind}`;
    const group = groups.get(key) ?? { appId, list: [] };
    group.list.push(candidate);
    groups.set(key, group);
  }
  const out: GcDecision = { remove: [], inUse: [] };
  for (const [, { appId, list }] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const orders = [...new Set(list.map((e) => e.order))].sort((a, b) => b - a);
    const kept = new Set(orders.slice(0, keep));
    for (const c of list.sort((a, b) => a.order - b.order || a.image.created - b.image.created)) {
      if (kept.has(c.order)) continue;
      if (usedImageIds.has(c.image.id)) out.inUse.push(c.image.id);
      else out.remove.push({ id: c.image.id, appId, ...(c.releaseNumber !== undefined ? { releaseNumber: c.releaseNumber } : { build: c.build! }), tags: c.image.tags });
    }
  }
  return out;
}
