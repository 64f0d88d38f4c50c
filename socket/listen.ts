/*
    rListenSocket: accept connections, each handled on a fiber of its own. TLS listeners when the socket has
    certificates (the first loads the TLS part, parts.ts).
 */
import { createServer as createNetServer, type Server, type Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { R_ERR_BAD_ARGS, R_ERR_CANT_OPEN } from '../runtime/errors.js'
import { rDebug, rError } from '../runtime/log.js'
import { allocFiber, schedule } from '../runtime/scheduler.js'
import type { Waitable } from '../runtime/body.js'
import { done, Wait } from '../runtime/waitable.js'
import { attach, R_SOCKET_CLOSED, R_SOCKET_LISTENER, R_SOCKET_SERVER, RSocket, setSocketError, type RSocketProc } from './rsocket.js'
import { loadTls, tlsPart } from './parts.js'

let socketLimit = 0

/** Pending connections the kernel may queue for a listener before it accepts them. */
const LISTEN_BACKLOG = 4096

/**
    Cap the connections each listener accepts at once (0: no cap). Applies to later rListenSocket calls.
    @example rSetSocketLimit(100)
 */
export function rSetSocketLimit(limit: number): void {
    socketLimit = Math.max(0, limit)
}

/**
    Listen on host:port (port 0 picks a free port; read it with rGetSocketAddr or sp.port once this settles).
    Every accepted connection runs `handler(arg as never, sock)` on a fiber of its own; the handler owns the socket and
    must close it. With certificates set on `sp` the listener is TLS. Evaluates to 0 once listening, or
    R_ERR_CANT_OPEN (address in use, no permission) or R_ERR_BAD_ARGS.
    @example yield* rListenSocket(listener, '127.0.0.1', 0, echo, null)
 */
export function rListenSocket(sp: RSocket | null, host: string | null, port: number, handler: RSocketProc, arg?: unknown): Waitable<number> {
    if (!(sp instanceof RSocket) || typeof handler !== 'function' || !Number.isInteger(port) || port < 0 || port > 65535) {
        return done(R_ERR_BAD_ARGS)
    }
    const w = new Wait<number>()
    if (sp.tls !== null && tlsPart === null) {
        loadTls().then(() => {
            if (sp.flags & R_SOCKET_CLOSED) {
                setSocketError(sp, 'Socket closed before it listened')
                w.settle(R_ERR_CANT_OPEN)
            } else {
                listen(sp, host, port, handler, arg, w)
            }
        }, (err: Error) => {
            setSocketError(sp, '%s', err.message)
            w.settle(R_ERR_CANT_OPEN)
        })
    } else {
        listen(sp, host, port, handler, arg, w)
    }
    return w
}

function listen(sp: RSocket, host: string | null, port: number, handler: RSocketProc, arg: unknown, w: Wait<number>): void {
    let server: Server
    let verifyPeer = 0
    try {
        if (sp.tls !== null) {
            const opts = tlsPart!.serverTlsOptions(sp)
            verifyPeer = opts.verifyPeer
            server = tlsPart!.createTlsServer({ ...opts, allowHalfOpen: true })
        } else {
            server = createNetServer({ allowHalfOpen: true })
        }
    } catch (err) {
        setSocketError(sp, '%s', (err as Error).message)
        w.settle(R_ERR_BAD_ARGS)
        return
    }
    sp.server = server
    sp.flags |= R_SOCKET_LISTENER
    sp.handler = handler
    sp.arg = arg ?? null
    if (socketLimit > 0) {
        server.maxConnections = socketLimit
    }
    const onAccept = (conn: Socket) => accept(sp, conn, verifyPeer)
    server.on(sp.tls !== null ? 'secureConnection' : 'connection', onAccept)
    server.on('tlsClientError', (err: Error) => rDebug('socket', 'TLS client rejected: %s', err.message))
    server.on('error', (err: NodeJS.ErrnoException) => {
        if (!w.settled) {
            setSocketError(sp, 'Cannot listen on %s:%d: %s', host ?? '*', port, err.code ?? err.message)
            w.settle(R_ERR_CANT_OPEN)
        } else {
            rError('socket', 'Listener error: %s', err.message)
        }
    })
    server.once('listening', () => {
        const addr = server.address()
        if (addr && typeof addr === 'object') {
            sp.ip = addr.address
            sp.port = addr.port
        }
        w.settle(0)
    })
    const bindHost = host === 'localhost' ? '127.0.0.1' : host || undefined
    /* A deep accept queue (the kernel caps it at somaxconn): a burst of connects is not dropped and retried */
    server.listen(port, bindHost, LISTEN_BACKLOG)
}

function accept(listener: RSocket, conn: Socket, verifyPeer: number): void {
    const sp = new RSocket()
    sp.flags = R_SOCKET_SERVER
    sp.tls = listener.tls
    conn.setNoDelay(true)
    if (listener.tls !== null) {
        tlsPart!.noteAccepted(sp, conn as TLSSocket)
        if (verifyPeer === 1 && sp.peerSubject === null) {
            rDebug('socket', 'Rejecting a TLS client without a certificate')
            conn.on('error', () => undefined)
            conn.destroy()
            return
        }
    }
    attach(sp, conn)
    schedule(allocFiber('socket', runHandler, [listener, sp]), undefined)
}

function runHandler([listener, sp]: [RSocket, RSocket]): unknown {
    return listener.handler!(listener.arg as never, sp)
}
