import { formatCursor, parseCursor } from './live-cursor';

test('a cursor round-trips', () => {
  const text = 'logs=1732000000000-0;events=0;orders.dead=5-17';
  expect(formatCursor(parseCursor(text)!)).toBe(text);
  expect([...parseCursor('logs=3-4')!]).toEqual([['logs', '3-4']]);
});

test.each([
  '',
  'logs',
  'logs=',
  '=1-0',
  'logs=1-0;',
  'logs=1-0;logs=2-0',
  'Logs=1-0',
  'logs=abc',
  "logs=1-0' OR 1=1",
  'logs=1-0;events=<script>',
  `logs=${'1'.repeat(4100)}-0`,
])('%j is not a cursor', (text) => {
  expect(parseCursor(text)).toBeUndefined();
});
