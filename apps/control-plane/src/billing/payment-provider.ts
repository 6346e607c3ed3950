// Where money comes from. A provider confirms a payment (the admin's word for `manual`; a verified
// callback or a status query for Payme or Click) and names it by a reference unique within that
// provider; top-up.ts books what it confirmed into the ledger the same way for every provider.
// Adding a provider is a new object here and its own route; the ledger does not change.

export interface CreditRequest {
  userId: string;
  amount: number;
  /** the caller's key for this payment: a replay with it books nothing new */
  idempotencyKey: string;
  note?: string;
}

export interface ConfirmedPayment {
  amount: number;
  /** unique per payment within the provider; the ledger's idempotency key is built from it */
  reference: string;
  note?: string;
}

export interface PaymentProvider {
  /** the platform account the money arrives in is `payments:<name>` */
  readonly name: string;
  credit(request: CreditRequest): Promise<ConfirmedPayment>;
}

/** An admin who received the money outside Karvon (cash, bank transfer) credits it by hand. */
export const manualProvider: PaymentProvider = {
  name: 'manual',
  credit(request) {
    return Promise.resolve({ amount: request.amount, reference: request.idempotencyKey, ...(request.note ? { note: request.note } : {}) });
  },
};
