import test from 'ava'
import { createServer } from 'node:net'
import {
    R_ERR_BAD_ARGS, R_ERR_BUSY, R_ERR_CANT_COMPLETE, R_ERR_CANT_CONNECT, R_ERR_CANT_READ, R_ERR_CANT_WRITE,
    R_ERR_TIMEOUT, rGetTicks, rSleep, rSpawnFiber, type Fiber,
} from '../../runtime/index.js'
import {
    rAllocSocket, rCloseSocket, rConnectSocket, rDisconnectSocket, rFreeSocket, rGetSocketError, rIsSocketClosed,
    rIsSocketEof, rListenSocket, rReadSocket, rReadSocketSync, rResetSocket, rSetSocketCerts, rSetSocketLinger,
    rWriteSocket, rWriteSocketSync, rSetSocketError, type RSocket,
} from '../../socket/index.js'
import { setReceiver } from '../../socket/rsocket.js'
import { inFiber } from '../helpers/fiber.js'
import { echo, fixtures, listen, pattern } from '../helpers/net.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

/** A port with nothing listening on it. */
function* closedPort(): Fiber<number> {
    const { listener, port } = yield* listen(echo)
    rCloseSocket(listener)
    yield* rSleep(5)
    return port
}

/** A fiber that counts ticks while a test provokes faults: other fibers must be untouched. */
function ticker(): { count: number, stop: () => void } {
    const state = { count: 0, running: true, stop: () => { state.running = false } }
    rSpawnFiber('ticker', function* () {
        while (state.running) {
            state.count++
            yield* rSleep(2)
        }
    })
    return state
}

test('connection refused gives R_ERR_CANT_CONNECT and says so', async t => {
    await inFiber(function* () {
        const tick = ticker()
        const port = yield* closedPort()
        const sp = rAllocSocket()
        t.is(yield* rConnectSocket(sp, '127.0.0.1', port, 0), R_ERR_CANT_CONNECT)
        t.regex(rGetSocketError(sp)!, /refused/)
        yield* rSleep(10)
        tick.stop()
        t.true(tick.count > 0)
    })
})

test('an unknown host gives R_ERR_BAD_ARGS with the host named', async t => {
    await inFiber(function* () {
        const sp = rAllocSocket()
        t.is(yield* rConnectSocket(sp, 'no-such-host.invalid', 1883, rGetTicks() + 10_000), R_ERR_BAD_ARGS)
        t.regex(rGetSocketError(sp)!, /no-such-host\.invalid/)
    })
})

test('bad arguments are refused at once', async t => {
    await inFiber(function* () {
        const sp = rAllocSocket()
        t.is(yield* rConnectSocket(null, '127.0.0.1', 1, 0), R_ERR_BAD_ARGS)
        t.is(yield* rConnectSocket(sp, '127.0.0.1', 0, 0), R_ERR_BAD_ARGS)
        t.is(yield* rConnectSocket(sp, '127.0.0.1', 70000, 0), R_ERR_BAD_ARGS)
        t.is(yield* rConnectSocket(sp, null, 1883, 0), R_ERR_CANT_COMPLETE)
        t.regex(rGetSocketError(sp)!, /host/)
        t.is(yield* rReadSocket(sp, new Uint8Array(4), 0, 0), R_ERR_BAD_ARGS)
        t.is(yield* rReadSocket(null, new Uint8Array(4), 4, 0), R_ERR_BAD_ARGS)
        t.is(rReadSocketSync(sp, new Uint8Array(4), 4), R_ERR_CANT_READ)
        t.is(rReadSocketSync(null, new Uint8Array(4), 4), R_ERR_BAD_ARGS)
        t.is(yield* rWriteSocket(sp, 'x', -1, 0), R_ERR_CANT_WRITE)
        t.is(yield* rWriteSocket(sp, 42 as any, -1, 0), R_ERR_BAD_ARGS)
        t.is(rWriteSocketSync(sp, 'x', -1), R_ERR_CANT_WRITE)
        t.is(rWriteSocketSync(null, 'x', -1), R_ERR_BAD_ARGS)
        t.is(yield* rListenSocket(sp, '127.0.0.1', -1, echo), R_ERR_BAD_ARGS)
        t.true(rIsSocketEof(null))
        t.true(rIsSocketClosed(null))
        rFreeSocket(null)
        rCloseSocket(null)
        rDisconnectSocket(null)
    })
})

test('a listener on a port in use gives R_ERR_CANT_OPEN and the reason', async t => {
    await inFiber(function* () {
        const { listener, port } = yield* listen(echo)
        const other = rAllocSocket()
        t.is(yield* rListenSocket(other, '127.0.0.1', port, echo), -28)
        t.regex(rGetSocketError(other)!, /EADDRINUSE/)
        rCloseSocket(listener)
    })
})

