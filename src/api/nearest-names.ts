/** Shared with the MCP tools; lives in analysis/ (pure). */
export { nearestNames } from '../analysis/nearest-names.js';
