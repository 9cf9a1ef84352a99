import { NAME_PATTERN, NAME_RULE } from '@mupets/broker';
import { z } from 'zod';

/** The service name a token can never claim: the admin's own events and audit trail. */
export const RESERVED_SERVICE = 'admin';
/**
 * The channel of the admin's audit trail. Only the admin writes it (in prod, Redis's ACL lets no
 * other user XADD there: deploy/redis/users.acl), and no token can be scoped to it.
 */
export const AUDIT_CHANNEL = 'audit';
/** The event types only the admin sends (`admin.audit`, ...), in any case. */
export const RESERVED_TYPE_PREFIX = 'admin.';

/**
 * Is `type` one only the admin itself publishes? Neither a token nor the admin's submit form may
 * send one, so an audit record cannot be forged; `Admin.audit` is refused as `admin.audit` is.
 */
export function isReservedEventType(type: string): boolean {
  return type.slice(0, RESERVED_TYPE_PREFIX.length).toLowerCase() === RESERVED_TYPE_PREFIX;
}

const SERVICE_RE = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

export const scopeChannel = z
  .string()
  .regex(NAME_PATTERN, `a channel name: ${NAME_RULE}`)
  .refine((channel) => !channel.endsWith('.dead'), 'a dead-letter channel cannot be written through a token')
  .refine((channel) => channel !== AUDIT_CHANNEL, `"${AUDIT_CHANNEL}" is reserved for the admin's audit trail`);

export const scopeService = z
  .string()
  .regex(SERVICE_RE, 'a service name: 1-128 of letters, digits and . _ - : /, starting with a letter or digit')
  .refine((service) => service !== RESERVED_SERVICE, `"${RESERVED_SERVICE}" is reserved for the admin`);

/** What a token may do: write to these channels, as these `source.service` values. */
export interface TokenScope {
  readonly channels: readonly string[];
  readonly services: readonly string[];
}

/** Which rule a message broke: the field it names and why. */
export interface ScopeViolation {
  /** `channel`, `source.service` or `type`. */
  readonly field: 'channel' | 'source.service' | 'type';
  readonly rule: 'channel_scope' | 'service_scope' | 'reserved_type';
  readonly message: string;
}

/** May a token with `scope` write to `channel`? */
export function channelViolation(scope: TokenScope, channel: string): ScopeViolation | undefined {
  if (scope.channels.includes(channel)) {
    return undefined;
  }
  return {
    field: 'channel',
    rule: 'channel_scope',
    message: `this token may write to ${scope.channels.join(', ')}, not ${JSON.stringify(channel)}`,
  };
}

/**
 * May a token with `scope` send a message claiming `service` with `type`? Values of the wrong
 * type (not strings) are left to the envelope's validation, which names them; the reserved service
 * and types are refused whatever the stored scope says.
 */
export function messageViolation(scope: TokenScope, service: unknown, type: unknown): ScopeViolation | undefined {
  if (typeof service === 'string' && (service === RESERVED_SERVICE || !scope.services.includes(service))) {
    return {
      field: 'source.service',
      rule: 'service_scope',
      message: `this token may write as ${scope.services.join(', ')}, not ${JSON.stringify(service)}`,
    };
  }
  if (typeof type === 'string' && isReservedEventType(type)) {
    return {
      field: 'type',
      rule: 'reserved_type',
      message: `types starting with "${RESERVED_TYPE_PREFIX}" (in any case) are reserved for the admin`,
    };
  }
  return undefined;
}
