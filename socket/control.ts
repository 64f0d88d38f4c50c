/*
    Socket state and options: close, disconnect, free, reset, flags, errors, addresses, no-delay, linger.
 */
import { isIP } from 'node:net'
import { R_ERR_BAD_ARGS, R_ERR_CANT_READ, R_ERR_CANT_WRITE } from '../runtime/errors.js'
import { stopTimer } from '../runtime/events.js'
import { RingQueue } from '../runtime/queue.js'
import { endNap, isNap } from './nap.js'
import { detach, R_SOCKET_CLOSED, R_SOCKET_EOF, RSocket, setReceiver, setSocketError, type SocketReceiver } from './rsocket.js'

/**
    Allocate a socket: not connected, no TLS until certificates or verification are set.
    @example const sock = rAllocSocket()
 */
export function rAllocSocket(): RSocket {
    return new RSocket()
}

function settleWaiters(sp: RSocket): void {
    sp.reader?.finish(R_ERR_CANT_READ)
    sp.writer?.finish(R_ERR_CANT_WRITE)
}

/**
    Close: TLS close-notify, then the stream ends after pending writes drain (at once with an abortive close
    when linger is 0). Idempotent. Sets CLOSED and EOF; a fiber blocked on the socket resumes with an error.
    @example try { yield* talk(sock) } finally { rCloseSocket(sock) }
 */
export function rCloseSocket(sp: RSocket | null): void {
    if (!(sp instanceof RSocket) || sp.flags & R_SOCKET_CLOSED) {
        return
    }
    sp.flags |= R_SOCKET_CLOSED | R_SOCKET_EOF
    const h = sp.handle
    if (h !== null) {
        if (sp.linger === 0) {
            h.resetAndDestroy()
        } else {
            h.destroySoon()
        }
    }
    if (sp.server !== null) {
        sp.server.close()
    }
    const receiver = sp.receiver
    sp.receiver = null
    settleWaiters(sp)
    stopTimer(sp.deadlineTimer)
    sp.deadlineTimer = null
    endNap(sp)
    receiver?.onEnd(R_ERR_CANT_READ, 'Socket closed')
}

/**
    Shut the connection down both ways (shutdown(SHUT_RDWR)): the peer and local readers see EOF.
    @example rDisconnectSocket(sock)   // both ways: the peer and this side's readers see end of stream
 */
export function rDisconnectSocket(sp: RSocket | null): void {
    if (!(sp instanceof RSocket) || sp.handle === null) {
        return
    }
    const first = !(sp.flags & R_SOCKET_EOF)
    sp.flags |= R_SOCKET_EOF
    sp.handle.end()
    sp.rx.clear()
    sp.rxBytes = 0
    sp.rxOffset = 0
    settleWaiters(sp)
    if (first) {
        sp.receiver?.onEnd(R_ERR_CANT_READ, sp.error ?? 'Socket disconnected')
    }
}

/**
    Half-close: end the write side only (shutdown(SHUT_WR)); reading continues until the peer closes.
    @example rShutdownSocket(sock)
 */
export function rShutdownSocket(sp: RSocket | null): void {
    if (sp instanceof RSocket && sp.handle !== null) {
        sp.handle.end()
    }
}

/**
    Close and release the socket. Safe with null.
    @example rFreeSocket(sock)
 */
export function rFreeSocket(sp: RSocket | null): void {
    if (sp instanceof RSocket) {
        rCloseSocket(sp)
        sp.receiver = null
    }
}

/**
    Close and clear the socket's state so that it can connect again.
    @example rResetSocket(sock); yield* rConnectSocket(sock, host, port, 0)
 */
export function rResetSocket(sp: RSocket | null): void {
    if (sp instanceof RSocket) {
        resetSocket(sp)
    }
}

export function resetSocket(sp: RSocket): void {
    rCloseSocket(sp)
    if (sp.handle !== null) {
        detach(sp, sp.handle)
    }
    sp.handle = null
    sp.server = null
    sp.flags = 0
    sp.error = null
    sp.alpn = null
    sp.peerSubject = null
    sp.rx = new RingQueue<Buffer>(8)
    sp.rxBytes = 0
    sp.rxOffset = 0
    sp.paused = false
    sp.rxTimes = null
    sp.receiver = null
    sp.writesIssued = 0
    sp.writesDone = 0
}

/**
    True once rCloseSocket ran (and for null).
    @example if (rIsSocketClosed(sock)) rError('app', '%s', rGetSocketError(sock))
 */
export function rIsSocketClosed(sp: RSocket | null): boolean {
    return !(sp instanceof RSocket) || (sp.flags & R_SOCKET_CLOSED) !== 0
}

/**
    True once the peer closed, the connection failed or was shut down (and for null).
    @example if (rIsSocketEof(sock)) rCloseSocket(sock)
 */
export function rIsSocketEof(sp: RSocket | null): boolean {
    return !(sp instanceof RSocket) || (sp.flags & R_SOCKET_EOF) !== 0
}

/**
    Whether the socket uses TLS.
    @example rInfo('app', 'link is %s', rIsSocketSecure(sock) ? 'TLS' : 'plain')
 */
export function rIsSocketSecure(sp: RSocket | null): boolean {
    return sp instanceof RSocket && sp.tls !== null
}

