/*
    rConnectSocket: connect (and handshake, for TLS; upgrade, for WebSocket) with a deadline; only the calling
    fiber waits. The first TLS or WebSocket connect loads that part (parts.ts) within the same deadline.
 */
import { connect as netConnect, type NetConnectOpts, type Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { R_ERR_BAD_ARGS, R_ERR_CANT_COMPLETE, R_ERR_CANT_CONNECT, R_ERR_TIMEOUT } from '../runtime/errors.js'
import { startTimer, stopTimer, type TimerEvent } from '../runtime/events.js'
import type { Waitable } from '../runtime/body.js'
import { rGetTicks, TPS } from '../runtime/time.js'
import { done } from '../runtime/waitable.js'
import { resetSocket } from './control.js'
import { attach, R_SOCKET_CLOSED, RSocket, setSocketError, SocketWait } from './rsocket.js'
import { partsToLoad, tlsPart, wsPart } from './parts.js'

/** Deadlines of 0 or less mean this long from now, as C's ME_HANDSHAKE_TIMEOUT. */
export const SOCKET_DEFAULT_DEADLINE = 30 * TPS

class ConnectWait extends SocketWait {
    timer: TimerEvent | null = null
    /** The connection being made (null until it is opened: while the parts it needs load) */
    stream: Socket | null = null

    constructor(sp: RSocket, readonly host: string, readonly port: number) {
        super(sp)
    }

    readonly onConnect = (): void => {
        const sp = this.sp
        const stream = this.stream!
        if (this.settled) {
            return
        }
        if (sp.tls !== null) {
            const problem = tlsPart!.verifyServer(sp, stream as TLSSocket, this.host)
            if (problem !== null) {
                this.fail(R_ERR_CANT_COMPLETE, problem)
                return
            }
        }
        if (sp.ws !== null) {
            /* The HTTP upgrade, within the same deadline; errors and an early close still end the connect */
            wsPart!.upgrade(stream, this.host, this.port, sp.tls !== null, sp.ws, (problem, ws) => {
                if (!this.settled) {
                    if (problem !== null) {
                        this.fail(R_ERR_CANT_CONNECT, problem)
                    } else {
                        this.adopt(ws as Socket)
                    }
                }
            })
            return
        }
        this.adopt(stream)
    }

    private adopt(stream: Socket): void {
        const sp = this.sp
        this.release()
        stopTimer(this.timer)
        if (stream !== this.stream) {
            sp.handle = stream
        }
        attach(sp, stream)
        if (sp.noDelay >= 0) {
            stream.setNoDelay(sp.noDelay > 0)
        }
        this.finish(0)
    }

    readonly onError = (err: NodeJS.ErrnoException): void => {
        const code = err.code ?? ''
        if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL' || code === 'EAI_NONAME') {
            this.fail(R_ERR_BAD_ARGS, `Cannot find the address of host "${this.host}" (${code})`)
        } else if (code === 'ECONNREFUSED') {
            this.fail(R_ERR_CANT_CONNECT, `Connection refused by ${this.host}:${this.port}`)
        } else if (this.sp.tls !== null && (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || code === 'ECONNRESET')) {
            this.fail(R_ERR_CANT_COMPLETE, `TLS handshake with ${this.host}:${this.port} failed: ${err.message}`)
        } else {
            this.fail(R_ERR_CANT_CONNECT, `Cannot connect to ${this.host}:${this.port}: ${err.message}`)
        }
    }

    readonly onClose = (): void => {
        this.fail(this.sp.tls ? R_ERR_CANT_COMPLETE : R_ERR_CANT_CONNECT, `Connection to ${this.host}:${this.port} closed during connect`)
    }

    expire(): void {
        this.fail(R_ERR_TIMEOUT, `Connect to ${this.host}:${this.port} timed out`)
    }

    fail(code: number, message: string): void {
        if (this.settled) {
            return
        }
        this.release()
        stopTimer(this.timer)
        if (this.stream !== null) {
            /* Keep an error listener: the destroyed stream may still report */
            this.stream.on('error', ignore)
            this.stream.destroy()
            this.sp.handle = null
        }
        setSocketError(this.sp, '%s', message)
        this.finish(code)
    }

    private release(): void {
        const s = this.stream
        if (s === null) {
            return
        }
        s.removeListener('connect', this.onConnect)
        s.removeListener('secureConnect', this.onConnect)
        s.removeListener('error', this.onError)
        s.removeListener('close', this.onClose)
    }

    protected override cancelled(): void {
        super.cancelled()
        if (!this.settled) {
            this.fail(R_ERR_CANT_CONNECT, 'Connect cancelled')
        }
    }
}

