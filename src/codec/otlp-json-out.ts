import type protobuf from 'protobufjs';
import { otlpType, TypeNames } from './protos.js';

/**
 * Renders stored protobuf bytes as OTLP/JSON for the read API. The mapping is written out by hand rather
 * than taken from protobufjs's toObject because OTLP/JSON differs from proto3 JSON (hex ids, integer
 * enums) and 64-bit values must never pass through a JS number.
 *
 * Documented normalisation (what a client may see differ from what it sent): proto3 defaults are omitted
 * (empty strings, zero counts, empty lists, unset status fields), ids are lower-case hex, enum names are
 * numbers. Exceptions kept for readability: every span has traceId, spanId, name, kind,
 * startTimeUnixNano, endTimeUnixNano and a status object; every attribute has `key` and `value`.
 */

type JsonObject = Record<string, unknown>;
export type LongLike = protobuf.Long | number;

/** The shapes protobufjs decodes into (keepCase: false); unset scalars read as their defaults. */
export interface PbAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: LongLike;
  doubleValue?: number;
  arrayValue?: { values?: PbAnyValue[] } | null;
  kvlistValue?: { values?: PbKeyValue[] } | null;
  bytesValue?: Uint8Array;
}
export interface PbKeyValue {
  key?: string;
  value?: PbAnyValue | null;
}
interface PbEvent {
  timeUnixNano?: LongLike;
  name?: string;
  attributes?: PbKeyValue[];
  droppedAttributesCount?: number;
}
interface PbLink {
  traceId?: Uint8Array;
  spanId?: Uint8Array;
  traceState?: string;
  attributes?: PbKeyValue[];
  droppedAttributesCount?: number;
  flags?: number;
}
interface PbSpan extends PbLink {
  parentSpanId?: Uint8Array;
  name?: string;
  kind?: number;
  startTimeUnixNano?: LongLike;
  endTimeUnixNano?: LongLike;
  events?: PbEvent[];
  droppedEventsCount?: number;
  links?: PbLink[];
  droppedLinksCount?: number;
  status?: { message?: string; code?: number } | null;
}
interface PbEntityRef {
  schemaUrl?: string;
  type?: string;
  idKeys?: string[];
  descriptionKeys?: string[];
}
interface PbResource {
  attributes?: PbKeyValue[];
  droppedAttributesCount?: number;
  entityRefs?: PbEntityRef[];
}
interface PbScope {
  name?: string;
  version?: string;
  attributes?: PbKeyValue[];
  droppedAttributesCount?: number;
}

export function spanToOtlpJson(raw: Uint8Array): JsonObject {
  const s = otlpType(TypeNames.span).decode(raw) as unknown as PbSpan;
  const out: JsonObject = { traceId: hex(s.traceId), spanId: hex(s.spanId) };
  putString(out, 'traceState', s.traceState);
  if (s.parentSpanId && s.parentSpanId.length > 0) out['parentSpanId'] = hex(s.parentSpanId);
  putNumber(out, 'flags', s.flags);
  out['name'] = s.name ?? '';
  out['kind'] = s.kind ?? 0;
  out['startTimeUnixNano'] = longString(s.startTimeUnixNano);
  out['endTimeUnixNano'] = longString(s.endTimeUnixNano);
  putList(out, 'attributes', attributes(s.attributes));
  putNumber(out, 'droppedAttributesCount', s.droppedAttributesCount);
  putList(out, 'events', (s.events ?? []).map(event));
  putNumber(out, 'droppedEventsCount', s.droppedEventsCount);
  putList(out, 'links', (s.links ?? []).map(link));
  putNumber(out, 'droppedLinksCount', s.droppedLinksCount);
  const status: JsonObject = {};
  putString(status, 'message', s.status?.message);
  putNumber(status, 'code', s.status?.code);
  out['status'] = status;
  return out;
}

