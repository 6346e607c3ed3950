import { describe, expect, it } from 'vitest';
import { createTxtLookup } from './txt-lookup';

describe('createTxtLookup', () => {
  it('takes ip[:port] resolvers and refuses names at start', () => {
    expect(() => createTxtLookup('127.0.0.1:8053')).not.toThrow();
    expect(() => createTxtLookup('[::1]:53')).not.toThrow();
    expect(() => createTxtLookup(undefined)).not.toThrow();
    expect(() => createTxtLookup('dns.example.com')).toThrow(/KARVON_DNS_RESOLVER/);
  });
});
