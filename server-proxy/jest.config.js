/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  // app.inject (light-my-request) needs the ESM-only `cookie` package: let ts-jest transform it.
  transformIgnorePatterns: ['/node_modules/(?!(cookie)/)'],
  testTimeout: 60000,
};
