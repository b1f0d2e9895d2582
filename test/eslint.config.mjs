// Tests run on a developer's machine and in CI, never inside n8n: same rules as the tools.
export { default } from '../scripts/eslint.config.mjs';
