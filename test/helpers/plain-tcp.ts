/*
    A program that speaks plain TCP (listen, connect, echo), then tries one TLS connect: prints whether node:tls
    was loaded after each (for test/socket/tls-load.test.ts).
 */
import { rGetTicks, rRunFiber } from '../../runtime/index.js'
import {
    rAllocSocket, rCloseSocket, rConnectSocket, rReadSocket, rSetTls, rWriteSocket,
} from '../../socket/index.js'
import { echo, listen } from './net.js'

/* Node lists the internal modules it has loaded */
const tlsLoaded = () => (process as unknown as { moduleLoadList: string[] }).moduleLoadList.includes('NativeModule tls')

const result = await rRunFiber('plain', function* () {
    const { listener, port } = yield* listen(echo)
    const sock = rAllocSocket()
    if ((yield* rConnectSocket(sock, '127.0.0.1', port, 0)) !== 0) {
        throw new Error(`connect: ${sock.error}`)
    }
    const text = new TextEncoder().encode('plain')
    yield* rWriteSocket(sock, text, text.length, 0)
    const buf = new Uint8Array(16)
    const n = yield* rReadSocket(sock, buf, buf.length, rGetTicks() + 10_000)
    rCloseSocket(sock)
    const tlsAfterPlain = tlsLoaded()
    /* A TLS connect to the plain echo listener: it fails, but loads the TLS part first */
    const secure = rAllocSocket()
    rSetTls(secure)
    yield* rConnectSocket(secure, '127.0.0.1', port, rGetTicks() + 5_000)
    rCloseSocket(secure)
    rCloseSocket(listener)
    return { echoed: new TextDecoder().decode(buf.subarray(0, n)), tlsAfterPlain, tlsAfterTlsConnect: tlsLoaded() }
})
process.stdout.write(JSON.stringify(result))
process.exit(0)
