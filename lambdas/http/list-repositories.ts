import { listRepositoriesOf } from '../../shared/api/repositories.ts';
import { httpRoute } from '../../shared/http/presets.ts';
import { RepositoryListQuery } from '../../shared/platform/routes/repositories.ts';

/** GET /api/repositories: the caller's repositories in the first seed's list shape. */
export const handler = httpRoute({ access: 'user', readOnly: true, query: RepositoryListQuery }, ({ user, query }) => listRepositoriesOf(user.userId, query));
