/*
    Socket test helpers: listeners on 127.0.0.1 with a free port, an echo handler, fixtures.
 */
import { createHash } from 'node:crypto'
import type { TestFn } from 'ava'
import { fileURLToPath } from 'node:url'
import { R_SOCKET_CLOSED, rCloseSocket, rGetSocketAddr, rListenSocket, rReadSocket, rWriteSocket, rAllocSocket, type RSocket, type RSocketProc } from '../../socket/index.js'
import type { Fiber } from '../../runtime/index.js'
import { inFiber } from './fiber.js'

export const fixtures = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url))

/* Every listener a test file started, and every connection they accepted, for closeListeners */
const listeners = new Set<RSocket>()

/**
    Close every listener this file started, and the connections they accepted. A failed assertion throws, so a
    test's own rCloseSocket after it does not run, and an open socket keeps the test process from exiting; a
    client whose peer is gone ends its connection too.
 */
export function closeListeners(): void {
    for (const l of listeners) {
        rCloseSocket(l)
    }
    listeners.clear()
}

/** Close the file's listeners once its tests are done (quietLogs does this for the files that call it). */
export function closeListenersAtEnd(test: TestFn): void {
    test.after.always(() => {
        closeListeners()
    })
}

/** Start a listener on 127.0.0.1:0 (prepare may set TLS); returns the listener and its port. */
export function* listen(handler: RSocketProc, arg?: unknown, prepare?: (sp: RSocket) => void): Fiber<{ listener: RSocket, port: number }> {
    const listener = rAllocSocket()
    listeners.add(listener)
    prepare?.(listener)
    const rc = yield* rListenSocket(listener, '127.0.0.1', 0, (a: never, sp: RSocket) => {
        if (listeners.size >= 256) {
            /* A file that accepts thousands of connections does not hold on to the closed ones */
            for (const l of listeners) {
                if (l.flags & R_SOCKET_CLOSED) {
                    listeners.delete(l)
                }
            }
        }
        listeners.add(sp)
        return handler(a, sp)
    }, arg)
    if (rc !== 0) {
        throw new Error(`listen failed: ${rc} ${listener.error}`)
    }
    return { listener, port: rGetSocketAddr(listener).port }
}

/**
    Hold a port on 127.0.0.1 where no broker answers: every connection is closed at once. Unlike a port found
    free and let go, no other listener (a broker another test starts) can take it while it is held.
    Close `listener` when done.
 */
export function deadPort(): Promise<{ listener: RSocket, port: number }> {
    return inFiber(function* () {
        return yield* listen(function* (_arg: unknown, sp: RSocket) {
            rCloseSocket(sp)
        })
    })
}

/** Echo every byte back until end of stream, then close. */
export function* echo(_arg: unknown, sp: RSocket): Fiber<void> {
    const buf = new Uint8Array(64 * 1024)
    for (;;) {
        const n = yield* rReadSocket(sp, buf, buf.length, 0)
        if (n <= 0) {
            break
        }
        if ((yield* rWriteSocket(sp, buf, n, 0)) !== n) {
            break
        }
    }
    rCloseSocket(sp)
}

export function sha(): ReturnType<typeof createHash> {
    return createHash('sha256')
}

/** Deterministic pseudo-random bytes. */
export function pattern(size: number, seed: number): Uint8Array {
    const out = new Uint8Array(size)
    let x = seed >>> 0 || 1
    for (let i = 0; i < size; i++) {
        x ^= x << 13
        x ^= x >>> 17
        x ^= x << 5
        out[i] = x & 0xff
    }
    return out
}
