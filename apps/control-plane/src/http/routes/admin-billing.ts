import { Router } from 'express';
import { z } from 'zod';
import type { Billing } from '../../billing/billing';
import { hourEnd, isoHour } from '../../billing/billing-hour';
import { positiveAmount } from '../../billing/money';
import { manualProvider } from '../../billing/payment-provider';
import { DomainError } from '../../domain/errors';
import type { RouteDoc } from '../openapi';
import { requireAdmin } from '../principal';
import { parseInput } from '../validate';
import { transactionSchema } from './billing';

const creditParams = z.object({ userId: z.string().regex(/^usr_[0-9a-z]{20}$/, 'a user id') });
const creditBody = z.strictObject({
  amount: positiveAmount,
  idempotencyKey: z.string().regex(/^[A-Za-z0-9._:-]{1,200}$/, '1-200 of A-Z a-z 0-9 . _ : -'),
  note: z.string().max(500).optional(),
});
const runBody = z.strictObject({ hour: isoHour });
const runSchema = z.object({
  hour: z.string(),
  charged: z.int().describe('apps charged by this run'),
  alreadyCharged: z.int().describe('apps already charged for the hour'),
  amount: z.int().describe('what this run charged, in the minor unit'),
});

/** Admin: manual top-ups and running the hourly charge for an hour. */
export function adminBillingRoutes(deps: { billing: Billing }): Router {
  const r = Router();
  r.post('/admin/users/:userId/wallet/credit', async (req, res) => {
    requireAdmin(req);
    const { userId } = parseInput(creditParams, req.params, 'params');
    const body = parseInput(creditBody, req.body);
    res.locals.audit = { action: 'wallet.credit', target: `user:${userId}`, details: { amount: body.amount, idempotencyKey: body.idempotencyKey } };
    const { transaction, created } = await deps.billing.topUp(manualProvider, { userId, ...body });
    res.status(created ? 201 : 200).json(transaction);
  });
  r.post('/admin/billing/run', async (req, res) => {
    requireAdmin(req);
    const { hour } = parseInput(runBody, req.body);
    res.locals.audit = { action: 'billing.run', target: `hour:${hour.toISOString()}` };
    if (hourEnd(hour).getTime() > deps.billing.now().getTime()) {
      throw DomainError.validation([{ path: 'hour', message: 'an hour that has ended (not the current one, not in the future)' }]);
    }
    res.json(await deps.billing.runHour(hour));
  });
  return r;
}

export const adminBillingRouteDocs: RouteDoc[] = [
  {
    method: 'post',
    path: '/admin/users/:userId/wallet/credit',
    summary: "Credit a user's wallet by hand (money received outside Karvon); idempotent per key",
    auth: 'admin',
    params: creditParams,
    body: creditBody,
    responses: {
      201: { description: 'credited', schema: transactionSchema },
      200: { description: 'a replay of the same key and amount: the transaction booked the first time', schema: transactionSchema },
      404: { description: 'no such user (NOT_FOUND)' },
      409: { description: 'the key was used with another amount (CONFLICT)' },
    },
  },
  {
    method: 'post',
    path: '/admin/billing/run',
    summary: 'Charge an ended hour now (what the hourly job does); re-running charges nothing twice',
    auth: 'admin',
    body: runBody,
    responses: { 200: { description: 'what this run charged', schema: runSchema } },
  },
];
