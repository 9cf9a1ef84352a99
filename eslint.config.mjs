// Type-aware linting for every package; Prettier owns formatting (eslint-config-prettier turns off clashing rules).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'coverage/**', 'test-artifacts/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      curly: ['error', 'all'],
      eqeqeq: ['error', 'always'],
      'no-console': 'error',
    },
  },
  {
    // the admin web UI: browser code (DOM lib, Preact JSX) with its own tsconfig
    files: ['images/admin/web/**/*.ts', 'images/admin/web/**/*.tsx'],
    languageOptions: {
      parserOptions: { project: './images/admin/web/tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    // programs, not services: printing their figures is their job
    files: ['bench/**/*.ts', '**/bin/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    // jest's asymmetric matchers (expect.any, expect.stringMatching) are typed `any`
    files: ['**/test/**/*.ts', '**/*.test.ts'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  prettier,
);