/**
    Whether the socket has a live connection (connected, not closed).
    @example if (!rIsSocketConnected(sock)) yield* rConnectSocket(sock, host, port, 0)
 */
export function rIsSocketConnected(sp: RSocket | null): boolean {
    return sp instanceof RSocket && sp.handle !== null && !(sp.flags & (R_SOCKET_CLOSED | R_SOCKET_EOF)) && !sp.handle.destroyed
}

/**
    The socket's error text, or null.
    @example if ((yield* rConnectSocket(sock, host, 1883, 0)) < 0) rError('app', '%s', rGetSocketError(sock))
 */
export function rGetSocketError(sp: RSocket | null): string | null {
    return sp instanceof RSocket ? sp.error : null
}

/**
    Record an error message (the first one is kept); returns R_ERR_CANT_COMPLETE.
    @example return rSetSocketError(sock, 'Bad greeting from %s', host)
 */
export function rSetSocketError(sp: RSocket, fmt: string, ...args: unknown[]): number {
    return setSocketError(sp, fmt, ...args)
}

/**
    Local address: { rc, ip, port } (the chosen port for a listener on port 0).
    @example const { port } = rGetSocketAddr(listener)
 */
export function rGetSocketAddr(sp: RSocket | null): { rc: number, ip: string, port: number } {
    if (!(sp instanceof RSocket)) {
        return { rc: R_ERR_BAD_ARGS, ip: '', port: 0 }
    }
    const addr = sp.server?.address() ?? sp.handle?.address()
    if (addr && typeof addr === 'object' && 'port' in addr) {
        const { address, port } = addr as { address: string, port: number }
        return { rc: 0, ip: address, port }
    }
    return sp.port ? { rc: 0, ip: sp.ip, port: sp.port } : { rc: R_ERR_BAD_ARGS, ip: '', port: 0 }
}

/**
    The negotiated ALPN protocol (TLS), or null.
    @example if (rGetSocketAlpn(sock) !== 'x-amzn-mqtt-ca') rError('app', 'ALPN not negotiated')
 */
export function rGetSocketAlpn(sp: RSocket | null): string | null {
    return sp instanceof RSocket ? sp.alpn : null
}

/**
    The peer certificate's subject ("CN=localhost"), or null.
    @example rInfo('app', 'server is %s', rGetSocketPeerSubject(sock))
 */
export function rGetSocketPeerSubject(sp: RSocket | null): string | null {
    return sp instanceof RSocket ? sp.peerSubject : null
}

/**
    Enable or disable Nagle's algorithm being off (TCP_NODELAY). Applies now and on later connects.
    @example rSetSocketNoDelay(sock, 1)
 */
export function rSetSocketNoDelay(sp: RSocket | null, enable: number | boolean): void {
    if (sp instanceof RSocket) {
        sp.noDelay = enable ? 1 : 0
        sp.handle?.setNoDelay(!!enable)
    }
}

/**
    Read coalescing: while data comes in small pieces (chunks under 16 KiB), six reads or more within `ms`
    milliseconds (a read: a turn of the event loop that brings data, however many chunks Node hands over in
    it), reading pauses for `ms` after them, so the next read takes all that arrived meanwhile: fewer
    wake-ups, reads and (for the MQTT client) acknowledgement writes per message, for up to `ms` of added
    latency while data comes that fast. Slower traffic never waits (there a nap would cost more wake-ups than
    it saves: its timer's, and the one read Node makes before the pause holds). 0 (the default) turns it off;
    applies now and on later connects. A client TCP connection stops reading from the kernel during a nap; a
    TLS or accepted connection lets Node read ahead up to 16 KiB meanwhile (the nap then saves the
    processing, not the wake-ups). R_ERR_BAD_ARGS unless ms is an integer from 0 to 1,000. Not in Ioto's C API.
    @example rSetSocketCoalesce(sock, 1)   // a busy subscriber: dozens of messages a read, not one
 */
export function rSetSocketCoalesce(sp: RSocket | null, ms: number): number {
    if (!(sp instanceof RSocket) || !isNap(ms)) {
        return R_ERR_BAD_ARGS
    }
    sp.coalesce = ms
    if (ms === 0) {
        endNap(sp)
    }
    return 0
}

/**
    Linger on close: -1 (default) drains; 0 closes abortively (RST) without draining.
    @example rSetSocketLinger(sock, 0); rCloseSocket(sock)   // reset instead of a graceful close
 */
export function rSetSocketLinger(sp: RSocket | null, seconds: number): void {
    if (sp instanceof RSocket) {
        sp.linger = seconds
    }
}

/** Internal: route received chunks to a receiver (the MQTT client), without copies. */
export { setReceiver as rSetSocketReceiver, type SocketReceiver }

/**
    Connect from this local address (an IP address of this machine; null: the system's choice), before
    rConnectSocket. R_ERR_BAD_ARGS for a value that is not an IP address.
    @example rSetSocketBind(sock, '127.0.0.1'); yield* rConnectSocket(sock, '127.0.0.1', 1883, 0)
 */
export function rSetSocketBind(sp: RSocket | null, address: string | null): number {
    if (!(sp instanceof RSocket) || (address !== null && isIP(address) === 0)) {
        return R_ERR_BAD_ARGS
    }
    sp.bindAddress = address
    return 0
}