/**
 * The OTLP/JSON Resource. `schemaUrl` (which OTLP carries on the enclosing ResourceSpans) is added as a
 * `schemaUrl` key when non-empty, for read-API views that show a resource on its own.
 */
export function resourceToOtlpJson(raw: Uint8Array | null, schemaUrl?: string): JsonObject {
  const out: JsonObject = {};
  if (raw !== null) {
    const r = otlpType(TypeNames.resource).decode(raw) as unknown as PbResource;
    putList(out, 'attributes', attributes(r.attributes));
    putNumber(out, 'droppedAttributesCount', r.droppedAttributesCount);
    putList(out, 'entityRefs', (r.entityRefs ?? []).map(entityRef));
  }
  putString(out, 'schemaUrl', schemaUrl);
  return out;
}

export function scopeToOtlpJson(raw: Uint8Array | null): JsonObject {
  const out: JsonObject = {};
  if (raw === null) return out;
  const s = otlpType(TypeNames.scope).decode(raw) as unknown as PbScope;
  putString(out, 'name', s.name);
  putString(out, 'version', s.version);
  putList(out, 'attributes', attributes(s.attributes));
  putNumber(out, 'droppedAttributesCount', s.droppedAttributesCount);
  return out;
}

/** One stored (resource, scope) pair and spans that belong to it, as kept by the store. */
export interface StoredSpanGroup {
  resource: Uint8Array | null;
  resourceSchemaUrl: string;
  scope: Uint8Array | null;
  scopeSchemaUrl: string;
  spans: Uint8Array[];
}

interface ScopeAcc {
  json: JsonObject;
  spans: JsonObject[];
}
interface ResourceAcc {
  json: JsonObject;
  scopes: Map<string, ScopeAcc>;
}

/**
 * The OTLP/JSON `resourceSpans` array. Groups with identical resource bytes and schema URL become one
 * ResourceSpans, identical scopes within it one ScopeSpans, in first-seen order, so that a trace read
 * back looks like the request(s) it came from rather than one envelope per stored row.
 */
export function toResourceSpansJson(groups: StoredSpanGroup[]): unknown[] {
  const resources = new Map<string, ResourceAcc>();
  for (const g of groups) {
    const rKey = identity(g.resource, g.resourceSchemaUrl);
    let res = resources.get(rKey);
    if (res === undefined) {
      const json: JsonObject = {};
      if (g.resource !== null) json['resource'] = resourceToOtlpJson(g.resource);
      res = { json, scopes: new Map() };
      resources.set(rKey, res);
    }
    const sKey = identity(g.scope, g.scopeSchemaUrl);
    let scope = res.scopes.get(sKey);
    if (scope === undefined) {
      const json: JsonObject = {};
      if (g.scope !== null) json['scope'] = scopeToOtlpJson(g.scope);
      scope = { json, spans: [] };
      res.scopes.set(sKey, scope);
    }
    for (const raw of g.spans) scope.spans.push(spanToOtlpJson(raw));
  }
  const out: unknown[] = [];
  for (const [key, res] of resources) {
    const scopeSpans: JsonObject[] = [];
    for (const [sKey, scope] of res.scopes) {
      const ss: JsonObject = { ...scope.json, spans: scope.spans };
      putString(ss, 'schemaUrl', schemaUrlOf(sKey));
      scopeSpans.push(ss);
    }
    const rs: JsonObject = { ...res.json, scopeSpans };
    putString(rs, 'schemaUrl', schemaUrlOf(key));
    out.push(rs);
  }
  return out;
}

/** An unambiguous map key: the schema URL is length-prefixed, bytes are latin1 (one char per byte). */
function identity(raw: Uint8Array | null, schemaUrl: string): string {
  const bytes = raw === null ? '-' : `+${asBuffer(raw).toString('latin1')}`;
  return `${schemaUrl.length}:${schemaUrl}${bytes}`;
}

function schemaUrlOf(key: string): string {
  const colon = key.indexOf(':');
  return key.slice(colon + 1, colon + 1 + Number(key.slice(0, colon)));
}

