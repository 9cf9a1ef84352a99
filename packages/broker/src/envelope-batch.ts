import { buildEnvelope, serializeEnvelope, type MessageInput } from './envelope.schema';
import { EnvelopeValidationError, type EnvelopeIssue } from './errors';

/** Builds, validates and serializes one message for `channel` (throws EnvelopeValidationError). */
export function serializeMessage(channel: string, message: MessageInput, maxBytes: number): string {
  return serializeEnvelope(buildEnvelope(channel, message), maxBytes);
}

/**
 * Converts every message of a batch, all or nothing, the same for every backend: a batch with one
 * bad message stores none, and the error names each bad one by index (`[1].data: ... [type]`).
 */
export function convertMessages<T>(messages: readonly MessageInput[], convert: (message: MessageInput) => T): T[] {
  const out = new Array<T>(messages.length);
  let issues: EnvelopeIssue[] | undefined;
  for (let index = 0; index < messages.length; index++) {
    try {
      out[index] = convert(messages[index]!);
    } catch (error) {
      if (!(error instanceof EnvelopeValidationError)) {
        throw error;
      }
      issues ??= [];
      for (const issue of error.issues) {
        issues.push({ ...issue, path: `[${index}]${issue.path ? `.${issue.path}` : ''}` });
      }
    }
  }
  if (issues) {
    throw new EnvelopeValidationError(issues);
  }
  return out;
}

/** {@link convertMessages} to serialized envelopes. */
export function serializeMessages(channel: string, messages: readonly MessageInput[], maxBytes: number): string[] {
  return convertMessages(messages, (message) => serializeMessage(channel, message, maxBytes));
}
