import { z } from 'zod';

/** A request for a greeting, as it travels on the channel (the envelope's `type` and `data`). */
export const GREETING_REQUESTED = 'cargo-template.greeting-requested';
export const greetingRequestSchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
});
export type GreetingRequest = z.output<typeof greetingRequestSchema>;

// <consume>
/** What this service publishes for each request it handled. */
export const GREETED = 'cargo-template.greeted';

/** The service's business logic: pure, so a unit test needs nothing running. */
export function greet(request: GreetingRequest): string {
  return `Hello, ${request.name}!`;
}
// </consume>