test('a silent peer makes rReadSocket time out on time; the socket stays usable', async t => {
    await inFiber(function* () {
        let serverSide: RSocket | null = null
        const { listener, port } = yield* listen(function* (_arg: unknown, sp: RSocket) {
            serverSide = sp
        })
        const sp = rAllocSocket()
        yield* rConnectSocket(sp, '127.0.0.1', port, 0)
        const buf = new Uint8Array(16)
        const start = rGetTicks()
        t.is(yield* rReadSocket(sp, buf, buf.length, start + 100), R_ERR_TIMEOUT)
        const waited = rGetTicks() - start
        t.true(waited >= 99, `waited ${waited}`)
        t.false(rIsSocketEof(sp))
        /* Still usable: the next read gets what the peer sends */
        rSpawnFiber('late', function* () {
            yield* rSleep(5)
            yield* rWriteSocket(serverSide!, 'late data', -1, 0)
        })
        const n = yield* rReadSocket(sp, buf, buf.length, rGetTicks() + 5000)
        t.is(new TextDecoder().decode(buf.subarray(0, n)), 'late data')
        t.is(rReadSocketSync(sp, buf, buf.length), 0)
        rCloseSocket(serverSide)
        t.is(yield* rReadSocket(sp, buf, buf.length, rGetTicks() + 5000), R_ERR_CANT_READ)
        t.true(rIsSocketEof(sp))
        t.is(yield* rReadSocket(sp, buf, buf.length, 0), R_ERR_CANT_READ)
        rCloseSocket(sp)
        rCloseSocket(listener)
    })
})

test('a second concurrent reader gets R_ERR_BUSY', async t => {
    await inFiber(function* () {
        const { listener, port } = yield* listen(function* () { yield* rSleep(200) })
        const sp = rAllocSocket()
        yield* rConnectSocket(sp, '127.0.0.1', port, 0)
        const buf = new Uint8Array(4)
        const first = rReadSocket(sp, buf, 4, rGetTicks() + 50)
        t.is(yield* rReadSocket(sp, buf, 4, 0), R_ERR_BUSY)
        t.is(yield* first, R_ERR_TIMEOUT)
        rCloseSocket(sp)
        rCloseSocket(listener)
    })
})

test('a peer that never reads makes rWriteSocket time out', async t => {
    await inFiber(function* () {
        let held: RSocket | null = null
        const { listener, port } = yield* listen(function* (_arg: unknown, sp: RSocket) {
            held = sp
            sp.handle!.pause()
        })
        const sp = rAllocSocket()
        yield* rConnectSocket(sp, '127.0.0.1', port, 0)
        const big = pattern(64 * 1024 * 1024, 9)
        const start = rGetTicks()
        t.is(yield* rWriteSocket(sp, big, big.length, start + 200), R_ERR_TIMEOUT)
        t.true(rGetTicks() - start >= 199)
        t.is(rWriteSocketSync(sp, 'more', -1), 0)
        rSetSocketLinger(sp, 0)
        rCloseSocket(sp)
        rCloseSocket(held)
        rCloseSocket(listener)
    })
})

test('a peer reset in the middle of a write gives R_ERR_CANT_WRITE and says why', async t => {
    await inFiber(function* () {
        const { listener, port } = yield* listen(function* (_arg: unknown, sp: RSocket) {
            const buf = new Uint8Array(1024)
            yield* rReadSocket(sp, buf, buf.length, 0)
            rSetSocketLinger(sp, 0)
            rCloseSocket(sp)
        })
        const sp = rAllocSocket()
        yield* rConnectSocket(sp, '127.0.0.1', port, 0)
        const big = pattern(32 * 1024 * 1024, 5)
        const rc = yield* rWriteSocket(sp, big, big.length, rGetTicks() + 10_000)
        t.is(rc, R_ERR_CANT_WRITE)
        t.regex(rGetSocketError(sp)!, /reset|pipe|closed/i)
        t.is(yield* rWriteSocket(sp, 'after', -1, 0), R_ERR_CANT_WRITE)
        rCloseSocket(sp)
        rCloseSocket(listener)
    })
})

