/**
 * The containers feature's domain errors. http/error-handler.ts maps them to HTTP (`docker_unavailable` 503,
 * `not_found` 404); nothing here knows about HTTP.
 */
export class ContainerError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * Docker cannot be used: the socket is missing or refuses, the daemon does not answer in time or
 * fails, or the compose project is unknown (then the containers feature is off by design).
 */
export class DockerUnavailableError extends ContainerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DOCKER_UNAVAILABLE', message, options);
  }
}

/** No such container in the compose project (whether it does not exist or belongs to someone else). */
export class ContainerNotFoundError extends ContainerError {
  constructor(ref: string) {
    super('CONTAINER_NOT_FOUND', `container ${JSON.stringify(ref)} not found in the compose project`);
  }
}
