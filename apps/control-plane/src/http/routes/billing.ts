import { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../../db/connect';
import type { Billing } from '../../billing/billing';
import { ensureWallet, listTransactions, transactionView } from '../../billing/ledger';
import { money } from '../../billing/money';
import { monthlyUsage } from '../../billing/usage';
import { listOf, type RouteDoc } from '../openapi';
import { decodeCursor, pageQuery, toPage } from '../pagination';
import { requirePrincipal } from '../principal';
import { parseInput } from '../validate';

export const walletSchema = z.object({ balance: z.int(), currency: z.string(), status: z.enum(['active', 'low', 'suspended']) });
export const transactionSchema = z.object({
  id: z.string(),
  type: z.enum(['topup', 'charge', 'refund', 'adjustment']),
  amount: z.int().describe('signed, as seen from the wallet: a top-up is positive, a charge negative'),
  balanceAfter: z.int(),
  currency: z.string(),
  createdAt: z.string(),
  appId: z.string().optional(),
  period: z.string().optional().describe('the hour charged'),
  note: z.string().optional(),
});
const usageQuery = z.object({
  month: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month as YYYY-MM')
    .optional(),
});
const usageSchema = z.object({
  items: z.array(z.object({ appId: z.string(), hours: z.number().describe('replica-hours'), amount: z.int() })),
  total: z.int(),
  currency: z.string(),
});

/** The customer's own wallet, transactions and monthly usage (API.md "Billing"). */
export function billingRoutes(deps: { db: Db; billing: Pick<Billing, 'now'> }): Router {
  const r = Router();
  const { db } = deps;
  r.get('/billing/wallet', async (req, res) => {
    const w = await ensureWallet(db, requirePrincipal(req).userId);
    res.json({ balance: money(w.balance), currency: w.currency, status: w.status });
  });
  r.get('/billing/transactions', async (req, res) => {
    const page = parseInput(pageQuery, req.query, 'query');
    const wallet = await ensureWallet(db, requirePrincipal(req).userId);
    const rows = await listTransactions(db, wallet, { limit: page.limit, ...(page.cursor ? { cursor: decodeCursor(page.cursor) } : {}) });
    res.json(toPage(rows, page.limit, (row) => transactionView(row, wallet.currency)));
  });
  r.get('/billing/usage', async (req, res) => {
    const { month } = parseInput(usageQuery, req.query, 'query');
    const wallet = await ensureWallet(db, requirePrincipal(req).userId);
    res.json(await monthlyUsage(db, wallet.user_id, month ?? deps.billing.now().toISOString().slice(0, 7), wallet.currency));
  });
  return r;
}

export const billingRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/billing/wallet', summary: 'Your wallet: balance in the minor unit, currency, status', auth: 'user', responses: { 200: { description: 'the wallet', schema: walletSchema } } },
  {
    method: 'get',
    path: '/billing/transactions',
    summary: "Your wallet's transactions, newest first",
    auth: 'user',
    query: pageQuery,
    responses: { 200: { description: 'transactions', schema: listOf(transactionSchema) } },
  },
  {
    method: 'get',
    path: '/billing/usage',
    summary: 'Replica-hours and charges per app for a month (default: this month, UTC)',
    auth: 'user',
    query: usageQuery,
    responses: { 200: { description: 'usage', schema: usageSchema } },
  },
];
