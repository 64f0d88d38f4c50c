import test from 'ava'
import { rGetTicks, rSleep, rSpawnFiber, type Fiber } from '../../runtime/index.js'
import {
    rAllocSocket, rCloseSocket, rConnectSocket, rGetSocketAddr, rGetSocketError, rIsSocketEof, rReadSocket, rReadSocketSync,
    rShutdownSocket, rWriteSocket, rIsSocketConnected, rSetSocketNoDelay, type RSocket,
} from '../../socket/index.js'
import { inFiber } from '../helpers/fiber.js'
import { echo, listen, pattern, sha } from '../helpers/net.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

const MiB = 1024 * 1024

function* pump(sp: RSocket, total: number, chunk: number): Fiber<string> {
    const data = pattern(chunk * 4, chunk)
    const hash = sha()
    let sent = 0
    while (sent < total) {
        const n = Math.min(chunk, total - sent)
        const piece = data.subarray(sent % (chunk * 3), sent % (chunk * 3) + n)
        hash.update(piece)
        const rc = yield* rWriteSocket(sp, piece, n, rGetTicks() + 30_000)
        if (rc !== n) {
            throw new Error(`write returned ${rc}`)
        }
        sent += n
    }
    return hash.digest('hex')
}

function* drain(sp: RSocket, total: number): Fiber<string> {
    const hash = sha()
    const buf = new Uint8Array(256 * 1024)
    let got = 0
    while (got < total) {
        const n = yield* rReadSocket(sp, buf, buf.length, rGetTicks() + 30_000)
        if (n <= 0) {
            throw new Error(`read returned ${n} after ${got} bytes`)
        }
        hash.update(buf.subarray(0, n))
        got += n
    }
    return hash.digest('hex')
}

for (const [label, chunk] of [['small chunks (1 KiB)', 1024], ['large chunks (1 MiB)', MiB]] as const) {
    test(`echo 64 MiB each way with checksums, ${label}`, async t => {
        const TOTAL = 64 * MiB
        const [sent, received] = await inFiber<[string, string]>(function* () {
            const { listener, port } = yield* listen(echo)
            const sp = rAllocSocket()
            t.is(yield* rConnectSocket(sp, '127.0.0.1', port, 0), 0)
            t.true(rIsSocketConnected(sp))
            rSetSocketNoDelay(sp, 1)
            let sent = ''
            rSpawnFiber('writer', function* () { sent = yield* pump(sp, TOTAL, chunk) })
            const received = yield* drain(sp, TOTAL)
            rCloseSocket(sp)
            rCloseSocket(listener)
            return [sent, received]
        })
        t.is(received, sent)
    })
}

test('half-close: the peer reads to end of stream and still answers', async t => {
    const reply = await inFiber<string>(function* () {
        const { listener, port } = yield* listen(function* (_arg: unknown, sp: RSocket) {
            const buf = new Uint8Array(4096)
            let total = 0
            for (;;) {
                const n = yield* rReadSocket(sp, buf, buf.length, 0)
                if (n < 0) {
                    break
                }
                total += n
            }
            t.true(rIsSocketEof(sp))
            yield* rWriteSocket(sp, `got ${total}`, -1, 0)
            rCloseSocket(sp)
        })
        const sp = rAllocSocket()
        yield* rConnectSocket(sp, '127.0.0.1', port, 0)
        yield* rWriteSocket(sp, pattern(100_000, 3), -1, 0)
        rShutdownSocket(sp)
        const buf = new Uint8Array(100)
        const n = yield* rReadSocket(sp, buf, buf.length, rGetTicks() + 10_000)
        const text = new TextDecoder().decode(buf.subarray(0, n))
        t.is(yield* rReadSocket(sp, buf, buf.length, rGetTicks() + 10_000), -29)
        t.is(rReadSocketSync(sp, buf, buf.length), -29)
        rCloseSocket(sp)
        rCloseSocket(listener)
        return text
    })
    t.is(reply, 'got 100000')
})

test('1,000 concurrent connections, each in its own fiber', async t => {
    const N = 1000
    const PENDING = 64
    const gateUntil = rGetTicks() + 60_000
    const result = await inFiber<{ ok: number, peak: number, failures: string[] }>(function* () {
        const failures: string[] = []
        let open = 0
        let peak = 0
        const { listener, port } = yield* listen(function* (_arg: unknown, sp: RSocket) {
            open++
            peak = Math.max(peak, open)
            yield* echo(null, sp)
            open--
        })
        let connected = 0
        let started = 0
        let allUp = false
        let ok = 0
        let finished = 0
        for (let i = 0; i < N; i++) {
            rSpawnFiber('client', function* (id: number) {
                const sp = rAllocSocket()
                try {
                    /*
                        At most PENDING handshakes neither accepted nor failed: past the kernel's accept queue
                        (somaxconn, 128 on some machines) a connect completes on this side while the listener never
                        sees it
                     */
                    while (started - open - failures.length >= PENDING && rGetTicks() < gateUntil) {
                        yield* rSleep(1)
                    }
                    started++
                    if ((yield* rConnectSocket(sp, '127.0.0.1', port, rGetTicks() + 30_000)) !== 0) {
                        failures.push(rGetSocketError(sp) ?? 'connect failed')
                        return
                    }
                    connected++
                    /*
                        Hold every connection open until all are up on both sides (bounded: a failed one ends the wait).
                        Latched: once the first client sees them all up it echoes and closes, and the others must not
                        wait again for a count that has fallen since
                     */
                    const until = rGetTicks() + 60_000
                    while (!allUp && rGetTicks() < until) {
                        allUp = connected + failures.length >= N && open >= connected
                        if (!allUp) {
                            yield* rSleep(10)
                        }
                    }
                    const msg = `client ${id}`
                    yield* rWriteSocket(sp, msg, -1, 0)
                    const buf = new Uint8Array(64)
                    const n = yield* rReadSocket(sp, buf, buf.length, rGetTicks() + 30_000)
                    if (new TextDecoder().decode(buf.subarray(0, n)) === msg) {
                        ok++
                    }
                } finally {
                    rCloseSocket(sp)
                    finished++
                }
            }, i)
        }
        while (finished < N) {
            yield* rSleep(20)
        }
        rCloseSocket(listener)
        return { ok, peak, failures }
    })
    t.deepEqual(result.failures, [])
    t.is(result.ok, N)
    t.is(result.peak, N)
})

test('rGetSocketAddr reports the chosen port and the local address', async t => {
    await inFiber(function* () {
        const { listener, port } = yield* listen(echo)
        t.true(port > 0)
        t.is(listener.port, port)
        const sp = rAllocSocket()
        yield* rConnectSocket(sp, 'localhost', port, 0)
        const addr = rGetSocketAddr(sp)
        t.is(addr.rc, 0)
        t.is(addr.ip, '127.0.0.1')
        t.not(addr.port, port)
        rCloseSocket(sp)
        rCloseSocket(listener)
        t.is(rGetSocketAddr(null).rc, -6)
        t.is(rGetSocketAddr(rAllocSocket()).rc, -6)
    })
})
