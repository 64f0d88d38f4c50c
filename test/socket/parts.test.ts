/*
    The TLS and WebSocket parts (parts.ts) are loaded on the first connect (or listen) that needs them. This file
    runs in a process of its own, so its first test meets them unloaded: calls made meanwhile wait for them within
    their deadline, and a socket closed meanwhile ends its call with an error. A plain-TCP program loads neither.
 */
import test from 'ava'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer, type TLSSocket } from 'node:tls'
import { fileURLToPath } from 'node:url'
import { R_ERR_CANT_CONNECT, R_ERR_CANT_OPEN, rGetTicks } from '../../runtime/index.js'
import {
    rAllocSocket, rCloseSocket, rConnectSocket, rGetSocketError, rIsSocketSecure, rListenSocket, rReadSocket,
    rSetSocketCerts, rSetTls, rSetWebSocket, rWriteSocket,
} from '../../socket/index.js'
import { tlsPart, wsPart } from '../../socket/parts.js'
import { inFiber } from '../helpers/fiber.js'
import { echo, fixtures } from '../helpers/net.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

const f = (name: string) => `${fixtures}${name}`

test.serial('the first TLS and WebSocket calls wait for their parts: a connect completes, calls on sockets closed meanwhile fail, none hangs', async t => {
    t.is(tlsPart, null, 'nothing in this process loaded the TLS part yet')
    t.is(wsPart, null, 'nor the WebSocket part')
    const server = createServer({ key: readFileSync(f('server.key')), cert: readFileSync(f('server.crt')) }, (s: TLSSocket) => s.pipe(s))
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as { port: number }).port
    try {
        await inFiber(function* () {
            /* All started in one tick, before the part is loaded */
            const sock = rAllocSocket()
            rSetSocketCerts(sock, f('ca.crt'), null, null, null)
            const connected = rConnectSocket(sock, 'localhost', port, rGetTicks() + 10_000)
            const closedClient = rAllocSocket()
            rSetTls(closedClient)
            const refused = rConnectSocket(closedClient, 'localhost', port, rGetTicks() + 10_000)
            const closedListener = rAllocSocket()
            rSetSocketCerts(closedListener, null, f('server.key'), f('server.crt'), null)
            const unheard = rListenSocket(closedListener, '127.0.0.1', 0, echo)
            const closedWs = rAllocSocket()
            rSetWebSocket(closedWs, '/mqtt')
            const unupgraded = rConnectSocket(closedWs, '127.0.0.1', port, rGetTicks() + 10_000)
            rCloseSocket(closedClient)
            rCloseSocket(closedListener)
            rCloseSocket(closedWs)
            t.is(tlsPart, null)
            t.is(wsPart, null)

            t.is(yield* connected, 0, rGetSocketError(sock) ?? '')
            t.true(rIsSocketSecure(sock))
            const hello = new TextEncoder().encode('hello')
            t.is(yield* rWriteSocket(sock, hello, hello.length, 0), hello.length)
            const buf = new Uint8Array(16)
            t.is(yield* rReadSocket(sock, buf, buf.length, rGetTicks() + 10_000), hello.length)
            t.is(new TextDecoder().decode(buf.subarray(0, 5)), 'hello')
            rCloseSocket(sock)

            t.is(yield* refused, R_ERR_CANT_CONNECT)
            t.regex(rGetSocketError(closedClient)!, /closed during connect/)
            t.is(yield* unheard, R_ERR_CANT_OPEN)
            t.regex(rGetSocketError(closedListener)!, /closed before it listened/)
            t.is(yield* unupgraded, R_ERR_CANT_CONNECT)
            t.regex(rGetSocketError(closedWs)!, /closed during connect/)
            t.not(tlsPart, null)
            t.not(wsPart, null)
        })
    } finally {
        server.close()
    }
})

test('a program that speaks plain TCP loads neither node:tls nor the WebSocket part (node:crypto); its first WebSocket and TLS connects do', t => {
    const program = fileURLToPath(new URL('../helpers/plain-tcp.js', import.meta.url))
    const run = spawnSync(process.execPath, [program], { encoding: 'utf8', timeout: 60_000 })
    t.is(run.status, 0, run.stderr)
    const got = JSON.parse(run.stdout)
    t.is(got.echoed, 'plain')
    t.deepEqual(got.afterPlain, { tls: false, crypto: false })
    t.deepEqual(got.afterWebSocket, { tls: false, crypto: true })
    t.deepEqual(got.afterTls, { tls: true, crypto: true })
    /* The echo listener sends the upgrade request back: not an HTTP response, said so */
    t.is(got.wsResult, R_ERR_CANT_CONNECT)
    t.regex(got.wsError, /Not an HTTP response/)
})
