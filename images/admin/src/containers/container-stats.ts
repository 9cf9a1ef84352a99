/** The part of Docker's stats answer (`GET /containers/:id/stats?stream=false`) the admin reads. */
export interface RawContainerStats {
  cpu_stats?: RawCpuStats;
  precpu_stats?: RawCpuStats;
  memory_stats?: {
    usage?: number;
    limit?: number;
    /** cgroup v1: includes `total_inactive_file`; cgroup v2: `inactive_file`. */
    stats?: Record<string, number | undefined>;
  };
}

interface RawCpuStats {
  cpu_usage?: { total_usage?: number; percpu_usage?: number[] | null };
  system_cpu_usage?: number;
  online_cpus?: number;
}

/** What `GET /api/containers/:id/stats` answers. */
export interface ContainerStats {
  /** 100 = one CPU fully busy (a container using two CPUs shows 200), as `docker stats` shows it. */
  cpuPercent: number;
  /** Memory in use without the page cache that can be reclaimed, as `docker stats` counts it. */
  memoryBytes: number;
  /** The container's memory limit (the host's memory when it has none). */
  memoryLimitBytes: number;
}

/**
 * CPU % the way the docker CLI computes it: the container's CPU time over the host's CPU time
 * between the two samples Docker returns (`precpu_stats` and `cpu_stats`), times the number of
 * online CPUs. 0 without an earlier sample or when either delta is not positive (a stopped container).
 */
export function cpuPercent(stats: RawContainerStats): number {
  const now = stats.cpu_stats;
  const before = stats.precpu_stats;
  if (!before?.system_cpu_usage) {
    // no earlier sample: the ratio would be the average since the host booted, not the current load
    return 0;
  }
  const cpuDelta = (now?.cpu_usage?.total_usage ?? 0) - (before.cpu_usage?.total_usage ?? 0);
  const systemDelta = (now?.system_cpu_usage ?? 0) - before.system_cpu_usage;
  const onlineCpus = now?.online_cpus || now?.cpu_usage?.percpu_usage?.length || 0;
  if (cpuDelta <= 0 || systemDelta <= 0 || onlineCpus <= 0) {
    return 0;
  }
  return (cpuDelta / systemDelta) * onlineCpus * 100;
}

/**
 * Memory in use as the docker CLI shows it: usage minus the inactive file cache
 * (`total_inactive_file` on cgroup v1, `inactive_file` on v2) when that is smaller than usage.
 */
export function memoryUsage(stats: RawContainerStats): number {
  const usage = stats.memory_stats?.usage ?? 0;
  const details = stats.memory_stats?.stats ?? {};
  const inactive = details.total_inactive_file ?? details.inactive_file;
  if (inactive !== undefined && inactive < usage) {
    return usage - inactive;
  }
  return usage;
}

/** Docker's raw stats → the API's numbers. */
export function summarizeStats(stats: RawContainerStats): ContainerStats {
  return {
    cpuPercent: cpuPercent(stats),
    memoryBytes: memoryUsage(stats),
    memoryLimitBytes: stats.memory_stats?.limit ?? 0,
  };
}
