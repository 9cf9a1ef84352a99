import { RateLimiter } from './rate-limiter';

test('a full bucket admits a batch larger than itself once, then the token waits the debt off', () => {
  let now = 0;
  const limiter = new RateLimiter(() => now);
  expect(limiter.retryAfter('a', 10)).toBe(0);
  limiter.charge('a', 10, 35); // 10 - 35 = -25
  expect(limiter.retryAfter('a', 10)).toBe(3); // (1 + 25) / 10 -> 3 s
  now = 2000; // +20
  expect(limiter.retryAfter('a', 10)).toBe(1);
  now = 2600; // +6: level 1
  expect(limiter.retryAfter('a', 10)).toBe(0);
  // tokens are independent
  expect(limiter.retryAfter('b', 10)).toBe(0);
});

test('a bucket never fills beyond one second of records', () => {
  let now = 0;
  const limiter = new RateLimiter(() => now);
  limiter.charge('a', 5, 5);
  now = 3_600_000;
  limiter.charge('a', 5, 6);
  expect(limiter.retryAfter('a', 5)).toBe(1);
});
