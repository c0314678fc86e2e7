import { connectRepository } from '../../shared/api/repositories.ts';
import { httpRoute } from '../../shared/http/presets.ts';
import { ConnectRepositoryBody } from '../../shared/platform/routes/repositories.ts';

/** POST /api/repositories/connect: 201 with the repository; 409 APP_NOT_INSTALLED or already connected. */
export const handler = httpRoute({ access: 'user', body: ConnectRepositoryBody }, ({ user, body }) => connectRepository(user.userId, body));
