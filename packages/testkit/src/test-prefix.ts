import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';

/** A key prefix unique to one test file and run, so test files never share Redis keys. */
export function testPrefix(file: string): string {
  return `t:${basename(file).replace(/\.test\.ts$/, '')}:${randomBytes(4).toString('hex')}:`;
}
