import { PROJECT_LABEL, type Labels } from '@mupets/cargo';

/** The label a container sets to `false` to keep its output out of the collector. */
export const OPT_OUT_LABEL = 'mupets.collect';

/** Which containers the collector follows. */
export type CollectScope =
  { kind: 'project'; project: string } | { kind: 'host' } | { kind: 'labels'; labels: readonly string[] };

/** Docker's list/events filter for a scope (`label=...` terms all must match). */
export function scopeFilter(scope: CollectScope): { label?: string[] } {
  switch (scope.kind) {
    case 'project':
      return { label: [`${PROJECT_LABEL}=${scope.project}`] };
    case 'labels':
      return { label: [...scope.labels] };
    case 'host':
      return {};
  }
}

/** Whether a container with `labels` is collected under `scope`: in scope and not opted out. */
export function isCollected(labels: Labels, scope: CollectScope): boolean {
  if (labels?.[OPT_OUT_LABEL]?.toLowerCase() === 'false') {
    return false;
  }
  switch (scope.kind) {
    case 'project':
      return labels?.[PROJECT_LABEL] === scope.project;
    case 'labels':
      return scope.labels.every((term) => {
        const at = term.indexOf('=');
        return at < 0 ? labels?.[term] !== undefined : labels?.[term.slice(0, at)] === term.slice(at + 1);
      });
    case 'host':
      return true;
  }
}
