/**
 * The AGG-v1 worked example of ANALYSIS.md §2.3, reconstructed: four GET /checkout traces of 100, 80,
 * 200 and 60 ms whose critical paths add up to INSERT payments 220 ms of 440 (50 %), GET /checkout
 * self 80, GetCart 68, Charge 48 and the two client spans 12 each.
 *
 * One trace, with x = INSERT payments' duration (45, 25, 145, 5 ms), times in ms:
 *
 *   frontend GET /checkout (SERVER) |0--------------------------------------------------55+x|
 *   frontend cart.GetCart (CLIENT)     |10-----------30|
 *   cart GetCart (SERVER)                |11.5-----28.5|
 *   frontend payment.Charge (CLIENT)                 |30--------------------------45+x|
 *   payment Charge (SERVER)                            |31.5--------------43.5+x|
 *   payment INSERT payments (CLIENT, db)                    |37.5-----37.5+x|
 *
 * Per trace: checkout self 10+10 = 20, each client 1.5+1.5 = 3, GetCart 17, Charge 6+6 = 12, INSERT x.
 * The two client calls touch at 30 ms, so the CP-v1 `<=` rule keeps both on the path.
 */
import { SpanKind, StatusCode } from '../../../src/model/span.js';
import type { TraceSpan } from '../../../src/model/trace.js';
import { mkTrace, ms, traceIdOf } from './fixture.js';

export const CHECKOUT_INSERT_MS = [45, 25, 145, 5] as const;

export function checkoutTrace(n: number, insertMs: number, opts: { failInsert?: boolean } = {}): TraceSpan[] {
  const x = insertMs;
  const id = (k: number): string => `${n.toString(16).padStart(2, '0')}000000000000${k.toString(16).padStart(2, '0')}`;
  return mkTrace(
    [
      { id: id(1), start: ms(0), end: ms(55 + x), service: 'frontend', name: 'GET /checkout', kind: SpanKind.SERVER, attrs: { 'http.route': '/checkout', 'http.response.status_code': 200 } },
      { id: id(2), parent: id(1), start: ms(10), end: ms(30), service: 'frontend', name: 'cart.GetCart', kind: SpanKind.CLIENT, attrs: { 'rpc.system': 'grpc', 'rpc.grpc.status_code': 0 } },
      { id: id(3), parent: id(2), start: ms(11.5), end: ms(28.5), service: 'cart', name: 'GetCart', kind: SpanKind.SERVER, attrs: { 'rpc.system': 'grpc', 'rpc.grpc.status_code': 0 } },
      { id: id(4), parent: id(1), start: ms(30), end: ms(45 + x), service: 'frontend', name: 'payment.Charge', kind: SpanKind.CLIENT, attrs: { 'server.address': 'payment' } },
      { id: id(5), parent: id(4), start: ms(31.5), end: ms(43.5 + x), service: 'payment', name: 'Charge', kind: SpanKind.SERVER },
      {
        id: id(6),
        parent: id(5),
        start: ms(37.5),
        end: ms(37.5 + x),
        service: 'payment',
        name: 'INSERT payments',
        kind: SpanKind.CLIENT,
        attrs: { 'db.system': 'postgresql', 'db.namespace': 'shop' },
        status: opts.failInsert === true ? StatusCode.ERROR : StatusCode.UNSET,
      },
    ],
    traceIdOf(n),
  );
}

export function checkoutTraces(): TraceSpan[][] {
  return CHECKOUT_INSERT_MS.map((x, i) => checkoutTrace(i + 1, x));
}
