import { sinceArgument, stableId, toIsoMillis, toNanos } from './docker-time';

describe('docker time', () => {
  it('reads nanoseconds, whatever number of fraction digits Docker kept', () => {
    expect(toNanos('2026-12-02T02:20:26.123456789Z')).toBe(1_796_178_026_123_456_789n);
    expect(toNanos('2026-12-02T02:20:26.1Z')).toBe(1_796_178_026_100_000_000n);
    expect(toNanos('2026-12-02T02:20:26Z')).toBe(1_796_178_026_000_000_000n);
    expect(toNanos('2026-12-02T03:20:26.5+01:00')).toBe(1_796_178_026_500_000_000n);
    expect(toNanos('2026-12-02T02:20:26.1Z') > toNanos('2026-12-02T02:20:26.09Z')).toBe(true);
    expect(() => toNanos('yesterday')).toThrow(/not a Docker log timestamp/);
  });

  it('writes since as seconds.nanoseconds and ts as milliseconds', () => {
    expect(sinceArgument('2026-12-02T02:20:26.000000042Z')).toBe('1796178026.000000042');
    expect(toIsoMillis('2026-12-02T02:20:26.123999999Z')).toBe('2026-12-02T02:20:26.123Z');
  });

  it('derives the same UUID from the same parts, another from others', () => {
    const id = stableId('c1', '2026-12-02T02:20:26Z', '1');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(stableId('c1', '2026-12-02T02:20:26Z', '1')).toBe(id);
    expect(stableId('c1', '2026-12-02T02:20:26Z', '2')).not.toBe(id);
    expect(stableId('c1', '2026-12-02T02:20:26Z1', '')).not.toBe(id);
  });
});
