/*
    A fault proxy on rListenSocket between a client and a broker: it forwards both ways, and on demand cuts
    every link (abortive close), or black-holes them (keeps the sockets open, forwards nothing).
 */
import { rGetTicks, rSpawnFiber, type Fiber } from '../runtime/index.js'
import { rAllocSocket, rCloseSocket, rConnectSocket, rListenSocket, rReadSocket, rSetSocketLinger, rWriteSocket, type RSocket } from '../socket/index.js'

export class FaultProxy {
    port = 0
    listener: RSocket | null = null
    links: [RSocket, RSocket][] = []
    blackhole = false
    cuts = 0
    accepted = 0

    constructor(public target: number) {}

    *start(): Fiber<void> {
        const listener = rAllocSocket()
        const rc = yield* rListenSocket(listener, '127.0.0.1', 0, function* (proxy: FaultProxy, front: RSocket) {
            proxy.accepted++
            const back = rAllocSocket()
            if ((yield* rConnectSocket(back, '127.0.0.1', proxy.target, rGetTicks() + 5000)) !== 0) {
                rCloseSocket(front)
                return
            }
            const link: [RSocket, RSocket] = [front, back]
            proxy.links.push(link)
            rSpawnFiber('proxy-up', pump, [proxy, front, back])
            yield* pump([proxy, back, front])
            proxy.links = proxy.links.filter(l => l !== link)
        }, this)
        if (rc !== 0) {
            throw new Error(`fault proxy: ${listener.error}`)
        }
        this.listener = listener
        this.port = listener.port
    }

    /** Abort every link now (the client sees a reset) */
    cut(): void {
        this.cuts++
        for (const [a, b] of this.links) {
            rSetSocketLinger(a, 0)
            rSetSocketLinger(b, 0)
            rCloseSocket(a)
            rCloseSocket(b)
        }
        this.links = []
    }

    stop(): void {
        this.cut()
        rCloseSocket(this.listener)
    }
}

function* pump([proxy, from, to]: [FaultProxy, RSocket, RSocket]): Fiber<void> {
    const buf = new Uint8Array(64 * 1024)
    for (;;) {
        const n = yield* rReadSocket(from, buf, buf.length, rGetTicks() + 3_600_000)
        if (n <= 0) {
            break
        }
        if (!proxy.blackhole && (yield* rWriteSocket(to, buf, n, 0)) !== n) {
            break
        }
    }
    rCloseSocket(to)
    rCloseSocket(from)
}
