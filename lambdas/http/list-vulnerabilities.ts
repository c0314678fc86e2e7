import { listVulnerabilitiesOf } from '../../shared/api/vulnerabilities.ts';
import { httpRoute } from '../../shared/http/presets.ts';
import { VulnerabilityListQuery } from '../../shared/platform/routes/vulnerabilities.ts';

/** GET /api/vulnerabilities?severity&status&repositoryId&type&cwe, by page or cursor. */
export const handler = httpRoute({ access: 'user', readOnly: true, query: VulnerabilityListQuery }, ({ user, query }) => listVulnerabilitiesOf(user.userId, query));
