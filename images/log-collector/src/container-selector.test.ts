import { isCollected, scopeFilter } from './container-selector';

describe('container selection', () => {
  const compose = { 'com.docker.compose.project': 'mupets', 'com.docker.compose.service': 'redis' };

  it('project scope: only that project, and never an opted-out container', () => {
    const scope = { kind: 'project', project: 'mupets' } as const;
    expect(scopeFilter(scope)).toEqual({ label: ['com.docker.compose.project=mupets'] });
    expect(isCollected(compose, scope)).toBe(true);
    expect(isCollected({ ...compose, 'com.docker.compose.project': 'other' }, scope)).toBe(false);
    expect(isCollected(null, scope)).toBe(false);
    expect(isCollected({ ...compose, 'mupets.collect': 'false' }, scope)).toBe(false);
    expect(isCollected({ ...compose, 'mupets.collect': 'FALSE' }, scope)).toBe(false);
    expect(isCollected({ ...compose, 'mupets.collect': 'true' }, scope)).toBe(true);
  });

  it('label scope: every term, with or without a value', () => {
    const scope = { kind: 'labels', labels: ['team=shop', 'logs'] } as const;
    expect(scopeFilter(scope)).toEqual({ label: ['team=shop', 'logs'] });
    expect(isCollected({ team: 'shop', logs: '' }, scope)).toBe(true);
    expect(isCollected({ team: 'shop' }, scope)).toBe(false);
    expect(isCollected({ team: 'ops', logs: '1' }, scope)).toBe(false);
  });

  it('host scope: everything not opted out', () => {
    expect(scopeFilter({ kind: 'host' })).toEqual({});
    expect(isCollected(undefined, { kind: 'host' })).toBe(true);
    expect(isCollected({ 'mupets.collect': 'false' }, { kind: 'host' })).toBe(false);
  });
});
