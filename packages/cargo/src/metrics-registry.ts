import { collectDefaultMetrics, Registry } from 'prom-client';

export interface MetricsRegistryOptions {
  /** Added as the `service` label of every metric in the registry. */
  service: string;
  /** Collect Node's process metrics (CPU, memory, event-loop lag, GC, handles). Default true. */
  collectDefault?: boolean;
}

/**
 * A registry of the service's own (never the global one, so tests and libraries cannot collide),
 * labelled with the service name and, by default, holding Node's process metrics.
 */
export function createMetricsRegistry(options: MetricsRegistryOptions): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service: options.service });
  if (options.collectDefault ?? true) {
    collectDefaultMetrics({ register: registry });
  }
  return registry;
}
