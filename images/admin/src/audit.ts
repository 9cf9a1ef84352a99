import { hostname } from 'node:os';
import type { Broker } from '@mupets/broker';

import { AUDIT_CHANNEL, isReservedEventType } from '@mupets/tokens';

/** The channel audit events go to, and the rule of the types only the admin sends (@mupets/tokens). */
export { AUDIT_CHANNEL, isReservedEventType };
export const AUDIT_TYPE = 'admin.audit';

/**
 * Records an action on the `audit` channel; resolves with the broker id once stored and rejects
 * when the broker could not store it. Callers decide what a failure means: a container action
 * must not happen unaudited (answer 503 before acting), a login is not undone for it (logged).
 */
export type PublishAudit = (action: string, target: string, extra?: Record<string, unknown>) => Promise<string>;

/** Keys that never go into an audit event, whatever a caller passes. */
const FORBIDDEN = /password|token|secret|cookie|authorization/i;

/** A {@link PublishAudit} over `broker`, as `source.service: "admin"`. */
export function createAuditPublisher(broker: Pick<Broker, 'publish'>, instance: string = hostname()): PublishAudit {
  return (action, target, extra = {}) => {
    const data: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(extra)) {
      if (!FORBIDDEN.test(key)) {
        data[key] = value;
      }
    }
    return broker.publish(AUDIT_CHANNEL, {
      type: AUDIT_TYPE,
      source: { service: 'admin', instance },
      level: 'info',
      message: action,
      data: { ...data, action, target },
    });
  };
}
