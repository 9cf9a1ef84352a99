/** The label docker compose (v1 and v2) puts on every container of a project. */
export const PROJECT_LABEL = 'com.docker.compose.project';
/** The label naming the compose service a container runs. */
export const SERVICE_LABEL = 'com.docker.compose.service';

/** Labels as Docker returns them (`null` for a container without any). */
export type Labels = Readonly<Record<string, string>> | null | undefined;

/**
 * Whether a container belongs to `project`. The one check every container operation goes through:
 * an unknown project matches nothing, never everything.
 */
export function belongsToProject(labels: Labels, project: string | null | undefined): boolean {
  if (!project) {
    return false;
  }
  return labels?.[PROJECT_LABEL] === project;
}

/** The compose service of a container, or null when it has none. */
export function serviceOf(labels: Labels): string | null {
  const service = labels?.[SERVICE_LABEL];
  return service ? service : null;
}

/** The docker list filter for one project: `label=com.docker.compose.project=<project>`. */
export function projectFilter(project: string): { label: string[] } {
  return { label: [`${PROJECT_LABEL}=${project}`] };
}

/** Docker's inspect name starts with a slash (`/mupets_redis_1`); the API shows it without. */
export function displayName(name: string | undefined): string {
  return (name ?? '').replace(/^\//, '');
}
