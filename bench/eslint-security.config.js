// ESLint configuration of the speed baseline: eslint-plugin-security's recommended rules, nothing else.
import security from 'eslint-plugin-security';

export default [security.configs.recommended, { linterOptions: { reportUnusedDisableDirectives: 'off' } }];
