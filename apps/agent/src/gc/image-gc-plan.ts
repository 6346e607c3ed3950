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
  remove: Array<{ id: string; appId: string; releaseNumber: number; tags: readonly string[] }>;
  /** kept although old: a container (of any owner, running or not) uses it */
  inUse: string[];
}

/**
 * Per app, the images of the newest `keep` release numbers stay (rollback needs them); older ones
 * go, unless any container on the engine uses them. Images without both ownership labels for this
 * node, or without a readable app and release number, are never candidates: what cannot be
 * ordered is not deleted.
 */
export function planImageGc(images: readonly ImageInfo[], usedImageIds: ReadonlySet<string>, nodeId: string, keep: number): GcDecision {
  const byApp = new Map<string, Array<{ image: ImageInfo; release: number }>>();
  for (const image of images) {
    if (!isOwned(image.labels, nodeId)) continue;
    const appId = image.labels?.[LABELS.app];
    const release = Number(image.labels?.[LABELS.releaseNumber]);
    if (!appId || !Number.isSafeInteger(release) || release < 0) continue;
    byApp.set(appId, [...(byApp.get(appId) ?? []), { image, release }]);
  }
  const out: GcDecision = { remove: [], inUse: [] };
  for (const [appId, list] of [...byApp].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const releases = [...new Set(list.map((e) => e.release))].sort((a, b) => b - a);
    const kept = new Set(releases.slice(0, keep));
    for (const { image, release } of list.sort((a, b) => a.release - b.release || a.image.created - b.image.created)) {
      if (kept.has(release)) continue;
      if (usedImageIds.has(image.id)) out.inUse.push(image.id);
      else out.remove.push({ id: image.id, appId, releaseNumber: release, tags: image.tags });
    }
  }
  return out;
}
