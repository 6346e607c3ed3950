import { Router, type Request } from 'express';
import { z } from 'zod';
import type { Db } from '../../db/connect';
import { DomainError } from '../../domain/errors';
import type { RateLimiter } from '../../auth/rate-limiter';
import type { Sessions } from '../../auth/sessions';
import { createUser, publicUser } from '../../auth/users';
import type { RouteDoc } from '../openapi';
import { requirePrincipal } from '../principal';
import { parseInput } from '../validate';

const email = z.string().trim().max(254).pipe(z.email('not a valid email address')).transform((v) => v.toLowerCase());
const registerBody = z.strictObject({ email, password: z.string().min(10, 'at least 10 characters').max(256) });
const loginBody = z.strictObject({ email: z.string().trim().max(254).transform((v) => v.toLowerCase()), password: z.string().max(256) });
const refreshBody = z.strictObject({ refreshToken: z.string().min(1).max(256) });

export interface LoginLimits {
  perIp: RateLimiter;
  perAccount: RateLimiter;
}

function limit(limiter: RateLimiter, key: string, what: string): void {
  const { allowed, retryAfterSeconds } = limiter.hit(key);
  if (!allowed) throw new DomainError('RATE_LIMITED', `too many login attempts for this ${what}`, { retryAfterSeconds });
}

export function authRoutes(deps: { db: Db; sessions: Sessions; loginLimits: LoginLimits }): Router {
  const r = Router();
  const ipOf = (req: Request) => req.ip ?? 'unknown';

  r.post('/auth/register', async (req, res) => {
    const body = parseInput(registerBody, req.body);
    const user = await createUser(deps.db, { email: body.email, password: body.password, role: 'customer' });
    res.locals.audit = { action: 'auth.register', target: `user:${user.id}`, actorId: user.id };
    const tokens = await deps.sessions.issue(user);
    res.status(201).json({ user: publicUser(user), ...tokens });
  });

  r.post('/auth/login', async (req, res) => {
    const body = parseInput(loginBody, req.body);
    res.locals.audit = { action: 'auth.login', target: `email:${body.email}` };
    limit(deps.loginLimits.perIp, ipOf(req), 'address');
    limit(deps.loginLimits.perAccount, body.email, 'account');
    const session = await deps.sessions.login(body.email, body.password);
    res.locals.audit = { action: 'auth.login', target: `user:${session.user.id}`, actorId: session.user.id };
    res.json(session);
  });

  r.post('/auth/refresh', async (req, res) => {
    const body = parseInput(refreshBody, req.body);
    res.locals.audit = { action: 'auth.refresh' };
    res.json(await deps.sessions.refresh(body.refreshToken));
  });

  r.post('/auth/logout', async (req, res) => {
    const body = parseInput(refreshBody, req.body);
    res.locals.audit = { action: 'auth.logout' };
    await deps.sessions.logout(body.refreshToken);
    res.status(204).end();
  });

  r.get('/me', (req, res) => {
    const p = requirePrincipal(req);
    res.json({ id: p.userId, email: p.email, role: p.role });
  });

  return r;
}

const userView = z.object({ id: z.string(), email: z.string(), role: z.enum(['admin', 'customer']) });
const tokenPair = z.object({ accessToken: z.string(), refreshToken: z.string() });
const session = z.object({ user: userView, accessToken: z.string(), refreshToken: z.string() });

export const authRouteDocs: RouteDoc[] = [
  {
    method: 'post',
    path: '/auth/register',
    summary: 'Create a customer account and sign in',
    auth: 'public',
    body: registerBody,
    responses: { 201: { description: 'registered', schema: session }, 409: { description: 'email already registered (CONFLICT)' } },
  },
  {
    method: 'post',
    path: '/auth/login',
    summary: 'Sign in with email and password',
    auth: 'public',
    body: loginBody,
    responses: {
      200: { description: 'signed in', schema: session },
      401: { description: 'bad credentials (UNAUTHENTICATED)' },
      429: { description: 'too many attempts (RATE_LIMITED, with Retry-After)' },
    },
  },
  {
    method: 'post',
    path: '/auth/refresh',
    summary: 'Trade a refresh token for a new pair; the old one dies',
    auth: 'public',
    body: refreshBody,
    responses: { 200: { description: 'new tokens', schema: tokenPair }, 401: { description: 'unknown, used or expired (UNAUTHENTICATED)' } },
  },
  {
    method: 'post',
    path: '/auth/logout',
    summary: 'End the session of a refresh token',
    auth: 'public',
    body: refreshBody,
    responses: { 204: { description: 'signed out' } },
  },
  { method: 'get', path: '/me', summary: 'The caller', auth: 'user', responses: { 200: { description: 'the caller', schema: userView } } },
];
