// Parse the data editor's text, and when it is not JSON say where (line and column).

export type JsonCheck = { ok: true; value: Record<string, unknown> | undefined } | { ok: false; message: string };

/** Empty text is "no data"; anything else must be a JSON object. */
export function checkJsonObject(text: string): JsonCheck {
  if (text.trim() === '') {
    return { ok: true, value: undefined };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const position = /position (\d+)/.exec(message);
    if (position?.[1]) {
      const offset = Number(position[1]);
      const before = text.slice(0, offset);
      const line = before.split('\n').length;
      const column = offset - before.lastIndexOf('\n');
      return {
        ok: false,
        message: `Not valid JSON at line ${line}, column ${column}: ${message.replace(/ in JSON at position.*$/, '')}`,
      };
    }
    return { ok: false, message: `Not valid JSON: ${message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, message: 'Data must be a JSON object ({ … }).' };
  }
  return { ok: true, value: value as Record<string, unknown> };
}
