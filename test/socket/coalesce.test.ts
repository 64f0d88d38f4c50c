/*
    Read coalescing (rSetSocketCoalesce): pieces that come fast are taken in few reads, all of them and in order;
    traffic too slow for a nap to pay never waits; a nap never outlives its socket, never releases a held receiver, and ends when
    coalescing is turned off.
 */
import test from 'ava'
import { R_ERR_BAD_ARGS, rAwait, rGetTicks, rSleep, type Fiber } from '../../runtime/index.js'
import {
    rAllocSocket, rCloseSocket, rConnectSocket, rGetSocketError, rReadSocket, rSetSocketCerts, rSetSocketCoalesce,
    rSetSocketReceiver, rWriteSocket, type RSocket,
} from '../../socket/index.js'
import { holdReceiver } from '../../socket/rsocket.js'
import { NAP_READS } from '../../socket/nap.js'
import { inFiber } from '../helpers/fiber.js'
import { fixtures, listen } from '../helpers/net.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

const PIECE = 16

/* A peer that writes `count` numbered pieces, `gap` ms apart (0: one turn of the event loop apart), then closes */
function pacedWriter(count: number, gap: number) {
    return function* (_arg: unknown, sp: RSocket): Fiber<void> {
        for (let i = 0; i < count; i++) {
            const piece = new Uint8Array(PIECE)
            new DataView(piece.buffer).setUint32(0, i)
            piece.fill(i & 0xff, 4)
            if ((yield* rWriteSocket(sp, piece, PIECE, rGetTicks() + 10_000)) !== PIECE) {
                break
            }
            yield* rSleep(gap)
        }
        rCloseSocket(sp)
    }
}

/* chunks: their sizes; reads: the turns of the event loop that brought chunks (a TLS stream hands over the
   records of one read, or what it read ahead while paused, as chunks of one turn) */
interface Received { chunks: number[], reads: number, bytes: Uint8Array, first: number, last: number, end: string | null }

/* Take everything a connection to port sends through a receiver (one call per chunk Node delivers) */
function* receiveAll(sp: RSocket, port: number, host = '127.0.0.1'): Fiber<Received> {
    const got: Received = { chunks: [], reads: 0, bytes: new Uint8Array(0), first: 0, last: 0, end: null }
    let turnSeen = false
    const parts: Uint8Array[] = []
    const rc = yield* rConnectSocket(sp, host, port, 0)
    if (rc !== 0) {
        throw new Error(`connect: ${rc} ${rGetSocketError(sp)}`)
    }
    rSetSocketReceiver(sp, {
        onData(chunk: Buffer) {
            const now = performance.now()
            if (got.chunks.length === 0) {
                got.first = now
            }
            got.last = now
            got.chunks.push(chunk.length)
            if (!turnSeen) {
                turnSeen = true
                got.reads++
                setImmediate(() => { turnSeen = false })
            }
            parts.push(Uint8Array.from(chunk))
        },
        onEnd(_code: number, reason: string) {
            got.end = reason
        },
        onDrain() {},
    })
    const deadline = rGetTicks() + 30_000
    while (got.end === null && rGetTicks() < deadline) {
        yield* rSleep(5)
    }
    got.bytes = Uint8Array.from(Buffer.concat(parts))
    return got
}

function expected(count: number): Uint8Array {
    const out = new Uint8Array(count * PIECE)
    for (let i = 0; i < count; i++) {
        new DataView(out.buffer).setUint32(i * PIECE, i)
        out.fill(i & 0xff, i * PIECE + 4, (i + 1) * PIECE)
    }
    return out
}

for (const secure of [false, true]) {
    test(`pieces that come fast are read in few reads, every byte in order, then the end (${secure ? 'TLS' : 'TCP'})`, async t => {
        const COUNT = 400
        const NAP = 5
        const result = await inFiber<{ plain: Received, napped: Received, naps: number }>(function* () {
            const prepare = secure ? (sp: RSocket) => { rSetSocketCerts(sp, null, `${fixtures}server.key`, `${fixtures}server.crt`, null) } : undefined
            const { listener, port } = yield* listen(pacedWriter(COUNT, 0), null, prepare)
            const client = () => {
                const sp = rAllocSocket()
                if (secure) {
                    rSetSocketCerts(sp, `${fixtures}ca.crt`, null, null, null)
                }
                return sp
            }
            const host = secure ? 'localhost' : '127.0.0.1'
            const plainSock = client()
            const plain = yield* receiveAll(plainSock, port, host)
            const sp = client()
            t.is(rSetSocketCoalesce(sp, NAP), 0)
            const napped = yield* receiveAll(sp, port, host)
            rCloseSocket(plainSock)
            rCloseSocket(sp)
            rCloseSocket(listener)
            t.is(sp.napTimer, null, 'no nap outlives the socket')
            return { plain, napped, naps: sp.naps }
        })
        const want = expected(COUNT)
        t.deepEqual(result.plain.bytes, want)
        t.deepEqual(result.napped.bytes, want, 'every byte, in order, with naps between reads')
        t.truthy(result.napped.end, 'the end of stream still comes')
        t.true(result.naps > 0)
        /* Between naps at most NAP_READS + 1 reads come (the turn that hands over what came during the nap, then
           the reads up to the one that starts the next nap), whatever the load: the bound grows with the time
           they took */
        const elapsed = result.napped.last - result.napped.first
        const bound = (NAP_READS + 1) * (elapsed / NAP + 1) + 2
        t.true(result.napped.reads <= bound,
            `${result.napped.reads} reads (${result.napped.chunks.length} chunks) in ${elapsed.toFixed(1)} ms with ${NAP} ms naps ` +
            `(bound ${bound.toFixed(1)}); without coalescing ${result.plain.reads} reads`)
    })
}

