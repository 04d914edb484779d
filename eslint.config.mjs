import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.tools/', 'data/', '**/*.js', '**/*.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': 'off',
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      // The domain stays pure: no other layer, framework or driver.
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/application/**', '**/infrastructure/**', '**/interfaces/**', 'express', 'joi', 'pino', 'inversify', 'mongodb', 'amqplib', 'better-sqlite3', 'bcrypt', '@eventstore/*', 'node:*', 'fs', 'crypto', 'http'], message: 'The domain imports nothing outside src/domain.' }] },
      ],
    },
  },
  {
    files: ['src/application/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/infrastructure/**', '**/interfaces/**', 'express', 'joi', 'pino', 'inversify', 'mongodb', 'amqplib', 'better-sqlite3', 'bcrypt', '@eventstore/*'], message: 'The application layer depends on ports, not on adapters or frameworks.' }] },
      ],
    },
  },
  {
    // Tests read arbitrary JSON from HTTP responses and messages; typing every body adds noise, not safety.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
