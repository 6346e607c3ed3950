// What an app's environment may hold, decided in pure code: names, values, counts and the PATCH
// body that changes them. Storage (encrypted with the secret box, bound to app and name through
// the AAD) and the release a change creates live with the apps code.
import { z } from 'zod';
import { DomainError } from '../domain/errors';

export const MAX_ENV_NAME_LENGTH = 128;
/** 32 KiB of UTF-8 per value: enough for a PEM bundle, small enough that 200 fit in a container spec. */
export const MAX_ENV_VALUE_BYTES = 32 * 1024;
export const MAX_ENV_VARS_PER_APP = 200;

const POSIX_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why a name is refused, or undefined when it is fine. */
export function envNameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > MAX_ENV_NAME_LENGTH) return `names are 1–${MAX_ENV_NAME_LENGTH} characters`;
  if (!POSIX_NAME.test(name)) return 'a POSIX name: letters, digits and _, not starting with a digit';
  // The platform sets these itself; letting a tenant override them would break routing (PORT) or
  // let the app impersonate platform-provided facts (KARVON_*).
  if (name === 'PORT' || name.startsWith('KARVON_')) return 'reserved by the platform (PORT and KARVON_*)';
  // Valid POSIX, but as an object key it would reach the prototype; no real program needs it.
  if (name === '__proto__') return 'reserved name';
  return undefined;
}

/** Why a value is refused, or undefined when it is fine. Newlines are allowed (PEM keys need them). */
export function envValueProblem(value: string): string | undefined {
  if (value.includes('\0')) return 'must not contain NUL';
  if (Buffer.byteLength(value, 'utf8') > MAX_ENV_VALUE_BYTES) return `at most ${MAX_ENV_VALUE_BYTES} bytes`;
  return undefined;
}

export interface EnvVarChange {
  key: string;
  value: string;
  secret: boolean;
}

export interface EnvPatch {
  set: EnvVarChange[];
  unset: string[];
}

const value = z.string().superRefine((v, ctx) => {
  const problem = envValueProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
// zod's own union failure says only "Invalid input"; say what is expected instead.
const valueInput = z.union([value, z.strictObject({ value, secret: z.boolean().default(false) })], {
  error: (issue) => (issue.code === 'invalid_union' ? 'a string, or {value: string, secret: boolean}' : undefined),
});

// The pattern is published in the OpenAPI document; the checks themselves run in superRefine so
// each refusal says why (a record's key pattern would only say "Invalid key in record").
const nameMeta = { pattern: POSIX_NAME.source, maxLength: MAX_ENV_NAME_LENGTH, description: 'a POSIX name; PORT and KARVON_* are reserved' };

const name = z
  .string()
  .meta(nameMeta)
  .superRefine((n, ctx) => {
    const problem = envNameProblem(n);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

// zod reads records with own keys but silently skips `__proto__`; look at the raw object first so
// such a key is refused by name rather than dropped without a word.
const rawKeys = (raw: unknown, ctx: z.RefinementCtx) => {
  if (raw && typeof raw === 'object' && Object.prototype.hasOwnProperty.call(raw, '__proto__')) {
    ctx.addIssue({ code: 'custom', path: ['__proto__'], message: 'reserved name' });
  }
  return raw;
};

const setSchema = z.preprocess(
  rawKeys,
  z
    .record(z.string().meta(nameMeta), valueInput)
    .superRefine((rec, ctx) => {
      for (const key of Object.keys(rec)) {
        const problem = envNameProblem(key);
        if (problem) ctx.addIssue({ code: 'custom', path: [key], message: problem });
      }
      if (Object.keys(rec).length > MAX_ENV_VARS_PER_APP) ctx.addIssue({ code: 'custom', message: `at most ${MAX_ENV_VARS_PER_APP} variables` });
    })
    .meta({ description: 'names to set; a string value is not secret, `{value, secret: true}` is never shown again' }),
);

/** `PATCH /apps/:id/env` body: `{set?: {KEY: "v" | {value, secret}}, unset?: [KEY]}`. */
export const envPatchSchema = z
  .strictObject({
    set: setSchema.optional(),
    unset: z.array(name).max(MAX_ENV_VARS_PER_APP).optional(),
  })
  .superRefine((b, ctx) => {
    const set = (b.set ?? {}) as Record<string, unknown>;
    if (Object.keys(set).length === 0 && (b.unset ?? []).length === 0) {
      ctx.addIssue({ code: 'custom', message: 'set or unset is required' });
    }
    (b.unset ?? []).forEach((k, i) => {
      if (Object.prototype.hasOwnProperty.call(set, k)) ctx.addIssue({ code: 'custom', path: ['unset', i], message: `${k} is also in set` });
    });
  })
  .transform(
    (b): EnvPatch => ({
      set: Object.entries(b.set ?? {}).map(([key, v]) => (typeof v === 'string' ? { key, value: v, secret: false } : { key, value: v.value, secret: v.secret })),
      unset: [...new Set(b.unset ?? [])],
    }),
  );

/**
 * The names an app has after a patch; refuses a result above the per-app limit. Unsetting a name
 * the app does not have is a no-op, so a repeated PATCH has the effect of one.
 */
export function envNamesAfter(existing: Iterable<string>, patch: EnvPatch): string[] {
  const names = new Set(existing);
  for (const k of patch.unset) names.delete(k);
  for (const { key } of patch.set) names.add(key);
  if (names.size > MAX_ENV_VARS_PER_APP) {
    throw DomainError.validation([{ path: 'set', message: `an app has at most ${MAX_ENV_VARS_PER_APP} variables; this change would leave ${names.size}` }]);
  }
  return [...names].sort();
}

/** The AAD that binds a stored value to its app and name: a ciphertext moved elsewhere will not open. */
export function envVarAad(appId: string, key: string): string {
  return `karvon/env-var/v1\0${appId}\0${key}`;
}
