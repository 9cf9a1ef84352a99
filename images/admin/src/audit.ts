import { hostname } from 'node:os';
import type { Broker } from '@mupets/broker';

import { AUDIT_CHANNEL } from '@mupets/tokens';

/** The channel audit events go to, written by the admin alone (@mupets/tokens). */
export { AUDIT_CHANNEL };
export const AUDIT_TYPE = 'admin.audit';

/**
 * Event types only the admin itself publishes (`admin.audit`, any `admin.*`, in any case): what
 * the API accepts from a user never carries them, so an audit record cannot be forged.
 */
export function isReservedEventType(type: string): boolean {
  return /^admin\./i.test(type);
}

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
