import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { McpDeps } from '../deps.js';
import { registerAuditLog } from './audit-log.js';
import { registerPerformanceReport } from './performance-report.js';
import { registerFindBottlenecks } from './find-bottlenecks.js';
import { registerFindErrors } from './find-errors.js';
import { registerFindTraces } from './find-traces.js';
import { registerGetCriticalPath } from './get-critical-path.js';
import { registerGetStatus } from './get-status.js';
import { registerGetTrace } from './get-trace.js';
import { registerLatencyStats } from './latency-stats.js';
import { registerListOperations } from './list-operations.js';
import { registerListServices } from './list-services.js';
import { registerServiceMap } from './service-map.js';
import { registerAlerts } from './alerts.js';
import { registerManageAlertRule } from './manage-alert-rule.js';
import { registerCompareWindows } from './compare-windows.js';
import { registerFindAnomalies } from './find-anomalies.js';
import { registerCapacityForecast } from './capacity-forecast.js';
import { registerSloStatus } from './slo-status.js';
import { registerManageSlo } from './manage-slo.js';
import { registerListMetrics, registerQueryMetrics } from './query-metrics.js';
import { registerAnalyze } from './analyze.js';

/** The default toolset, in drill-down order. */
export function registerTools(server: McpServer, deps: McpDeps): void {
  registerGetStatus(server, deps);
  registerPerformanceReport(server, deps);
  registerListServices(server, deps);
  registerListOperations(server, deps);
  registerLatencyStats(server, deps);
  registerSloStatus(server, deps);
  registerAlerts(server, deps);
  registerCompareWindows(server, deps);
  registerFindAnomalies(server, deps);
  registerFindBottlenecks(server, deps);
  registerServiceMap(server, deps);
  registerFindErrors(server, deps);
  registerFindTraces(server, deps);
  registerGetTrace(server, deps);
  registerGetCriticalPath(server, deps);
  registerAnalyze(server, deps);
  registerListMetrics(server, deps);
  registerQueryMetrics(server, deps);
  registerCapacityForecast(server, deps);
  registerManageSlo(server, deps);
  registerManageAlertRule(server, deps);
  registerAuditLog(server, deps);
}
