/**
 * The layering of ARCHITECTURE.md, enforced: data flows receivers → pipeline → store → analysis →
 * interfaces, and each layer may import only what its row allows. `npm test` fails on a break or a cycle.
 *
 *   model, net        leaves
 *   codec             → model                 (OTLP wire formats; used by receivers, the store worker, the API)
 *   pipeline          → model
 *   telemetry         → (pino)
 *   config            → (zod, yaml)
 *   receivers         → pipeline, model, codec, telemetry, net      never store, analysis, api
 *   processing        → pipeline, model, telemetry
 *   store             → pipeline, model, codec, telemetry, analysis (its port types)
 *   analysis          → model                 pure: no store implementation, no I/O libraries
 *   api               → store/ports, analysis, codec, model, telemetry, net   never receivers or store/sqlite
 *   mcp               → store/ports, analysis, model, telemetry, net            the only importer of the MCP SDK
 *   alerting          → store/ports, analysis, model, telemetry, net, config/alert-schema (one rule validator for config and MCP)
 *   service.ts, main.ts  composition root: anything
 */
const layer = (name, allowed) => ({
  name: `${name}-layering`,
  severity: 'error',
  comment: `${name} may only import ${allowed.join(', ') || 'nothing in src'}`,
  from: { path: `^src/${name}/` },
  to: {
    path: '^src/',
    pathNot: [`^src/${name}/`, ...allowed.map((a) => `^src/${a}`)],
  },
});

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    layer('model', []),
    layer('net', []),
    layer('codec', ['model/']),
    layer('pipeline', ['model/']),
    layer('telemetry', []),
    layer('config', []),
    layer('receivers', ['pipeline/', 'model/', 'codec/', 'telemetry/', 'net/']),
    layer('processing', ['pipeline/', 'model/', 'telemetry/']),
    layer('store', ['pipeline/', 'model/', 'codec/', 'telemetry/', 'analysis/']),
    layer('analysis', ['model/']),
    layer('api', ['store/ports.ts', 'analysis/', 'codec/', 'model/', 'telemetry/', 'net/', 'mcp/']),
    layer('mcp', ['store/ports.ts', 'analysis/', 'model/', 'telemetry/', 'net/']),
    layer('alerting', ['store/ports.ts', 'analysis/', 'model/', 'telemetry/', 'net/', 'config/alert-schema.ts']),
    {
      name: 'mcp-sdk-only-in-mcp',
      severity: 'error',
      comment: 'only src/mcp imports the MCP SDK, so an SDK upgrade touches one folder',
      from: { pathNot: '^src/mcp/' },
      to: { path: '@modelcontextprotocol' },
    },
    {
      name: 'analysis-is-pure',
      severity: 'error',
      comment: 'analysis/ holds pure functions: no database, network or file-system modules',
      from: { path: '^src/analysis/' },
      to: { path: 'better-sqlite3|@grpc|node:(fs|net|http|worker_threads)|^(fs|net|http|worker_threads)$' },
    },
    {
      name: 'sql-only-in-store-sqlite',
      severity: 'error',
      comment: 'only store/sqlite talks to SQLite',
      from: { pathNot: '^src/store/sqlite/' },
      to: { path: 'better-sqlite3' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
