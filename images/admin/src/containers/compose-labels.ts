// The compose-label rules are shared with the log-collector; they live in @mupets/cargo.
export {
  PROJECT_LABEL,
  SERVICE_LABEL,
  belongsToProject,
  displayName,
  projectFilter,
  serviceOf,
  type Labels,
} from '@mupets/cargo';

/**
 * What may be sent to Docker as a container reference: a (prefix of an) id of 12 to 64 hex
 * digits, or a container name (Docker's rule: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`, at most 128 here).
 * Anything else never reaches the daemon, whose API puts the reference in a URL path.
 */
export const CONTAINER_REF = /^(?:[a-f0-9]{12,64}|[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127})$/;
