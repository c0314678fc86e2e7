import { compatScanFix } from '../../shared/fix/compat.ts';
import { httpRoute } from '../../shared/http/presets.ts';
import { CompatFixBody } from '../../shared/platform/routes/fixes.ts';

/** POST /api/scan/fix (second seed): `{ fixed, patch, explanation }` for one finding, validated. */
export const handler = httpRoute({ access: 'user', body: CompatFixBody }, ({ user, body }) => compatScanFix(user, body));
