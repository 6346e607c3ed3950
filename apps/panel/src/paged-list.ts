// A list read page by page with "Load more": the first page is loaded when `path` changes, later
// pages are appended with the cursor of the one before (API.md `{items, nextCursor}`).
import { useState } from 'react';
import { api, type Page } from './api';
import { useAction, useLoad } from './ui';

interface More<T> {
  path: string;
  items: T[];
  nextCursor: string | null;
}

export function usePagedList<T>(path: string, limit = 50) {
  const url = (cursor?: string) => `${path}${path.includes('?') ? '&' : '?'}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
  const first = useLoad((signal) => api.get<Page<T>>(url(), { signal }), [path, limit]);
  const [more, setMore] = useState<More<T> | null>(null);
  const own = more?.path === path ? more : null;
  const nextCursor = own ? own.nextCursor : (first.data?.nextCursor ?? null);
  const loadMore = useAction(async () => {
    if (!nextCursor) return;
    const page = await api.get<Page<T>>(url(nextCursor));
    setMore({ path, items: [...(own?.items ?? []), ...page.items], nextCursor: page.nextCursor });
  });
  return {
    items: first.data ? [...first.data.items, ...(own?.items ?? [])] : undefined,
    error: first.error ?? loadMore.error,
    loading: first.loading,
    hasMore: nextCursor !== null,
    loadingMore: loadMore.pending,
    loadMore: () => void loadMore.run(),
    reload: () => {
      setMore(null);
      first.reload();
    },
  };
}
