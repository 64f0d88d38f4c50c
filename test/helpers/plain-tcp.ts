/*
    A program that speaks plain TCP (listen, connect, echo), then tries one WebSocket connect and one TLS connect:
    prints which of node:tls and node:crypto (the WebSocket part's) were loaded after each (for
    test/socket/parts.test.ts).
 */
import { rGetTicks, rRunFiber } from '../../runtime/index.js'
import {
    rAllocSocket, rCloseSocket, rConnectSocket, rGetSocketAddr, rListenSocket, rReadSocket, rSetTls, rSetWebSocket, rWriteSocket,
    type RSocket,
} from '../../socket/index.js'

/* Node lists the internal modules it has loaded */
const loaded = (name: string) => (process as unknown as { moduleLoadList: string[] }).moduleLoadList.includes(`NativeModule ${name}`)
const modules = () => ({ tls: loaded('tls'), crypto: loaded('crypto') })

/* Echo until end of stream (net.ts has one too, but that module loads node:crypto for its hashes) */
function* echo(_arg: unknown, sp: RSocket) {
    const buf = new Uint8Array(4096)
    for (let n; (n = yield* rReadSocket(sp, buf, buf.length, 0)) > 0;) {
        yield* rWriteSocket(sp, buf, n, 0)
    }
    rCloseSocket(sp)
}

const result = await rRunFiber('plain', function* () {
    const listener = rAllocSocket()
    if ((yield* rListenSocket(listener, '127.0.0.1', 0, echo)) !== 0) {
        throw new Error(`listen: ${listener.error}`)
    }
    const port = rGetSocketAddr(listener).port
    const sock = rAllocSocket()
    if ((yield* rConnectSocket(sock, '127.0.0.1', port, 0)) !== 0) {
        throw new Error(`connect: ${sock.error}`)
    }
    const text = new TextEncoder().encode('plain')
    yield* rWriteSocket(sock, text, text.length, 0)
    const buf = new Uint8Array(16)
    const n = yield* rReadSocket(sock, buf, buf.length, rGetTicks() + 10_000)
    rCloseSocket(sock)
    const afterPlain = modules()
    /* A WebSocket connect to the plain echo listener: the echoed request is no upgrade response, but the
       WebSocket part was loaded (first: node:tls loads node:crypto too) */
    const ws = rAllocSocket()
    rSetWebSocket(ws, '/mqtt')
    const wsResult = yield* rConnectSocket(ws, '127.0.0.1', port, rGetTicks() + 5_000)
    rCloseSocket(ws)
    const afterWebSocket = modules()
    /* A TLS connect to it: it fails, but loads the TLS part first */
    const secure = rAllocSocket()
    rSetTls(secure)
    yield* rConnectSocket(secure, '127.0.0.1', port, rGetTicks() + 5_000)
    rCloseSocket(secure)
    rCloseSocket(listener)
    return { echoed: new TextDecoder().decode(buf.subarray(0, n)), afterPlain, afterWebSocket, afterTls: modules(), wsResult, wsError: ws.error }
})
process.stdout.write(JSON.stringify(result))
process.exit(0)
