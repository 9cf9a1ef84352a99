import { Counter, Histogram, type Registry } from 'prom-client';

export type Endpoint = 'native' | 'otlp';

/** The ingest's metrics (docs/ingest.md). */
export interface IngestMetrics {
  readonly requests: Counter<'endpoint' | 'status'>;
  readonly records: Counter<'endpoint'>;
  readonly rejected: Counter<'endpoint'>;
  readonly publishSeconds: Histogram<'endpoint'>;
}

export function createIngestMetrics(registry: Registry): IngestMetrics {
  return {
    requests: new Counter({
      name: 'mupets_ingest_requests_total',
      help: 'Requests answered, by endpoint and status',
      labelNames: ['endpoint', 'status'],
      registers: [registry],
    }),
    records: new Counter({
      name: 'mupets_ingest_records_total',
      help: 'Records the broker stored, by endpoint',
      labelNames: ['endpoint'],
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'mupets_ingest_rejected_records_total',
      help: 'OTLP records refused in a partial success, by endpoint',
      labelNames: ['endpoint'],
      registers: [registry],
    }),
    publishSeconds: new Histogram({
      name: 'mupets_ingest_publish_seconds',
      help: 'Time from a batch handed to the broker to its confirmation',
      labelNames: ['endpoint'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers: [registry],
    }),
  };
}
