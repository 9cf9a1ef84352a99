export { loadConfig, ConfigError, type ConfigProblem, type DeepReadonly, type LoadConfigOptions } from './config';
export {
  envBool,
  envChannel,
  envChannels,
  envEnum,
  envInt,
  envUrl,
  type EnvBoolOptions,
  type EnvIntOptions,
  type EnvUrlOptions,
} from './env-schema';
export {
  createLogger,
  attachBroker,
  flushLogs,
  LOG_LEVELS,
  type BrokerTransportSettings,
  type LogFormat,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  type ServiceLogger,
} from './logger';
export { BrokerTransport, type BrokerTransportOptions, type NoticeWriter } from './broker-transport';
export { ENVELOPE_ID, ENVELOPE_ID_FIELD } from './log-format';
export { redactSecrets, serializeError, SECRET_KEY_PATTERN, type SerializedError } from './redact';
export {
  createLifecycle,
  type Lifecycle,
  type LifecycleOptions,
  type ShutdownHook,
  type ShutdownPhase,
} from './lifecycle';
export { runService, type RunServiceOptions } from './run-service';
export { createHealthServer, type HealthServer, type HealthServerOptions } from './health-server';
export { readinessOf, runCheck, withTimeout, type CheckResult, type HealthCheck, type Readiness } from './readiness';
export { createMetricsRegistry, type MetricsRegistryOptions } from './metrics-registry';
export { createHttpServer, type HttpServer } from './http-server';
export {
  PROJECT_LABEL,
  SERVICE_LABEL,
  belongsToProject,
  displayName,
  projectFilter,
  serviceOf,
  type Labels,
} from './compose-labels';
export { brokerSettings, connectBroker, redisTarget, type BrokerSettings } from './broker-config';
export { healthSettings, orientDbSettings, runtimeSettings } from './service-settings';
export { containerIdFromMountinfo, ownContainerId } from './own-container';
export { createLogDemuxer, type LogDemuxer, type LogDemuxerOptions, type LogLine } from './docker-log-demux';
