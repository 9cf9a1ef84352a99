import { readFile } from 'node:fs/promises';

// Docker bind-mounts the files it writes for a container (hostname, hosts, resolv.conf) from the
// container's own directory, `<data-root>/containers/<id>/`; /proc/self/mountinfo names it
const CONTAINER_FILE = /\/containers\/([0-9a-f]{64})\/(?:hostname|hosts|resolv\.conf)(?:\s|$)/m;

/** The id of the container whose /proc/self/mountinfo this is, or undefined outside Docker. */
export function containerIdFromMountinfo(mountinfo: string): string | undefined {
  return CONTAINER_FILE.exec(mountinfo)?.[1];
}

/**
 * The id of the Docker container this process runs in, read from the mounts Docker made for it.
 * Unlike the hostname (the short id only until compose's `hostname:` or `docker run -h` sets
 * another, possibly another container's id), nothing in the container's settings changes it.
 */
export async function ownContainerId(mountinfoPath = '/proc/self/mountinfo'): Promise<string | undefined> {
  try {
    return containerIdFromMountinfo(await readFile(mountinfoPath, 'utf8'));
  } catch {
    return undefined;
  }
}
