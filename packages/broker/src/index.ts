export type {
  BatchHandler,
  Broker,
  ChannelStats,
  ConsumeOptions,
  Consumer,
  Delivery,
  GroupStats,
  PartitionStats,
  RangeOptions,
  HandlerFailure,
  HandlerResult,
  StreamEntry,
  Tail,
  TailOptions,
  TrimOptions,
  ReplayOptions,
  RemoveGroupOptions,
  RemoveGroupResult,
  TrimResult,
} from './types';
export {
  assertName,
  buildEnvelope,
  NAME_PATTERN,
  NAME_RULE,
  validateEnvelope,
  serializeEnvelope,
  envelopeSchema,
  DEFAULT_MAX_MESSAGE_BYTES,
  MAX_DATA_DEPTH,
  LEVELS,
  type Envelope,
  type EnvelopeSource,
  type Level,
  type MessageInput,
} from './envelope.schema';
export { completeEnvelope, entryEnvelopeId, ENTRY_ID_NAMESPACE, type EntryPosition } from './envelope-completion';
export {
  BrokerError,
  BrokerBackpressureError,
  BrokerClosedError,
  BrokerConfigError,
  BrokerUnavailableError,
  EnvelopeValidationError,
  InvalidNameError,
  type EnvelopeIssue,
} from './errors';
export type { BrokerLogger } from './logger';
export { DEAD_LETTER_SUFFIX } from './dead-letter';
export { createRedisBroker, type RedisBrokerOptions } from './redis/broker';
export { createKafkaBroker, parseKafkaBrokers, type KafkaBrokerOptions } from './kafka/broker';
export { KAFKA_SASL_MECHANISMS, type KafkaCredentials } from './kafka/client';
export {
  createBroker,
  parseBrokerConfig,
  type BrokerConfig,
  type BrokerSelection,
  type CommonBrokerOptions,
} from './create-broker';
export { closeConnection, credentialsOf, openConnection, redactUrl, type RedisTarget } from './redis/connection';
