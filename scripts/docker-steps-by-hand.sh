#!/usr/bin/env bash
# Replays the Dockerfile's build and run steps where no Docker engine exists:
#   1. reads the Dockerfile (COPY sources, RUN steps, runtime ENV, HEALTHCHECK, ENTRYPOINT/CMD) and
#      fails if it no longer has the steps replayed here;
#   2. builder: copies the same build-context files into a clean temporary directory, then
#      `npm ci`, `npm run build`, `npm prune --omit=dev`;
#   3. runtime: assembles a directory with only what the runtime stage copies (node_modules, dist,
#      proto, config, package.json), owned by root and read-only for the daemon;
#   4. starts the daemon from there with the image's ENTRYPOINT/CMD and ENV, but on 127.0.0.1 with
#      free high ports (never 0.0.0.0) and a temporary /data; as uid 1000 (the image's "node" user)
#      when run as root;
#   5. checks /healthz (node's fetch), runs the Dockerfile's HEALTHCHECK command itself, checks /readyz,
#      sends one span over OTLP/HTTP and finds it through the API (proto/ and the native module work),
#   6. sends SIGTERM and expects exit code 0; prints a one-line summary.
#
# Usage: scripts/docker-steps-by-hand.sh        (KEEP=1 keeps the temporary directory)
# Needs: node 20 + npm, and what better-sqlite3 needs to compile when no prebuilt binary can be fetched.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DOCKERFILE="$REPO/Dockerfile"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/spanlens-docker-steps.XXXXXX")"
BUILD="$WORK/build"     # the builder stage's /app
RUNTIME="$WORK/runtime" # the runtime stage's /app
DATA="$WORK/data"       # the /data volume
LOG="$WORK/daemon.log"
DAEMON_PID=""

