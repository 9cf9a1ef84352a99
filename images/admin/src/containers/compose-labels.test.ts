import { CONTAINER_REF, belongsToProject, displayName, projectFilter, serviceOf } from './compose-labels';
import { compareTimestamps, toUnixSeconds } from './container-service';

describe('belongsToProject', () => {
  const labels = { 'com.docker.compose.project': 'mupets', 'com.docker.compose.service': 'redis' };

  it('matches only the exact project label', () => {
    expect(belongsToProject(labels, 'mupets')).toBe(true);
    expect(belongsToProject(labels, 'other')).toBe(false);
    expect(belongsToProject(labels, 'mupet')).toBe(false);
    expect(belongsToProject({ 'com.docker.compose.project': 'mupets-2' }, 'mupets')).toBe(false);
  });

  it('never matches without a label or without a project', () => {
    expect(belongsToProject({}, 'mupets')).toBe(false);
    expect(belongsToProject(null, 'mupets')).toBe(false);
    expect(belongsToProject(undefined, 'mupets')).toBe(false);
    expect(belongsToProject(labels, null)).toBe(false);
    expect(belongsToProject(labels, '')).toBe(false);
    expect(belongsToProject({ 'com.docker.compose.project': '' }, '')).toBe(false);
  });

  it('reads the service, the list filter and the display name', () => {
    expect(serviceOf(labels)).toBe('redis');
    expect(serviceOf({})).toBeNull();
    expect(projectFilter('mupets')).toEqual({ label: ['com.docker.compose.project=mupets'] });
    expect(displayName('/mupets_redis_1')).toBe('mupets_redis_1');
  });
});

describe('CONTAINER_REF', () => {
  it('accepts ids and names', () => {
    for (const ref of ['0123456789ab', 'a'.repeat(64), 'mupets_redis_1', 'mupets-admin-1', 'x.y']) {
      expect(CONTAINER_REF.test(ref)).toBe(true);
    }
  });

  it('rejects what could reach outside a URL path segment', () => {
    for (const ref of [
      '',
      '../images/json',
      'a/b',
      '-leading',
      '_leading',
      'a b',
      'a?x=1',
      'n'.repeat(129),
      '%2e%2e',
    ]) {
      expect(CONTAINER_REF.test(ref)).toBe(false);
    }
  });
});

describe('Docker timestamps', () => {
  it('converts to since seconds without losing nanoseconds', () => {
    expect(toUnixSeconds('1970-01-01T00:00:10.123456789Z')).toBe('10.123456789');
    expect(toUnixSeconds('1970-01-01T00:00:10Z')).toBe('10.000000000');
    expect(toUnixSeconds('1970-01-01T00:00:10.5Z')).toBe('10.500000000');
  });

  it('orders by nanoseconds', () => {
    expect(compareTimestamps('2026-01-01T00:00:00.000000002Z', '2026-01-01T00:00:00.000000001Z')).toBeGreaterThan(0);
    expect(compareTimestamps('2026-01-01T00:00:00.1Z', '2026-01-01T00:00:00.100000000Z')).toBe(0);
    expect(compareTimestamps('2026-01-01T00:00:00.9Z', '2026-01-01T00:00:01Z')).toBeLessThan(0);
  });
});