test('writes after close and reads after EOF fail cleanly; close is idempotent; reset allows reuse', async t => {
    await inFiber(function* () {
        const { listener, port } = yield* listen(echo)
        const sp = rAllocSocket()
        yield* rConnectSocket(sp, '127.0.0.1', port, 0)
        rCloseSocket(sp)
        rCloseSocket(sp)
        t.true(rIsSocketClosed(sp))
        t.is(yield* rWriteSocket(sp, 'x', -1, 0), R_ERR_CANT_WRITE)
        t.regex(rGetSocketError(sp)!, /closed/)
        t.is(yield* rReadSocket(sp, new Uint8Array(4), 4, 0), R_ERR_CANT_READ)
        rResetSocket(sp)
        t.false(rIsSocketClosed(sp))
        t.is(yield* rConnectSocket(sp, '127.0.0.1', port, 0), 0)
        yield* rWriteSocket(sp, 'again', -1, 0)
        const buf = new Uint8Array(8)
        const n = yield* rReadSocket(sp, buf, 8, rGetTicks() + 5000)
        t.is(new TextDecoder().decode(buf.subarray(0, n)), 'again')
        /* A reconnect of a connected socket closes the old connection first */
        t.is(yield* rConnectSocket(sp, '127.0.0.1', port, 0), 0)
        rDisconnectSocket(sp)
        t.true(rIsSocketEof(sp))
        t.is(yield* rReadSocket(sp, buf, 8, 0), R_ERR_CANT_READ)
        t.is(rSetSocketError(sp, 'first %d', 1), R_ERR_CANT_COMPLETE)
        rFreeSocket(sp)
        rCloseSocket(listener)
    })
})

test('a blocked reader wakes with an error when its socket is closed by another fiber', async t => {
    await inFiber(function* () {
        const { listener, port } = yield* listen(function* () { yield* rSleep(500) })
        const sp = rAllocSocket()
        yield* rConnectSocket(sp, '127.0.0.1', port, 0)
        rSpawnFiber('closer', function* () {
            yield* rSleep(20)
            rCloseSocket(sp)
        })
        t.is(yield* rReadSocket(sp, new Uint8Array(4), 4, rGetTicks() + 5000), R_ERR_CANT_READ)
        rCloseSocket(listener)
    })
})

test('a TLS handshake with a peer that never answers times out (connect deadline)', async t => {
    const silent = createServer(() => undefined)
    await new Promise<void>(r => silent.listen(0, '127.0.0.1', r))
    const port = (silent.address() as { port: number }).port
    await inFiber(function* () {
        const sp = rAllocSocket()
        rSetSocketCerts(sp, `${fixtures}ca.crt`, null, null, null)
        const start = rGetTicks()
        t.is(yield* rConnectSocket(sp, '127.0.0.1', port, start + 150), R_ERR_TIMEOUT)
        t.true(rGetTicks() - start >= 149)
        t.regex(rGetSocketError(sp)!, /timed out/)
    })
    silent.close()
})

test('TLS to a peer that speaks something else fails the handshake', async t => {
    const garbage = createServer(conn => { conn.on('error', () => undefined); conn.end('HTTP/1.0 400 Bad Request\r\n\r\n') })
    await new Promise<void>(r => garbage.listen(0, '127.0.0.1', r))
    const port = (garbage.address() as { port: number }).port
    await inFiber(function* () {
        const sp = rAllocSocket()
        rSetSocketCerts(sp, `${fixtures}ca.crt`, null, null, null)
        t.is(yield* rConnectSocket(sp, '127.0.0.1', port, rGetTicks() + 5000), R_ERR_CANT_COMPLETE)
        t.regex(rGetSocketError(sp)!, /TLS|closed/)
    })
    garbage.close()
})

test('a receiver that throws ends its connection with an error; nothing reaches Node and other fibers run on', async t => {
    await inFiber(function* () {
        const { listener, port } = yield* listen(function* (_arg: unknown, sp: RSocket) {
            yield* rWriteSocket(sp, 'data that the receiver chokes on', -1, 0)
            yield* rSleep(2000)
        })
        const tick = ticker()
        const sock = rAllocSocket()
        t.is(yield* rConnectSocket(sock, '127.0.0.1', port, 0), 0)
        const ends: string[] = []
        setReceiver(sock, {
            onData() { throw new RangeError('Array buffer allocation failed') },
            onEnd(code: number, reason: string) { ends.push(`${code} ${reason}`) },
            onDrain() { /* nothing */ },
        })
        const start = rGetTicks()
        while (ends.length === 0 && rGetTicks() - start < 3000) {
            yield* rSleep(10)
        }
        t.deepEqual(ends, [`${R_ERR_CANT_READ} Receiver failed: Array buffer allocation failed`])
        t.true(rIsSocketEof(sock))
        t.true(tick.count > 0)
        tick.stop()
        rCloseSocket(sock)
        rCloseSocket(listener)
    })
})
