// Shared field schemas. Every string has a maximum length and every number is finite (zod v4's
// z.number() refuses Infinity, which `1e999` in JSON becomes); counters and generations are safe
// integers (z.int()), so a value above 2^53 that JSON would silently round is refused instead.
import { z } from 'zod';

/** Opaque ids minted by the control plane (`node_8x3…`, `alloc_…`) or the agent. */
export const idSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'an id: letters, digits, . _ : - (up to 128)');

/** Desired-state generations: 0 means "nothing yet", then monotonically increasing per node. */
export const generationSchema = z.int().min(0);

/** Session generations number the hub's sessions for a node from 1; used to fence stale sessions. */
export const sessionGenerationSchema = z.int().min(1);

/** Timestamps are ISO 8601 strings (`new Date().toISOString()`); an explicit offset is accepted. */
export const isoTimeSchema = z.iso.datetime({ offset: true });

/** Durations are always milliseconds, everywhere in the protocol. */
export const durationMsSchema = (min: number, max: number) => z.int().min(min).max(max);

/** Megabytes, whole, up to 2^30 MB (1 PiB): big enough for any server, small enough to be sane. */
export const megabytesSchema = z.int().min(0).max(2 ** 30);

export const percentSchema = z.number().min(0).max(100);

export const portSchema = z.int().min(1).max(65535);

/** Human-readable text of bounded length (empty allowed). */
export const textSchema = (max: number) => z.string().max(max);

/** A lower-case DNS name as used for routes and certificates; no wildcards, no trailing dot. */
export const dnsNameSchema = z
  .string()
  .max(253)
  .regex(
    /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
    'a lower-case DNS name',
  );

const HOST_PORT = /^(\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,251}[A-Za-z0-9])?):(\d{1,5})$/;

/** `host:port` (host a name, an IPv4 address or a bracketed IPv6 address), as Traefik dials it. */
export const hostPortSchema = z
  .string()
  .max(300)
  .refine((v) => {
    const m = HOST_PORT.exec(v);
    if (!m) return false;
    const port = Number(m[2]);
    return port >= 1 && port <= 65535;
  }, 'host:port with a port from 1 to 65535');

/**
 * A Docker image reference (`registry:5000/app@sha256:…`, `node:20-bookworm-slim`). Only the
 * character set and length are checked here; it can never start with `-`, so it can never be read
 * as an option by a program it is handed to.
 */
export const imageRefSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,511}$/, 'an image reference');

/** Strings that end up in a process's argv or environment cannot contain NUL. */
export const noNulStringSchema = (max: number) =>
  z
    .string()
    .max(max)
    .refine((v) => !v.includes('\0'), 'must not contain NUL');

/** Stable machine-readable codes in results and errors (`BUILD_FAILED`). */
export const codeSchema = z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/, 'an UPPER_SNAKE code');
