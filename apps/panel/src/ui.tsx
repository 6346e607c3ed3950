import { useCallback, useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { ApiError, toApiError } from './api';

/** Any API error with its code and message; announced to screen readers. */
export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const e = toApiError(error);
  return (
    <div className="error" role="alert">
      <strong className="error-code">{e.code}</strong>
      {e.status > 0 ? <span className="muted"> ({e.status})</span> : null}: <span className="error-message">{e.message}</span>
    </div>
  );
}

/** The API's message for one field (VALIDATION_FAILED details), if it named this path. */
export function fieldError(error: unknown, ...paths: string[]): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  const hits = error.fields.filter((f) => paths.some((p) => f.path === p || f.path.startsWith(`${p}.`)));
  return hits.length > 0 ? hits.map((f) => f.message).join('; ') : undefined;
}

interface FieldProps {
  label: string;
  error?: string | undefined;
  hint?: ReactNode;
  children: (props: { id: string; 'aria-invalid': boolean; 'aria-describedby'?: string }) => ReactNode;
}

/** A labelled control with its hint and its error (tied with aria-describedby). */
export function Field({ label, error, hint, children }: FieldProps) {
  const id = useId();
  const describedBy = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-invalid': Boolean(error), ...(describedBy ? { 'aria-describedby': describedBy } : {}) })}
      {hint ? (
        <div className="hint" id={`${id}-hint`}>
          {hint}
        </div>
      ) : null}
      {error ? (
        <div className="field-error" id={`${id}-error`} role="alert">
          {error}
        </div>
      ) : null}
    </div>
  );
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Loads with `fn` when deps change; `pollMs` refreshes quietly while the page is shown. */
export function useLoad<T>(fn: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[], pollMs?: number): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const reload = useCallback(() => setTick((t) => t + 1), []);

  useEffect(() => {
    const ctrl = new AbortController();
    setLoading(true);
    fnRef
      .current(ctrl.signal)
      .then((d) => {
        if (!ctrl.signal.aborted) {
          setData(d);
          setError(undefined);
        }
      })
      .catch((e: unknown) => {
        if (!ctrl.signal.aborted) setError(e);
      })
      .finally(() => {
        if (!ctrl.signal.aborted) setLoading(false);
      });
    return () => ctrl.abort();
  }, [...deps, tick]);

  useEffect(() => {
    if (!pollMs) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') reload();
    }, pollMs);
    return () => clearInterval(timer);
  }, [pollMs, reload]);

  return { data, error, loading: loading && data === undefined, reload };
}

/** Runs an action, keeping its pending state and error. */
export function useAction<A extends unknown[], R>(fn: (...args: A) => Promise<R>) {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>();
  const run = useCallback(
    async (...args: A): Promise<R | undefined> => {
      setPending(true);
      setError(undefined);
      try {
        return await fn(...args);
      } catch (e) {
        setError(e);
        return undefined;
      } finally {
        setPending(false);
      }
    },
    [fn],
  );
  return { run, pending, error, setError };
}

export function Status({ value }: { value: string }) {
  return <span className={`status status-${value}`}>{value}</span>;
}

/** A destructive button that asks once more, in place (keyboard friendly, no modal). */
export function ConfirmButton({ label, confirmLabel, onConfirm, disabled }: { label: string; confirmLabel: string; onConfirm: () => void; disabled?: boolean }) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" className="danger" disabled={disabled} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <span className="confirm" role="group" aria-label={confirmLabel}>
      <span>{confirmLabel}</span>{' '}
      <button
        type="button"
        className="danger"
        autoFocus
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        Yes
      </button>{' '}
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      onClick={() => {
        navigator.clipboard
          ?.writeText(text)
          .then(() => setDone(true))
          .catch(() => setDone(false));
      }}
    >
      {done ? 'Copied' : label}
    </button>
  );
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function ago(iso: string | null | undefined): string {
  if (!iso) return 'never';
  const s = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (s < 60) return `${Math.max(s, 0)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** Money arrives in the currency's minor unit (API.md). */
export function money(amount: number, currency: string): string {
  try {
    const fmt = new Intl.NumberFormat(undefined, { style: 'currency', currency });
    const digits = fmt.resolvedOptions().maximumFractionDigits ?? 2;
    return fmt.format(amount / 10 ** digits);
  } catch {
    return `${amount} ${currency} (minor units)`;
  }
}

export function mb(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  return v >= 1024 ? `${(v / 1024).toFixed(1)} GB` : `${Math.round(v)} MB`;
}

export function cpu(millicores: number): string {
  return `${(millicores / 1000).toFixed(millicores % 1000 === 0 ? 0 : 2)} CPU`;
}

/** allocated vs used vs total, as one bar */
export function CapacityBar({ label, total, allocated, used, format }: { label: string; total: number; allocated: number; used: number; format: (v: number) => string }) {
  const pct = (v: number) => (total > 0 ? Math.min(100, (v / total) * 100) : 0);
  const text = `${label}: ${format(used)} used, ${format(allocated)} allocated of ${format(total)}`;
  return (
    <div className="capbar" role="img" aria-label={text} title={text}>
      <div className="capbar-label">
        <span>{label}</span>
        <span className="muted">
          {format(used)} / {format(allocated)} / {format(total)}
        </span>
      </div>
      <div className="capbar-track">
        <div className="capbar-allocated" style={{ width: `${pct(allocated)}%` }} />
        <div className="capbar-used" style={{ width: `${pct(used)}%` }} />
      </div>
    </div>
  );
}

/** The "Load more" button under a list read with usePagedList (paged-list.ts); nothing when all is shown. */
export function LoadMoreButton({ list }: { list: { hasMore: boolean; loadingMore: boolean; loadMore: () => void } }) {
  if (!list.hasMore) return null;
  return (
    <button type="button" onClick={list.loadMore} disabled={list.loadingMore}>
      Load more
    </button>
  );
}
