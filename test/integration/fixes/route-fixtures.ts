import type { RouteFixtures } from '../api/support.ts';
import { repositoryWithVulnerability } from '../api/fixtures-b.ts';

/** A file whose MD5 call the rule rewrite fixes. */
export const WEAK_HASH_JS = `const crypto = require('crypto');
function digest(value) {
  return crypto.createHash('md5').update(value).digest('hex');
}
module.exports = { digest };
`;

/** Valid requests of the fix routes for the cross-route tests (404 for other users, 401 without a token, shapes). */
export const fixRouteFixtures: RouteFixtures = {
  'POST /api/vulnerabilities/{id}/fix': {
    prepare: async (api, owner) => ({ params: { id: (await repositoryWithVulnerability(api, owner)).vulnerabilityId }, expectStatus: 202 }),
  },
  'POST /api/scan/fix': {
    prepare: async () => ({ body: { finding: { file: 'src/digest.js', line: 3, rule: 'weak-hash' }, fileContent: WEAK_HASH_JS, context: {} } }),
  },
};