function event(e: PbEvent): JsonObject {
  const out: JsonObject = {};
  const time = longString(e.timeUnixNano);
  if (time !== '0') out['timeUnixNano'] = time;
  putString(out, 'name', e.name);
  putList(out, 'attributes', attributes(e.attributes));
  putNumber(out, 'droppedAttributesCount', e.droppedAttributesCount);
  return out;
}

function link(l: PbLink): JsonObject {
  const out: JsonObject = {};
  if (l.traceId && l.traceId.length > 0) out['traceId'] = hex(l.traceId);
  if (l.spanId && l.spanId.length > 0) out['spanId'] = hex(l.spanId);
  putString(out, 'traceState', l.traceState);
  putList(out, 'attributes', attributes(l.attributes));
  putNumber(out, 'droppedAttributesCount', l.droppedAttributesCount);
  putNumber(out, 'flags', l.flags);
  return out;
}

function entityRef(e: PbEntityRef): JsonObject {
  const out: JsonObject = {};
  putString(out, 'schemaUrl', e.schemaUrl);
  putString(out, 'type', e.type);
  putList(out, 'idKeys', e.idKeys ?? []);
  putList(out, 'descriptionKeys', e.descriptionKeys ?? []);
  return out;
}

function attributes(kvs: PbKeyValue[] | undefined): JsonObject[] {
  return (kvs ?? []).map((kv) => ({ key: kv.key ?? '', value: kv.value ? anyValue(kv.value) : {} }));
}

/** A oneof: the member that was on the wire is the decoded message's own property, even at its default. */
function anyValue(v: PbAnyValue): JsonObject {
  if (Object.hasOwn(v, 'stringValue')) return { stringValue: v.stringValue };
  if (Object.hasOwn(v, 'boolValue')) return { boolValue: v.boolValue };
  if (Object.hasOwn(v, 'intValue')) return { intValue: longString(v.intValue) };
  if (Object.hasOwn(v, 'doubleValue')) return { doubleValue: double(v.doubleValue ?? 0) };
  if (Object.hasOwn(v, 'bytesValue')) return { bytesValue: asBuffer(v.bytesValue ?? new Uint8Array(0)).toString('base64') };
  if (Object.hasOwn(v, 'arrayValue')) {
    const values = (v.arrayValue?.values ?? []).map(anyValue);
    return { arrayValue: values.length > 0 ? { values } : {} };
  }
  if (Object.hasOwn(v, 'kvlistValue')) {
    const values = attributes(v.kvlistValue?.values);
    return { kvlistValue: values.length > 0 ? { values } : {} };
  }
  return {};
}

/** proto3 JSON spells non-finite doubles as strings; JSON.stringify would turn them into null. */
function double(d: number): number | string {
  if (Number.isFinite(d)) return d;
  return Number.isNaN(d) ? 'NaN' : d > 0 ? 'Infinity' : '-Infinity';
}

/** Long.toString honours the Long's signedness (fixed64 decodes unsigned, int64 signed). */
function longString(v: LongLike | undefined): string {
  if (v === undefined) return '0';
  return typeof v === 'number' ? String(v) : v.toString();
}

/** Zero-copy; protobufjs's prototype default for an absent bytes field is a plain empty array, hence the check. */
function asBuffer(b: Uint8Array): Buffer {
  return b instanceof Uint8Array ? Buffer.from(b.buffer, b.byteOffset, b.byteLength) : Buffer.from(b);
}

function hex(b: Uint8Array | undefined): string {
  return b ? asBuffer(b).toString('hex') : '';
}

function putString(o: JsonObject, key: string, v: string | undefined): void {
  if (v !== undefined && v !== '') o[key] = v;
}

function putNumber(o: JsonObject, key: string, v: number | undefined): void {
  if (v !== undefined && v !== 0) o[key] = v;
}

function putList(o: JsonObject, key: string, v: unknown[]): void {
  if (v.length > 0) o[key] = v;
}
