import { ContainerNotFoundError, DockerUnavailableError } from '../containers/container-errors';
import { toHttpError } from './error-handler';

describe('toHttpError', () => {
  it("maps the containers feature's errors in the one central place", () => {
    const missing = toHttpError(new ContainerNotFoundError('web-1'));
    expect(missing).toMatchObject({ status: 404, code: 'not_found', message: 'container not found' });
    const cause = new DockerUnavailableError('connect ENOENT /var/run/docker.sock');
    const down = toHttpError(cause);
    expect(down).toMatchObject({
      status: 503,
      code: 'docker_unavailable',
      message: 'connect ENOENT /var/run/docker.sock',
      cause,
    });
  });

  it('leaves an unknown error unmapped (a bug: a generic 500)', () => {
    expect(toHttpError(new Error('boom'))).toBeUndefined();
  });
});
