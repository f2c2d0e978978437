/**
 * Fault injection (`npm run test:faults`): kills workers, flushes Redis, cuts the database.
 * Needs PostgreSQL or MariaDB and redis-server.
 */
const base = require('./jest.config.js');

module.exports = { ...base, testRegex: ['test/faults/.*\\.fault-spec\\.ts$'], testTimeout: 180_000, maxWorkers: 1 };
