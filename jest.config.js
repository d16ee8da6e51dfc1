/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  testMatch: ['**/*.spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  // sources import with explicit `.js` extensions (ESM-ready); jest resolves the `.ts` files
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  collectCoverageFrom: ['lib/**/*.ts'],
  coverageThreshold: {
    './lib/message/': { lines: 95, branches: 90 },
    './lib/options/': { lines: 95, branches: 90 },
    './lib/operators/': { lines: 95, branches: 90 },
  },
};
