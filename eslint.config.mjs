// ESLint (flat config, typescript-eslint): the recommended TypeScript rules, plus the layering the README's
// Layout table promises, enforced instead of hoped for: the core (src/model, src/runner) and the CLI run outside
// VS Code, so they may not import `vscode` (not even its types); webviews run in a browser page, so they may not
// reach into the extension's code, node or vscode, only the message contracts and shared formatting.
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const noVscode = {
  name: 'vscode',
  message: 'The core and the CLI run without VS Code: take what you need as a parameter or an interface instead.',
};

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // `_`-prefixed parameters and bindings are the codebase's way of saying "unused on purpose".
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Benchmarks and tests load modules by computed path and through require.cache (tracing, late loading) on purpose.
    files: ['bench/**/*.ts', 'test/**/*.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['src/model/**/*.ts', 'src/runner/**/*.ts', 'src/cli/**/*.ts'],
    rules: {
      // The typescript-eslint variant, so `import type … from 'vscode'` is refused too (allowTypeImports is off).
      '@typescript-eslint/no-restricted-imports': ['error', { paths: [noVscode] }],
    },
  },
  {
    files: ['webviews/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: [
          { name: 'vscode', message: 'Webviews run in a browser page: talk to the extension through the protocol messages.' },
          ...builtinModules.filter((m) => !m.startsWith('_')).map((name) => ({ name, message: 'Webviews run in a browser page: no node built-ins.' })),
        ],
        patterns: [
          { regex: '^node:', message: 'Webviews run in a browser page: no node built-ins.' },
          {
            // Relative imports that leave webviews/ for src/: only the pure contracts and the shared formatter.
            regex: '^(\\.\\./)+src/(?!views/protocol/|model/common/format)',
            message: 'Webviews may import from src/ only src/views/protocol/** (message contracts) and src/model/common/format*.',
          },
        ],
      }],
    },
  },
);
