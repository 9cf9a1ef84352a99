// A message, pretty-printed: JSON with its keys, strings and numbers told apart by colour.
import type { ComponentChildren } from 'preact';

/** Shows any JSON value indented, with copy-friendly plain text. */
export function EnvelopeView({ value }: { value: unknown }) {
  return <pre class="json">{render(value, 0)}</pre>;
}

function render(value: unknown, depth: number): ComponentChildren {
  const pad = '  '.repeat(depth + 1);
  const close = '  '.repeat(depth);
  if (value === null) {
    return <span class="j-null">null</span>;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) {
      return '[]';
    }
    return (
      <>
        {'[\n'}
        {value.map((item, index) => (
          <>
            {pad}
            {render(item, depth + 1)}
            {index < value.length - 1 ? ',\n' : '\n'}
          </>
        ))}
        {close}]
      </>
    );
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) {
      return '{}';
    }
    return (
      <>
        {'{\n'}
        {entries.map(([key, item], index) => (
          <>
            {pad}
            <span class="j-key">{JSON.stringify(key)}</span>
            {': '}
            {render(item, depth + 1)}
            {index < entries.length - 1 ? ',\n' : '\n'}
          </>
        ))}
        {close}
        {'}'}
      </>
    );
  }
  if (typeof value === 'string') {
    return <span class="j-string">{JSON.stringify(value)}</span>;
  }
  if (typeof value === 'number') {
    return <span class="j-number">{String(value)}</span>;
  }
  if (typeof value === 'boolean') {
    return <span class="j-bool">{String(value)}</span>;
  }
  // undefined, bigint, symbol, function: not JSON, shown as their name
  return typeof value === 'undefined' ? 'undefined' : typeof value;
}
