import type { ServiceNames } from './names';

/** What a template can show; each is a region of the template files, or a whole file. */
export type Feature = 'http' | 'consume';
export const FEATURES: readonly Feature[] = ['http', 'consume'];

/** The values the template's placeholders stand for. */
export interface RenderValues {
  readonly names: ServiceNames;
  readonly features: ReadonlySet<Feature>;
  /** The channel the service publishes requests on and consumes. */
  readonly channel: string;
  /** Host ports of the dev stack: the HTTP API and the Node inspector. */
  readonly apiHostPort: number;
}

// The template is a working service named cargo-template, so lint, typecheck and prettier check it
// where it lives. Each placeholder is a form of that name, or a value chosen at generation.
const PLACEHOLDERS = {
  kebab: 'cargo-template',
  snake: 'cargo_template',
  env: 'CARGO_TEMPLATE',
  camel: 'cargoTemplate',
  pascal: 'CargoTemplate',
  channel: 'template-channel',
  apiHostPort: '59001',
} as const;

/**
 * A line that opens or closes a feature region, in any of the template's comment styles:
 * `// <http>`, `# </http>`, `<!-- <consume> -->`, or such a comment alone in a Markdown table row.
 */
const MARKER_RE = /^\s*(?:\/\/|#|\|?\s*<!--)\s*<(\/?)([a-z]+)>\s*(?:-->)?[\s|]*$/;

/** Removes the regions of features not chosen, and every marker line; throws on unbalanced markers. */
export function selectRegions(text: string, features: ReadonlySet<Feature>, file: string): string {
  const out: string[] = [];
  const open: Feature[] = [];
  text.split('\n').forEach((line, index) => {
    const marker = MARKER_RE.exec(line);
    if (!marker) {
      if (open.every((feature) => features.has(feature))) {
        out.push(line);
      }
      return;
    }
    const [, closing, name] = marker;
    if (!FEATURES.includes(name as Feature)) {
      throw new Error(`${file}:${index + 1}: unknown feature region <${name}>`);
    }
    if (closing) {
      if (open.pop() !== name) {
        throw new Error(`${file}:${index + 1}: </${name}> closes no open <${name}>`);
      }
    } else {
      open.push(name as Feature);
    }
  });
  if (open.length > 0) {
    throw new Error(`${file}: <${open.join('>, <')}> never closed`);
  }
  return out.join('\n');
}

/**
 * Replaces every placeholder in one pass (a value that happens to contain a placeholder is not
 * replaced again); throws if the text holds a form of the template's name the generator does not know.
 */
export function replacePlaceholders(text: string, values: RenderValues, file: string): string {
  const byPlaceholder = new Map<string, string>([
    [PLACEHOLDERS.kebab, values.names.kebab],
    [PLACEHOLDERS.snake, values.names.snake],
    [PLACEHOLDERS.env, values.names.env],
    [PLACEHOLDERS.camel, values.names.camel],
    [PLACEHOLDERS.pascal, values.names.pascal],
    [PLACEHOLDERS.channel, values.channel],
    [PLACEHOLDERS.apiHostPort, String(values.apiHostPort)],
  ]);
  const pattern = new RegExp([...byPlaceholder.keys()].join('|'), 'g');
  const unknown = /cargo[-_ ]?template/i.exec(text.replace(pattern, ''));
  if (unknown) {
    throw new Error(`${file}: "${unknown[0]}" is a form of the template's name the generator does not replace`);
  }
  return text.replace(pattern, (placeholder) => byPlaceholder.get(placeholder)!);
}

/** A template file as the new service gets it (before formatting). */
export function render(text: string, values: RenderValues, file: string): string {
  return replacePlaceholders(selectRegions(text, values.features, file), values, file);
}
