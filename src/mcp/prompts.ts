import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';

/**
 * Playbooks for the headline questions (MCP-TOOLS.md §3 "Prompts"): each tells the model which tools
 * to call in which order and what to answer with, so an investigation starts from aggregates.
 */
interface Playbook {
  name: string;
  title: string;
  args: Record<string, string>;
  text: (a: Record<string, string | undefined>) => string;
}

const opt = (v: string | undefined, fallback: string): string => (v === undefined || v === '' ? fallback : v);

const PLAYBOOKS: Playbook[] = [
  {
    name: 'slo_report',
    title: 'Are we meeting our SLO targets this month?',
    args: { slo: 'one SLO name (default: all)' },
    text: (a) => `Are we meeting our SLO targets this month?
1. slo_status(${a['slo'] ? `slo="${a['slo']}"` : ''}) for every SLO: verdict, attainment (sli vs target), error budget left, burn rates.
2. For each SLO whose verdict is not ok: slo_status(slo=<name>): budget_consumed/remaining, burn_rates 5m..3d, alerts (firing, low_traffic), exhaustion_at, top_consumers.
3. Availability or error_rate burning: find_errors(service=<service>, window="1h") for root-cause spans. Latency burning: latency_stats(service=<service>, operation=<top consumer>, window="1h", compare_to="-1d"), then find_bottlenecks(service=<service>, operation=<top consumer>).
4. compare_windows(service=<service>, baseline="-7d") to see when it started.
Answer with one table row per SLO objective: target, attained, budget remaining (% and requests), burn rate (1h), firing alerts, projected exhaustion, and the cause found in step 3. Say when traffic is too low for the numbers to mean much.`,
  },
  {
    name: 'inference_latency',
    title: 'Model inference is slower than expected',
    args: { service: 'service running inference (e.g. apes-ml-pipeline)', model: 'gen_ai.request.model value' },
    text: (a) => `Model inference is slower than expected${a['model'] ? ` (model ${a['model']})` : ''}.
1. analyze(topic="inference"${a['service'] ? `, service="${a['service']}"` : ''}, window="1h"): p50/p95/p99 per model and version, errors by type, cold starts with trace ids.
2. latency_stats(service="${opt(a['service'], '<service>')}", group_by="attr.gen_ai.request.model", compare_to="-1d") for p50/p95/p99 per model against yesterday.
3. compare_windows(service="${opt(a['service'], '<service>')}", baseline="-1d") and find_anomalies(service="${opt(a['service'], '<service>')}", window="6h"): when it changed and which operation moved.
4. find_bottlenecks(service="${opt(a['service'], '<service>')}", operation=<slow inference operation>): is the time in the model call, queueing, pre/post-processing or a dependency?
5. Inference metrics: list_metrics(match="inference"), then query_metrics(select="ml_model_inference_duration_seconds", agg="p95", by="model", step="5m") (or gen_ai.client.operation.duration by gen_ai.request.model).
6. slo_status() if an SLO covers the service.
Answer: which model/operation is slower, by how much (p95 before → now), since when, where on the critical path the time goes, and the likely cause.`,
  },
  {
    name: 'cache_efficiency',
    title: 'Optimize our cache performance (hit ratios across L1/L2/L3)',
    args: { metric_prefix: 'cache metric name prefix (default cache_)' },
    text: (a) => `Optimize our cache performance (hit ratios across L1/L2/L3).
1. list_metrics(match="${opt(a['metric_prefix'], 'cache')}"): find the hit/miss counters and their level label.
2. analyze(topic="cache", window="1h"): hit ratio per level, effective hit ratio of the hierarchy, chaining check (misses at L(n) ≈ lookups at L(n+1)), the weakest level.
3. query_metrics(select="cache_hits_total", denominator="cache_hits_total + cache_misses_total", by=<level label>, window="1d", step="1h") to see the trend.
4. compare_windows(service=<service>, baseline="-1d") and find_bottlenecks(service=<service>, operation=<entry operation>): does a lower hit ratio show up as more critical-path time in the backing store (DB spans)?
Answer with a table per level: lookups, hit ratio now vs baseline, latency per lookup if known; then the effective hit ratio, where misses cost the most, and concrete changes (size, TTL, key design, prefetch) ranked by expected latency saved.`,
  },
  {
    name: 'investigate_latency',
    title: 'Our API response times are increasing, analyze the bottlenecks',
    args: { service: 'API service (default: find it)', window: 'recent window, e.g. 1h' },
    text: (a) => `Our API response times are increasing; analyze the bottlenecks.
1. performance_report(window="${opt(a['window'], '1h')}") for the overview${a['service'] ? '' : ', or list_services(sort_by="p99") to find the API service'}.
2. compare_windows(service="${opt(a['service'], '<service>')}", baseline="-1d"): which operations got slower, ranked.
3. latency_stats(service="${opt(a['service'], '<service>')}", group_by="operation", compare_to="-1d") for p50/p95/p99 per operation; find_anomalies(service="${opt(a['service'], '<service>')}") for when it started.
4. find_bottlenecks(service="${opt(a['service'], '<service>')}", operation=<slowest operation>): which downstream operation owns the critical path of slow requests, versus all requests.
5. find_traces(service="${opt(a['service'], '<service>')}", operation=<it>, min_duration_ms=<its p99>) then get_critical_path(trace_id=<one>) for a concrete example.
6. slo_status() to say whether the latency SLO budget is burning.
Answer: the slowest operations with p95/p99 before → now, the bottleneck (service, operation, share of critical path), one example trace id, and what to fix first.`,
  },
];

export function registerPrompts(server: McpServer): void {
  for (const p of PLAYBOOKS) {
    const argsSchema = Object.fromEntries(Object.entries(p.args).map(([k, d]) => [k, z.string().optional().describe(d)]));
    server.registerPrompt(p.name, { title: p.title, description: p.title, argsSchema }, (args: Record<string, string | undefined>) => ({
      description: p.title,
      messages: [{ role: 'user', content: { type: 'text', text: p.text(args) } }],
    }));
  }
}
