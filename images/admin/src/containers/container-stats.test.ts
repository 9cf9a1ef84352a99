import { cpuPercent, memoryUsage, summarizeStats } from './container-stats';

describe('cpuPercent', () => {
  it('is the container CPU delta over the system delta, times online CPUs, in percent', () => {
    const stats = {
      precpu_stats: { cpu_usage: { total_usage: 1_000_000_000 }, system_cpu_usage: 100_000_000_000, online_cpus: 4 },
      cpu_stats: { cpu_usage: { total_usage: 1_500_000_000 }, system_cpu_usage: 104_000_000_000, online_cpus: 4 },
    };
    // 0.5 s of CPU over 4 s of the machine's (4 CPUs x 1 s): 12.5 % of the machine = 50 % of one CPU
    expect(cpuPercent(stats)).toBeCloseTo(50, 10);
  });

  it('counts per-CPU entries when online_cpus is missing (older engines)', () => {
    const stats = {
      precpu_stats: { cpu_usage: { total_usage: 1_000 }, system_cpu_usage: 1_000 },
      cpu_stats: { cpu_usage: { total_usage: 3_000, percpu_usage: [1, 1] }, system_cpu_usage: 5_000 },
    };
    expect(cpuPercent(stats)).toBeCloseTo(100, 10);
  });

  it('is 0 for a stopped container or the first sample (no positive deltas)', () => {
    expect(cpuPercent({})).toBe(0);
    expect(cpuPercent({ cpu_stats: { cpu_usage: { total_usage: 5 }, system_cpu_usage: 5, online_cpus: 2 } })).toBe(0);
    expect(
      cpuPercent({
        precpu_stats: { cpu_usage: { total_usage: 10 }, system_cpu_usage: 10 },
        cpu_stats: { cpu_usage: { total_usage: 10 }, system_cpu_usage: 20, online_cpus: 1 },
      }),
    ).toBe(0);
  });
});

describe('memoryUsage', () => {
  it('subtracts the inactive file cache: total_inactive_file (cgroup v1) or inactive_file (v2)', () => {
    expect(memoryUsage({ memory_stats: { usage: 1000, stats: { total_inactive_file: 300 } } })).toBe(700);
    expect(memoryUsage({ memory_stats: { usage: 1000, stats: { inactive_file: 200 } } })).toBe(800);
  });

  it('keeps usage when the cache figure is missing or not smaller', () => {
    expect(memoryUsage({ memory_stats: { usage: 1000 } })).toBe(1000);
    expect(memoryUsage({ memory_stats: { usage: 100, stats: { inactive_file: 200 } } })).toBe(100);
    expect(memoryUsage({})).toBe(0);
  });

  it('summarizes with the limit', () => {
    expect(summarizeStats({ memory_stats: { usage: 10, limit: 99 } })).toEqual({
      cpuPercent: 0,
      memoryBytes: 10,
      memoryLimitBytes: 99,
    });
  });
});