test('traffic of fewer reads per nap than pays for one never waits: no nap is taken', async t => {
    const result = await inFiber<{ got: Received, naps: number }>(function* () {
        /* A piece every 3 ms or more: at most two reads within a nap of 5 ms */
        const { listener, port } = yield* listen(pacedWriter(20, 3))
        const sp = rAllocSocket()
        rSetSocketCoalesce(sp, 5)
        const got = yield* receiveAll(sp, port)
        rCloseSocket(sp)
        rCloseSocket(listener)
        return { got, naps: sp.naps }
    })
    t.deepEqual(result.got.bytes, expected(20))
    t.is(result.naps, 0)
})

test('a nap never releases a held receiver; releasing it delivers the rest', async t => {
    const COUNT = 300
    const result = await inFiber<{ duringHold: number, total: number, bytes: number }>(function* () {
        const { listener, port } = yield* listen(pacedWriter(COUNT, 0))
        const sp = rAllocSocket()
        rSetSocketCoalesce(sp, 2)
        t.is(yield* rConnectSocket(sp, '127.0.0.1', port, 0), 0)
        let chunks = 0
        let bytes = 0
        let ended = false
        rSetSocketReceiver(sp, {
            onData(chunk: Buffer) {
                chunks++
                bytes += chunk.length
            },
            onEnd() {
                ended = true
            },
            onDrain() {},
        })
        /* Hold once the first nap starts, and stay held over many naps' length */
        while (sp.napTimer === null && !ended) {
            yield* rSleep(0)
        }
        holdReceiver(sp, true)
        const atHold = chunks
        yield* rSleep(60)
        /* Node may hand over the one chunk it had read ahead before the hold took effect */
        const duringHold = chunks - atHold
        holdReceiver(sp, false)
        const deadline = rGetTicks() + 30_000
        while (!ended && rGetTicks() < deadline) {
            yield* rSleep(5)
        }
        rCloseSocket(sp)
        rCloseSocket(listener)
        return { duringHold, total: chunks, bytes }
    })
    t.true(result.duringHold <= 1, `${result.duringHold} chunks came while held`)
    t.is(result.bytes, COUNT * PIECE)
})

test('coalescing off during a nap resumes reading at once; bad values are refused', async t => {
    await inFiber(function* () {
        const { listener, port } = yield* listen(pacedWriter(200, 0))
        const sp = rAllocSocket()
        t.is(rSetSocketCoalesce(sp, 1000), 0)
        t.is(yield* rConnectSocket(sp, '127.0.0.1', port, 0), 0)
        const buf = new Uint8Array(64 * 1024)
        let got = 0
        /* Pull reads: the second small read within the second starts a nap of a whole second */
        while (sp.napTimer === null) {
            const n = yield* rReadSocket(sp, buf, buf.length, rGetTicks() + 10_000)
            t.true(n > 0)
            got += n
        }
        t.is(rSetSocketCoalesce(sp, 0), 0)
        t.is(sp.napTimer as unknown, null)
        t.false(sp.handle!.isPaused(), 'reading resumed without waiting out the nap')
        for (;;) {
            const n = yield* rReadSocket(sp, buf, buf.length, rGetTicks() + 10_000)
            if (n <= 0) {
                break
            }
            got += n
        }
        t.is(got, 200 * PIECE)
        for (const bad of [-1, 1.5, 1001, Number.NaN]) {
            t.is(rSetSocketCoalesce(sp, bad), R_ERR_BAD_ARGS, String(bad))
        }
        t.is(rSetSocketCoalesce(null, 1), R_ERR_BAD_ARGS)
        rCloseSocket(sp)
        rCloseSocket(listener)
    })
})

/* Wait until the event loop has turned: an immediate queued now runs after the one coalescing queued to count
   turns (they run in the order queued, whatever phase this fiber runs in) */
function* nextTurn(): Fiber<void> {
    yield* rAwait(new Promise<void>(resolve => setImmediate(resolve)))
}

test('the chunks of one turn of the event loop count as one read; the sixth read within a nap starts one', async t => {
    await inFiber(function* () {
        /* A peer that stays until the client closes */
        const { listener, port } = yield* listen(function* (_arg: unknown, sp: RSocket) {
            const buf = new Uint8Array(1024)
            while ((yield* rReadSocket(sp, buf, buf.length, rGetTicks() + 10_000)) > 0) { /* drain */ }
            rCloseSocket(sp)
        })
        const sp = rAllocSocket()
        try {
            t.is(rSetSocketCoalesce(sp, 1000), 0)
            t.is(yield* rConnectSocket(sp, '127.0.0.1', port, 0), 0)
            let chunks = 0
            rSetSocketReceiver(sp, { onData() { chunks++ }, onEnd() {}, onDrain() {} })
            /* Ten chunks handed over at once (as a TLS stream hands over the records of one read): one read */
            for (let i = 0; i < 10; i++) {
                sp.handle!.emit('data', Buffer.from('x'))
            }
            t.is(sp.naps, 0)
            /* Four more reads, each in a turn of its own: five within the nap, still none */
            for (let i = 0; i < 4; i++) {
                yield* nextTurn()
                sp.handle!.emit('data', Buffer.from('y'))
            }
            t.is(sp.naps, 0)
            yield* nextTurn()
            sp.handle!.emit('data', Buffer.from('z'))
            t.is(sp.naps, 1, 'the sixth read within the nap starts one')
            t.is(chunks, 15)
        } finally {
            rSetSocketCoalesce(sp, 0)
            rCloseSocket(sp)
            rCloseSocket(listener)
        }
    })
})
