/*
    Socket benchmark: echo throughput and 1-byte ping-pong through fiber sockets against plain node:net
    callbacks, in one process, interleaved, medians and ratios.

    npm run bench:socket [-- --rounds 5 --mib 256]
 */
import { createConnection, createServer, type Socket } from 'node:net'
import { rAllocFiber, rGetTicks, rSpawnFiber, rStartFiber, type Fiber } from '../runtime/index.js'
import {
    rAllocSocket, rCloseSocket, rConnectSocket, rGetSocketAddr, rListenSocket, rReadSocket, rSetSocketNoDelay,
    rWriteSocket, type RSocket,
} from '../socket/index.js'
import { median, printTable, progress, type Row } from './lib/stats.js'
import { benchOptions } from './lib/options.js'

const options = benchOptions('npm run bench:socket [-- --rounds 5 --mib 256 --pings 20000 --echo-buf 65536]', [], ['--rounds', '--mib', '--pings', '--echo-buf'])
const ROUNDS = Math.max(3, options.number('--rounds', 5))
const MIB = options.number('--mib', 256)
const PINGS = options.number('--pings', 20_000)
const CHUNK = 64 * 1024

let finish: (v: any) => void = () => undefined
function runFiber<T>(proc: (arg: any) => Fiber<void>, arg?: unknown): Promise<T> {
    return new Promise<T>(resolve => {
        finish = resolve
        rStartFiber(rAllocFiber('bench', proc, arg)!)
    })
}

/* Fiber side: an echo handler; a client with a writer fiber and a reader */
function* fiberEcho(_arg: unknown, sp: RSocket): Fiber<void> {
    const buf = new Uint8Array(options.number('--echo-buf', CHUNK))
    for (;;) {
        const n = yield* rReadSocket(sp, buf, buf.length, rGetTicks() + 60_000)
        if (n <= 0 || (yield* rWriteSocket(sp, buf, n, rGetTicks() + 60_000)) !== n) {
            break
        }
    }
    rCloseSocket(sp)
}

function* fiberListen(): Fiber<void> {
    const listener = rAllocSocket()
    yield* rListenSocket(listener, '127.0.0.1', 0, fiberEcho, null)
    finish({ listener, port: rGetSocketAddr(listener).port })
}

function* writer(sp: RSocket): Fiber<void> {
    const data = new Uint8Array(CHUNK).fill(7)
    const total = MIB * 1024 * 1024
    for (let sent = 0; sent < total; sent += CHUNK) {
        yield* rWriteSocket(sp, data, CHUNK, rGetTicks() + 60_000)
    }
}

function* fiberThroughput(port: number): Fiber<void> {
    const sp = rAllocSocket()
    yield* rConnectSocket(sp, '127.0.0.1', port, 0)
    const total = MIB * 1024 * 1024
    const buf = new Uint8Array(CHUNK * 4)
    const start = performance.now()
    rSpawnFiber('writer', writer, sp)
    let got = 0
    while (got < total) {
        const n = yield* rReadSocket(sp, buf, buf.length, rGetTicks() + 60_000)
        if (n <= 0) {
            break
        }
        got += n
    }
    const seconds = (performance.now() - start) / 1000
    rCloseSocket(sp)
    finish(got / 1024 / 1024 / seconds)
}

function* fiberPingPong(port: number): Fiber<void> {
    const sp = rAllocSocket()
    yield* rConnectSocket(sp, '127.0.0.1', port, 0)
    rSetSocketNoDelay(sp, 1)
    const one = new Uint8Array(1)
    const buf = new Uint8Array(16)
    const start = performance.now()
    for (let i = 0; i < PINGS; i++) {
        yield* rWriteSocket(sp, one, 1, 0)
        yield* rReadSocket(sp, buf, buf.length, 0)
    }
    const seconds = (performance.now() - start) / 1000
    rCloseSocket(sp)
    finish(PINGS / seconds)
}

/* node:net side: an echo server with pipe-style backpressure; clients written with callbacks */
function netEchoServer(): Promise<{ close: () => void, port: number }> {
    const server = createServer(conn => {
        conn.setNoDelay(true)
        conn.on('data', chunk => {
            if (!conn.write(chunk)) {
                conn.pause()
                conn.once('drain', () => conn.resume())
            }
        })
        conn.on('end', () => conn.end())
        conn.on('error', () => undefined)
    })
    return new Promise(resolve => server.listen(0, '127.0.0.1', () => {
        resolve({ close: () => server.close(), port: (server.address() as { port: number }).port })
    }))
}

function netThroughput(port: number): Promise<number> {
    return new Promise(resolve => {
        const total = MIB * 1024 * 1024
        const data = Buffer.alloc(CHUNK, 7)
        let sent = 0
        let got = 0
        let start = 0
        const sock: Socket = createConnection(port, '127.0.0.1', () => {
            start = performance.now()
            pump()
        })
        const pump = () => {
            while (sent < total) {
                sent += CHUNK
                if (!sock.write(data)) {
                    sock.once('drain', pump)
                    return
                }
            }
        }
        sock.on('data', chunk => {
            got += chunk.length
            if (got >= total) {
                const seconds = (performance.now() - start) / 1000
                sock.destroy()
                resolve(got / 1024 / 1024 / seconds)
            }
        })
        sock.on('error', () => undefined)
    })
}

function netPingPong(port: number): Promise<number> {
    return new Promise(resolve => {
        const one = Buffer.alloc(1)
        let count = 0
        let start = 0
        const sock = createConnection(port, '127.0.0.1', () => {
            sock.setNoDelay(true)
            start = performance.now()
            sock.write(one)
        })
        sock.on('data', () => {
            if (++count === PINGS) {
                const seconds = (performance.now() - start) / 1000
                sock.destroy()
                resolve(PINGS / seconds)
            } else {
                sock.write(one)
            }
        })
        sock.on('error', () => undefined)
    })
}

async function main(): Promise<void> {
    const fiberServer = await runFiber<{ listener: RSocket, port: number }>(fiberListen)
    const netServer = await netEchoServer()
    const rows: Row[] = [
        { name: `echo ${MIB} MiB each way`, unit: 'MB/s', results: { 'fiber sockets': [], 'node:net': [] }, higherIsBetter: true },
        { name: '1-byte ping-pong', unit: 'round trips/s', results: { 'fiber sockets': [], 'node:net': [] }, higherIsBetter: true },
    ]
    for (let round = 1; round <= ROUNDS; round++) {
        progress(`round ${round}/${ROUNDS}: throughput`)
        rows[0].results['fiber sockets'].push(await runFiber<number>(fiberThroughput, fiberServer.port))
        rows[0].results['node:net'].push(await netThroughput(netServer.port))
        progress(`round ${round}/${ROUNDS}: ping-pong`)
        rows[1].results['fiber sockets'].push(await runFiber<number>(fiberPingPong, fiberServer.port))
        rows[1].results['node:net'].push(await netPingPong(netServer.port))
    }
    progress('done\n')
    printTable(`Fiber sockets vs node:net callbacks: ${ROUNDS} interleaved rounds, loopback, Node ${process.version}`, rows, 'fiber sockets', 'node:net')
    const t = median(rows[0].results['fiber sockets'].map((v, i) => v / rows[0].results['node:net'][i]))
    const p = median(rows[1].results['fiber sockets'].map((v, i) => v / rows[1].results['node:net'][i]))
    console.log(`\nthroughput ${(t * 100).toFixed(0)}% of node:net (target >= 90%), round trips ${(p * 100).toFixed(0)}% (target >= 80%)`)
    rCloseSocket(fiberServer.listener)
    netServer.close()
}

await main()
