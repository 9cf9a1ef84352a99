import { generateToken, hashToken, isTokenShaped } from './token-secret';
import { channelViolation, messageViolation } from './token-scope';

test('a token is mpt_ and 32 random bytes; two are never equal; the hash is its sha-256', () => {
  const a = generateToken();
  const b = generateToken();
  expect(a).toMatch(/^mpt_[A-Za-z0-9_-]{43}$/);
  expect(Buffer.from(a.slice(4), 'base64url')).toHaveLength(32);
  expect(a).not.toBe(b);
  expect(isTokenShaped(a)).toBe(true);
  expect(isTokenShaped(`${a}x`)).toBe(false);
  expect(isTokenShaped('Bearer x')).toBe(false);
  // the sha-256 of "abc" (FIPS 180-2 test vector)
  expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  expect(hashToken(a)).not.toBe(hashToken(b));
});

const scope = { channels: ['logs', 'events'], services: ['py-shop'] };

test('a channel outside the scope is named', () => {
  expect(channelViolation(scope, 'logs')).toBeUndefined();
  expect(channelViolation(scope, 'billing')).toMatchObject({ field: 'channel', rule: 'channel_scope' });
});

test('a service outside the scope, the admin service and admin.* types are refused', () => {
  expect(messageViolation(scope, 'py-shop', 'order.created')).toBeUndefined();
  expect(messageViolation(scope, 'web', 'order.created')).toMatchObject({
    field: 'source.service',
    rule: 'service_scope',
  });
  expect(messageViolation(scope, 'py-shop', 'admin.audit')).toMatchObject({ field: 'type', rule: 'reserved_type' });
  // the admin's own submit form refuses admin.* in any case: so does a token (one rule, isReservedEventType)
  expect(messageViolation(scope, 'py-shop', 'ADMIN.audit')).toMatchObject({ field: 'type', rule: 'reserved_type' });
  expect(messageViolation(scope, 'py-shop', 'Admin.login')).toMatchObject({ field: 'type', rule: 'reserved_type' });
  expect(messageViolation(scope, 'py-shop', 'administrator.added')).toBeUndefined();
  // even a scope that (wrongly) lists admin cannot claim it
  expect(messageViolation({ channels: ['events'], services: ['admin'] }, 'admin', 'x')).toMatchObject({
    field: 'source.service',
  });
  // values of the wrong type are the envelope validation's to name
  expect(messageViolation(scope, 42, undefined)).toBeUndefined();
});