/* Node's net.Socket takes the stream options too, though its connect options' type does not list them */
function tcpOptions(to: { path: string } | { host: string, port: number, localAddress?: string }): NetConnectOpts {
    const options = { ...to, allowHalfOpen: true, readableHighWaterMark: 1 }
    return options
}

function ignore(): void {
    /* errors after a failed connect were already reported */
}

function expireConnect(w: ConnectWait): void {
    w.timer = null
    w.expire()
}

/**
    Connect to host:port (port 0 with a path for the host: a Unix domain socket); with TLS settings (rSetSocketCerts, rSetSocketVerify, rSetTlsAlpn) also run the
    handshake and verify the server. `deadline` is absolute ticks; 0 or less means 30 s from now.
    Evaluates to 0, R_ERR_BAD_ARGS (bad port, unknown host), R_ERR_CANT_CONNECT (refused, unreachable),
    R_ERR_CANT_COMPLETE (TLS failure) or R_ERR_TIMEOUT; the text is in rGetSocketError(sp).
    @example if ((yield* rConnectSocket(sock, 'broker.local', 1883, 0)) !== 0) rError('app', '%s', rGetSocketError(sock))
 */
export function rConnectSocket(sp: RSocket | null, host: string | null, port: number, deadline: number): Waitable<number> {
    if (!(sp instanceof RSocket)) {
        return done(R_ERR_BAD_ARGS)
    }
    if (sp.handle !== null || sp.flags) {
        resetSocket(sp)
    }
    sp.error = null
    if (!host) {
        return done(setSocketError(sp, 'Missing host name'))
    }
    /* Port 0 with a path for the host: a Unix domain socket */
    const unix = port === 0 && host.includes('/')
    if (!unix && (!Number.isInteger(port) || port <= 0 || port > 65535)) {
        setSocketError(sp, 'Bad port %s', port)
        return done(R_ERR_BAD_ARGS)
    }
    const w = new ConnectWait(sp, host, port)
    const limit = deadline > 0 ? deadline - rGetTicks() : SOCKET_DEFAULT_DEADLINE
    w.timer = startTimer(expireConnect, w, limit)
    const loading = partsToLoad(sp)
    if (loading !== null) {
        loading.then(() => open(w, unix), (err: Error) => w.fail(R_ERR_CANT_COMPLETE, err.message))
    } else {
        open(w, unix)
    }
    return w
}

/* Open the connection a wait is for: at once, or once the parts it needs are loaded (unless the wait ended meanwhile) */
function open(w: ConnectWait, unix: boolean): void {
    const { sp, host, port } = w
    if (w.settled) {
        return
    }
    if (sp.flags & R_SOCKET_CLOSED) {
        w.fail(R_ERR_CANT_CONNECT, 'Socket closed during connect')
        return
    }
    let stream: Socket
    try {
        const to = unix ? { path: host } : { host, port, ...(sp.bindAddress !== null ? { localAddress: sp.bindAddress } : {}) }
        /* A TCP stream reads ahead no further than one chunk while it is paused (held, or a read-coalescing nap) */
        stream = sp.tls !== null ? tlsPart!.tlsConnect({ ...to, ...tlsPart!.clientTlsOptions(sp, unix ? 'localhost' : host) }) :
            netConnect(tcpOptions(to))
    } catch (err) {
        w.fail(R_ERR_CANT_COMPLETE, tlsPart !== null && err instanceof tlsPart.TlsSetupError ? err.message : `Cannot connect: ${(err as Error).message}`)
        return
    }
    sp.handle = stream
    w.stream = stream
    stream.once(sp.tls !== null ? 'secureConnect' : 'connect', w.onConnect)
    stream.on('error', w.onError)
    stream.once('close', w.onClose)
}