step() { printf '==> %s\n' "$*" >&2; }
fail() {
  printf 'docker-steps-by-hand: FAILED: %s\n' "$*" >&2
  if [[ -s "$LOG" ]]; then
    printf -- '--- daemon log (last 40 lines) ---\n' >&2
    tail -n 40 "$LOG" >&2
  fi
  exit 1
}
cleanup() {
  if [[ -n "$DAEMON_PID" ]] && kill -0 "$DAEMON_PID" 2>/dev/null; then kill -KILL "$DAEMON_PID" 2>/dev/null || true; fi
  if [[ "${KEEP:-0}" == 1 ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

[[ -f "$DOCKERFILE" ]] || fail "no Dockerfile at $DOCKERFILE"
# Temporary files live under a 0700 directory by default; the unprivileged daemon must traverse it.
chmod 755 "$WORK"

# ---- 1. read the Dockerfile ------------------------------------------------------------------------
step "reading $DOCKERFILE"
SPEC="$WORK/dockerfile.json"
node --input-type=module - "$DOCKERFILE" "$SPEC" <<'EOF'
import { readFileSync, writeFileSync } from 'node:fs';
const [file, out] = process.argv.slice(2);
// Join continuation lines, drop comments and blank lines.
const lines = readFileSync(file, 'utf8').replace(/\\\r?\n/g, ' ').split(/\r?\n/)
  .map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
const stages = [];
for (const line of lines) {
  const [, instr, rest] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
  if (!instr) continue;
  const op = instr.toUpperCase();
  if (op === 'FROM') {
    const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
    stages.push({ base: m?.[1], name: m?.[2] ?? String(stages.length), copies: [], runs: [], env: {}, healthcheck: null, entrypoint: null, cmd: null });
    continue;
  }
  const stage = stages.at(-1);
  if (!stage) throw new Error(`${op} before FROM`);
  if (op === 'COPY') {
    const words = rest.split(/\s+/);
    const from = words.find((w) => w.startsWith('--from='))?.slice(7) ?? null;
    const args = words.filter((w) => !w.startsWith('--'));
    stage.copies.push({ from, sources: args.slice(0, -1), dest: args.at(-1) });
  } else if (op === 'RUN') stage.runs.push(rest);
  else if (op === 'ENV') {
    for (const m of rest.matchAll(/(\w+)=("[^"]*"|\S+)/g)) stage.env[m[1]] = m[2].replace(/^"|"$/g, '');
  } else if (op === 'HEALTHCHECK') {
    const i = rest.indexOf('CMD');
    stage.healthcheck = JSON.parse(rest.slice(i + 3).trim());
  } else if (op === 'ENTRYPOINT') stage.entrypoint = JSON.parse(rest);
  else if (op === 'CMD') stage.cmd = JSON.parse(rest);
  else if (op === 'USER') stage.user = rest;
  else if (op === 'WORKDIR') stage.workdir = rest;
}
writeFileSync(out, JSON.stringify({ stages }, null, 2));
EOF
q() { node -e 'const s=require(process.argv[1]);const v=(new Function("s","return "+process.argv[2]))(s);console.log(Array.isArray(v)?v.join("\n"):v)' "$SPEC" "$1"; }

[[ "$(q 's.stages.length')" == 2 ]] || fail "expected two stages (builder, runtime) in the Dockerfile"
[[ "$(q 's.stages[0].name')" == builder ]] || fail "the first stage is not named builder"
for base in "$(q 's.stages[0].base')" "$(q 's.stages[1].base')"; do
  [[ "$base" == node:20-bookworm-slim ]] || fail "unexpected base image $base"
done
BUILDER_RUNS="$(q 's.stages[0].runs')"
for expected in 'npm ci' 'npm run build' 'npm prune --omit=dev'; do
  grep -qxF "$expected" <<<"$BUILDER_RUNS" || fail "the builder stage no longer runs '$expected'; update this script"
done
[[ "$(q 's.stages[1].workdir')" == /app && "$(q 's.stages[0].workdir')" == /app ]] || fail "WORKDIR is not /app"
RUNTIME_USER="$(q 's.stages[1].user')"
ENTRY=()
while IFS= read -r word; do ENTRY+=("$word"); done < <(q 's.stages[1].entrypoint.concat(s.stages[1].cmd)')
[[ "${ENTRY[0]}" == node ]] || fail "ENTRYPOINT does not start with node: ${ENTRY[*]}"

# ---- 2. builder stage --------------------------------------------------------------------------------
step "builder: copying the build context into $BUILD"
mkdir -p "$BUILD"
while IFS= read -r src; do
  [[ -e "$REPO/$src" ]] || fail "COPY source $src does not exist"
  # A source excluded by .dockerignore would be missing from a real build context.
  if [[ -f "$REPO/.dockerignore" ]] && grep -qxF "$src" "$REPO/.dockerignore"; then fail ".dockerignore excludes $src"; fi
  cp -a "$REPO/$src" "$BUILD/"
done < <(q 's.stages[0].copies.filter(c=>!c.from).flatMap(c=>c.sources)')
rm -rf "$BUILD/node_modules" "$BUILD/dist"
ls "$BUILD" >&2

cd "$BUILD"
START=$SECONDS
step "builder: npm ci"
npm ci --no-audit --no-fund >"$WORK/npm-ci.log" 2>&1 || { tail -n 40 "$WORK/npm-ci.log" >&2; fail "npm ci"; }
CI_SECONDS=$((SECONDS - START))
START=$SECONDS
step "builder: npm run build"
npm run build >"$WORK/npm-build.log" 2>&1 || { tail -n 40 "$WORK/npm-build.log" >&2; fail "npm run build"; }
BUILD_SECONDS=$((SECONDS - START))
step "builder: npm prune --omit=dev"
npm prune --omit=dev --no-audit --no-fund >"$WORK/npm-prune.log" 2>&1 || { tail -n 40 "$WORK/npm-prune.log" >&2; fail "npm prune"; }

# ---- 3. runtime stage --------------------------------------------------------------------------------
step "runtime: assembling $RUNTIME"
mkdir -p "$RUNTIME"
while IFS=$'\t' read -r from src dest; do
  if [[ "$from" == builder ]]; then origin="$BUILD/${src#/app/}"; else origin="$REPO/$src"; fi
  [[ -e "$origin" ]] || fail "runtime COPY source $src (from ${from:-context}) is missing"
  cp -a "$origin" "$RUNTIME/${dest#./}"
done < <(q 's.stages[1].copies.map(c=>[c.from??"",c.sources[0],c.dest].join("\t"))')
for expected in node_modules dist proto config package.json; do
  [[ -e "$RUNTIME/$expected" ]] || fail "the runtime stage does not copy $expected"
done
EXTRA="$(cd "$RUNTIME" && ls -A | grep -vxE 'node_modules|dist|proto|config|package.json' || true)"
[[ -z "$EXTRA" ]] || fail "unexpected files in the runtime directory: $EXTRA"
for dev in typescript vitest tsx eslint; do
  [[ ! -e "$RUNTIME/node_modules/$dev" ]] || fail "devDependency $dev survived npm prune"
done
[[ -e "$RUNTIME/dist/main.js" && -e "$RUNTIME/dist/store/sqlite/writer-worker.js" ]] || fail "dist/ is incomplete"
NATIVE="$(find "$RUNTIME/node_modules/better-sqlite3" -name '*.node' -path '*Release*' | head -n 1)"
[[ -n "$NATIVE" ]] || fail "better-sqlite3's native module is missing"
RUNTIME_MB="$(du -sm "$RUNTIME" | cut -f1)"
# npm ls fails on a missing or invalid dependency: the pruned tree must still satisfy package.json.
LS="$(cd "$RUNTIME" && npm ls --omit=dev --all --parseable 2>"$WORK/npm-ls.log")" || { cat "$WORK/npm-ls.log" >&2; fail "npm ls in the runtime directory"; }
PACKAGES="$(($(wc -l <<<"$LS") - 1))"

# ---- 4. run it like the container would -----------------------------------------------------------------
# The image's ENV, with 0.0.0.0 and the fixed ports replaced by loopback and free ports, /data by a temp dir.
mapfile -t PORTS < <(node -e '
const net = require("node:net");
const servers = [0, 1, 2].map(() => net.createServer());
Promise.all(servers.map((s) => new Promise((r) => s.listen(0, "127.0.0.1", r)))).then(() => {
  for (const s of servers) console.log(s.address().port);
  for (const s of servers) s.close();
});')
[[ ${#PORTS[@]} == 3 ]] || fail "could not find free ports"
declare -A IMAGE_ENV=()
while IFS='=' read -r key value; do IMAGE_ENV[$key]="$value"; done < <(q 'Object.entries(s.stages[1].env).map(([k,v])=>k+"="+v)')
[[ "${IMAGE_ENV[SPANLENS_OTLP_GRPC]:-}" == 0.0.0.0:4317 && "${IMAGE_ENV[SPANLENS_OTLP_HTTP]:-}" == 0.0.0.0:4318 \
  && "${IMAGE_ENV[SPANLENS_API]:-}" == 0.0.0.0:4320 && "${IMAGE_ENV[SPANLENS_DATA]:-}" == /data ]] \
  || fail "the runtime ENV is not the container shape (0.0.0.0:4317/4318/4320, /data)"
IMAGE_ENV[SPANLENS_OTLP_GRPC]="127.0.0.1:${PORTS[0]}"
IMAGE_ENV[SPANLENS_OTLP_HTTP]="127.0.0.1:${PORTS[1]}"
IMAGE_ENV[SPANLENS_API]="127.0.0.1:${PORTS[2]}"
IMAGE_ENV[SPANLENS_DATA]="$DATA"
ENV_ARGS=(PATH="$PATH" HOME="$WORK")
for key in "${!IMAGE_ENV[@]}"; do ENV_ARGS+=("$key=${IMAGE_ENV[$key]}"); done
API="http://127.0.0.1:${PORTS[2]}"

mkdir -p "$DATA"
AS_USER=()
WHO="$(id -un)"
if [[ "$(id -u)" == 0 ]] && command -v setpriv >/dev/null; then
  # Like the image: app files owned by root (read-only for the daemon), /data owned by uid 1000.
  uid="${RUNTIME_USER%%:*}" gid="${RUNTIME_USER##*:}"
  [[ "$uid" =~ ^[0-9]+$ && "$gid" =~ ^[0-9]+$ ]] || fail "USER in the runtime stage is not numeric uid:gid: $RUNTIME_USER"
  chown -R root:root "$RUNTIME"
  chmod -R go-w "$RUNTIME"
  chown "$uid:$gid" "$DATA"
  AS_USER=(setpriv --reuid="$uid" --regid="$gid" --clear-groups)
  WHO="uid $uid"
fi

step "runtime: starting '${ENTRY[*]}' in $RUNTIME as $WHO (API $API, OTLP/HTTP ${PORTS[1]}, OTLP/gRPC ${PORTS[0]})"
cd "$RUNTIME"
env -i "${ENV_ARGS[@]}" "${AS_USER[@]}" "${ENTRY[@]}" >"$WORK/daemon.stdout" 2>"$LOG" &
DAEMON_PID=$!

# ---- 5. probes and one span end to end ----------------------------------------------------------------
step "checking /healthz, the HEALTHCHECK command, /readyz and one OTLP/HTTP export"
node --input-type=module - "$API" "http://127.0.0.1:${PORTS[1]}" "$DAEMON_PID" <<'EOF' || fail "checks against the running daemon"
const [api, otlpHttp, pid] = process.argv.slice(2);
const deadline = Date.now() + 30_000;
const alive = () => { try { process.kill(Number(pid), 0); return true; } catch { return false; } };
let health;
while (Date.now() < deadline) {
  if (!alive()) throw new Error('the daemon exited during startup');
  try { health = await fetch(`${api}/healthz`); break; } catch { await new Promise((r) => setTimeout(r, 200)); }
}
if (!health) throw new Error('/healthz never answered');
if (health.status !== 200) throw new Error(`/healthz answered ${health.status}`);
console.error(`/healthz ${health.status} ${JSON.stringify(await health.json())}`);
const ready = await fetch(`${api}/readyz`);
if (ready.status !== 200) throw new Error(`/readyz answered ${ready.status}: ${await ready.text()}`);
console.error(`/readyz ${ready.status}`);
const now = BigInt(Date.now()) * 1_000_000n;
const body = { resourceSpans: [{
  resource: { attributes: [{ key: 'service.name', value: { stringValue: 'docker-steps-by-hand' } }] },
  scopeSpans: [{ spans: [{ traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name: 'smoke', kind: 2,
    startTimeUnixNano: String(now - 5_000_000n), endTimeUnixNano: String(now) }] }] }] };
const exp = await fetch(`${otlpHttp}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
if (exp.status !== 200) throw new Error(`OTLP/HTTP export answered ${exp.status}: ${await exp.text()}`);
let found = false;
while (!found && Date.now() < deadline) {
  const trace = await fetch(`${api}/api/traces/5b8efff798038103d269b633813fc60c`);
  found = trace.status === 200 && (await trace.text()).includes('smoke');
  if (!found) await new Promise((r) => setTimeout(r, 200));
}
if (!found) throw new Error('the exported span never showed up in /api/traces/{id}');
console.error('OTLP/HTTP export 200, span readable through /api/traces/{id}');
EOF

HC=()
while IFS= read -r word; do HC+=("$word"); done < <(q 's.stages[1].healthcheck')
(cd "$RUNTIME" && env -i "${ENV_ARGS[@]}" "${AS_USER[@]}" "${HC[@]}") || fail "the Dockerfile's HEALTHCHECK command failed"
echo "HEALTHCHECK command exited 0" >&2

# ---- 6. SIGTERM ---------------------------------------------------------------------------------------
step "sending SIGTERM"
kill -TERM "$DAEMON_PID"
set +e
for _ in $(seq 1 300); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$DAEMON_PID" 2>/dev/null; then fail "still running 30s after SIGTERM"; fi
wait "$DAEMON_PID"
CODE=$?
set -e
DAEMON_PID=""
[[ "$CODE" == 0 ]] || fail "exit code $CODE after SIGTERM"
grep -q '"msg":"spanlens stopped"' "$LOG" || fail "no 'spanlens stopped' in the log"
[[ -s "$DATA/$(ls "$DATA" | head -n 1)" ]] || fail "nothing written to the data directory"

echo "docker-steps-by-hand: OK - npm ci ${CI_SECONDS}s, build ${BUILD_SECONDS}s, pruned runtime ${RUNTIME_MB} MB (${PACKAGES} packages, no devDependencies), ran as ${WHO} on 127.0.0.1: /healthz 200, HEALTHCHECK ok, /readyz 200, 1 span in and out, SIGTERM -> exit 0"
