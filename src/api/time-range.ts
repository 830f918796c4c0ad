/** The time-range parsing shared with the MCP tools lives in analysis/ (pure); re-exported for the read API. */
export { parseInstant, parseTimeRange, parseWindow, TimeRangeError, type TimeRange } from '../analysis/time-range.js';
