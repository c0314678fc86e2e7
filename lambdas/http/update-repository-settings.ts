import { changeRepositorySettings } from '../../shared/api/repositories.ts';
import { httpRoute } from '../../shared/http/presets.ts';
import { IdParams, RepositorySettingsBody } from '../../shared/platform/routes/repositories.ts';

/** PATCH /api/repositories/{id}/settings: the repository with its new settings. */
export const handler = httpRoute({ access: 'user', params: IdParams, body: RepositorySettingsBody }, ({ user, params, body }) =>
  changeRepositorySettings(user.userId, params.id, body),
);
