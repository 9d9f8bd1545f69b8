// ESLint 9 flat config for every TypeScript file in the repo (the lab extension in src/, the
// contract, the proxy with its tests, the UI tests). Formatting is prettier's job:
// eslint-config-prettier comes last and switches off every rule that would fight it.
// Not type-aware on purpose: the recommended rules without type information lint the whole
// tree in seconds on a shared 2-core machine; tsc already checks the types in each build.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/lib/**',
      '**/dist/**',
      'server-proxy/bundle/**',
      'user_batch/**',
      '.venv/**',
      '.run/**',
      'ui-tests/test-results/**',
      'ui-tests/playwright-report/**',
      // JavaScript (jest/babel configs, bench and bin scripts) is not linted: the task is the TypeScript
      '**/*.js',
      '**/*.cjs',
      '**/*.mjs'
    ]
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      // jupyterlab/extension-template conventions
      eqeqeq: 'error',
      curly: ['error', 'all'],
      'prefer-arrow-callback': 'error',
      // JupyterLab's own convention, kept here: a class and its namespace of option/model types
      // (Batch.IJob, Private helpers) share a name; ES modules cannot express that pairing
      '@typescript-eslint/no-namespace': 'off',
      // an argument or binding named with a leading underscore is unused on purpose
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrors: 'none'
        }
      ]
    }
  },
  {
    // jest.mock factories are hoisted above the imports, so they load their module lazily with require()
    files: ['server-proxy/test/**/*.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' }
  },
  {
    // the lab extension: interface names start with I, as in JupyterLab itself
    files: ['src/**/*.ts', 'src/**/*.tsx'],
    rules: {
      '@typescript-eslint/naming-convention': [
        'error',
        {
          selector: 'interface',
          format: ['PascalCase'],
          custom: { regex: '^I[A-Z]', match: true }
        }
      ]
    }
  },
  prettier
);
