/*
    RSocket: the Safe runtime socket over a node:net or node:tls stream. Node's events are turned into settled
    waits (reads, writes, connect) or handed to an internal receiver (the MQTT client) without copying.
    Every 'error' event is caught here and becomes a return code plus the socket's error text.
 */
import type { Server, Socket } from 'node:net'
import { R_ERR_CANT_COMPLETE, R_ERR_CANT_READ, R_ERR_CANT_WRITE, R_ERR_TIMEOUT } from '../runtime/errors.js'
import { startTimer, stopTimer, type TimerEvent } from '../runtime/events.js'
import { RingQueue } from '../runtime/queue.js'
import { rGetTicks } from '../runtime/time.js'
import { sfmtv } from '../runtime/sfmt.js'
import { Wait } from '../runtime/waitable.js'
import type { CallbackResult } from '../runtime/body.js'
import type { RTls } from './tls-settings.js'
import type { WsSettings } from './ws-settings.js'
import { R_SOCKET_EOF } from './flags.js'
import { coalesce, NAP_BELOW } from './nap.js'

export {
    R_SOCKET_CLOSED, R_SOCKET_EOF, R_SOCKET_LISTENER, R_SOCKET_SERVER, R_SOCKET_FAST_CONNECT, R_SOCKET_FAST_CLOSE,
} from './flags.js'

/* Received bytes buffered beyond this pause the stream until a reader takes them */
const RX_HIGH = 256 * 1024
const RX_LOW = 64 * 1024

/** A connection handler for rListenSocket: runs on a fiber of its own and owns (must free) the socket. */
export type RSocketProc = (arg: never, sp: RSocket) => CallbackResult

/**
    The internal receive path: chunks are handed over as Node delivered them (no copy), end-of-stream and
    errors as one call, and drain when the write buffer empties. Used by the MQTT client.
 */
export interface SocketReceiver {
    onData(chunk: Buffer): void
    onEnd(code: number, reason: string): void
    onDrain(): void
}

/**
    A deadline-bounded wait on a socket (a read or a write). Deadlines are absolute ticks, checked by one lazy
    timer per socket (armDeadline): an operation costs no timer work unless its deadline is earlier than the
    one already armed.
 */
export class SocketWait extends Wait<number> {
    deadline = 0

    constructor(readonly sp: RSocket) {
        super()
    }

    finish(value: number): void {
        this.unlink()
        this.settle(value)
    }

    protected override cancelled(): void {
        this.unlink()
    }

    private unlink(): void {
        const sp = this.sp
        if ((sp.reader as SocketWait | null) === this) {
            sp.reader = null
        }
        if ((sp.writer as SocketWait | null) === this) {
            sp.writer = null
        }
    }
}

export class ReadWait extends SocketWait {
    constructor(sp: RSocket, readonly buf: Uint8Array, readonly size: number) {
        super(sp)
    }
}

export class WriteWait extends SocketWait {
    constructor(sp: RSocket, readonly target: number, readonly size: number) {
        super(sp)
    }
}

/** Watch a read or write wait's deadline with the socket's lazy timer. */
export function armDeadline(sp: RSocket, w: SocketWait, deadline: number): void {
    w.deadline = deadline
    if (sp.deadlineTimer === null || deadline < sp.deadlineTimer.due) {
        stopTimer(sp.deadlineTimer)
        sp.deadlineTimer = startTimer(checkDeadlines, sp, deadline - rGetTicks())
    }
}

function checkDeadlines(sp: RSocket): void {
    sp.deadlineTimer = null
    const now = rGetTicks()
    let next = Infinity
    for (const w of [sp.reader, sp.writer]) {
        if (w !== null) {
            if (w.deadline <= now) {
                w.finish(R_ERR_TIMEOUT)
            } else {
                next = Math.min(next, w.deadline)
            }
        }
    }
    if (next !== Infinity) {
        sp.deadlineTimer = startTimer(checkDeadlines, sp, next - now)
    }
}

/**
    A socket of the Safe runtime (C's RSocket): made by rAllocSocket, used by every rXxxSocket call.
    @example const sock: RSocket = rAllocSocket(); yield* rConnectSocket(sock, 'broker.local', 1883, 0)
 */
export class RSocket {
    /** The connected stream (a tls.TLSSocket for TLS). */
    handle: Socket | null = null
    /** The listening server, for a listener. */
    server: Server | null = null
    /** TLS configuration: a socket uses TLS once this exists (rSetSocketCerts, rSetSocketVerify, rSetTls). */
    tls: RTls | null = null
    flags = 0
    error: string | null = null
    linger = -1
    noDelay = -1
    ciphers: string | null = null
    /** The local address to connect from (null: the system's choice) */
    bindAddress: string | null = null
    /** WebSocket transport settings (rSetWebSocket), or null for plain TCP/TLS */
    ws: WsSettings | null = null
    /** Negotiated ALPN protocol and the peer certificate's subject (TLS, after connect or accept). */
    alpn: string | null = null
    peerSubject: string | null = null
    /** Local address and port (the chosen port for a listener on port 0). */
    ip = ''
    port = 0
    /** Ticks of the last I/O. */
    activity = 0
    handler: RSocketProc | null = null
    arg: unknown = null
    receiver: SocketReceiver | null = null
    reader: ReadWait | null = null
    writer: WriteWait | null = null
    deadlineTimer: TimerEvent | null = null
    writesIssued = 0
    writesDone = 0
    rx = new RingQueue<Buffer>(8)
    rxOffset = 0
    rxBytes = 0
    paused = false
    /** Reading held by the receiver (its handlers are busy): the stream stays paused until released */
    held = false
    /** Read coalescing (rSetSocketCoalesce): the nap in milliseconds (0: off), when the last NAP_READS - 1
        reads came (performance.now(), a ring from rxAt) and the turn of the event loop of the last, the nap's
        timer while one runs, and how many naps were taken */
    coalesce = 0
    rxTimes: Float64Array | null = null
    rxAt = 0
    rxTurn = -1
    napTimer: TimerEvent | null = null
    naps = 0

    private written: ((err?: Error | null) => void) | null = null

    /** The write-completion callback for rWriteSocket (made on first use: the MQTT path never needs it). */
    get onWritten(): (err?: Error | null) => void {
        return this.written ??= (err?: Error | null) => written(this, err)
    }
}

/* Node's stream events, one listener function each for every socket: the stream points back to its RSocket */
const OWNER: unique symbol = Symbol('rsocket')
type Owned = Socket & { [OWNER]: RSocket }

function onData(this: Owned, chunk: Buffer): void {
    received(this[OWNER], chunk)
}

function onEnd(this: Owned): void {
    ended(this[OWNER], R_ERR_CANT_READ, 'Connection closed by peer')
}

function onClose(this: Owned): void {
    ended(this[OWNER], R_ERR_CANT_READ, 'Connection closed')
}

function onError(this: Owned, err: Error): void {
    failed(this[OWNER], err)
}

function onDrain(this: Owned): void {
    this[OWNER].receiver?.onDrain()
}

/** Adopt a connected stream: wire its events to the socket once. */
export function attach(sp: RSocket, handle: Socket): void {
    sp.handle = handle
    sp.activity = rGetTicks()
    ;(handle as Owned)[OWNER] = sp
    handle.on('data', onData)
    handle.on('end', onEnd)
    handle.on('close', onClose)
    handle.on('drain', onDrain)
    handle.on('error', onError)
    const addr = handle.address()
    if (addr && 'port' in addr) {
        sp.ip = addr.address
        sp.port = addr.port
    }
}

/** Stop listening to a stream's events (it is being dropped); later errors are swallowed. */
export function detach(sp: RSocket, handle: Socket): void {
    handle.removeListener('data', onData)
    handle.removeListener('end', onEnd)
    handle.removeListener('close', onClose)
    handle.removeListener('drain', onDrain)
    handle.removeListener('error', onError)
    handle.on('error', swallow)
    void sp
}

function swallow(): void {
    /* the socket was reset: nobody is left to tell */
}

/** Record the first error message (later ones keep the first, as C's rSetSocketError). */
export function setSocketError(sp: RSocket, fmt: string, ...args: unknown[]): number {
    if (sp.error === null) {
        sp.error = sfmtv(fmt, args)
    }
    return R_ERR_CANT_COMPLETE
}

function received(sp: RSocket, chunk: Buffer): void {
    if (sp.flags & R_SOCKET_EOF) {
        return
    }
    sp.activity = rGetTicks()
    if (sp.coalesce > 0 && chunk.length < NAP_BELOW) {
        coalesce(sp)
    }
    const receiver = sp.receiver
    if (receiver !== null) {
        try {
            receiver.onData(chunk)
        } catch (err) {
            /* A receiver's fault ends this connection with an error; it never reaches Node */
            setSocketError(sp, 'Receiver failed: %s', err instanceof Error ? err.message : String(err))
            sp.handle?.destroy()
            failed(sp, new Error(sp.error!))
        }
        return
    }
    sp.rx.push(chunk)
    sp.rxBytes += chunk.length
    const reader = sp.reader
    if (reader !== null) {
        reader.finish(copyOut(sp, reader.buf, reader.size))
    }
    if (sp.rxBytes > RX_HIGH && !sp.paused) {
        sp.paused = true
        sp.handle?.pause()
    }
}

/** Copy up to size buffered bytes into buf; returns the count. */
export function copyOut(sp: RSocket, buf: Uint8Array, size: number): number {
    let n = 0
    while (n < size && sp.rxBytes > 0) {
        const chunk = sp.rx.peek()!
        const take = Math.min(size - n, chunk.length - sp.rxOffset)
        buf.set(chunk.subarray(sp.rxOffset, sp.rxOffset + take), n)
        n += take
        sp.rxOffset += take
        sp.rxBytes -= take
        if (sp.rxOffset === chunk.length) {
            sp.rx.shift()
            sp.rxOffset = 0
        }
    }
    if (sp.paused && sp.rxBytes < RX_LOW) {
        sp.paused = false
        sp.handle?.resume()
    }
    return n
}

/** Hold or release reading for the receiver (TCP back-pressure while its handlers are busy). */
export function holdReceiver(sp: RSocket, hold: boolean): void {
    if (sp.held === hold) {
        return
    }
    sp.held = hold
    if (hold) {
        sp.handle?.pause()
    } else if (!sp.paused) {
        sp.handle?.resume()
    }
}

/** Hand everything buffered so far to a new receiver, then route future chunks to it. */
export function setReceiver(sp: RSocket, receiver: SocketReceiver | null): void {
    sp.receiver = receiver
    if (receiver === null) {
        return
    }
    while (sp.rxBytes > 0) {
        let chunk = sp.rx.shift()!
        if (sp.rxOffset > 0) {
            chunk = chunk.subarray(sp.rxOffset)
            sp.rxOffset = 0
        }
        sp.rxBytes -= chunk.length
        receiver.onData(chunk)
    }
    if (sp.paused) {
        sp.paused = false
        if (!sp.held) {
            sp.handle?.resume()
        }
    }
    if (sp.flags & R_SOCKET_EOF) {
        receiver.onEnd(R_ERR_CANT_READ, sp.error ?? 'Connection closed')
    }
}

function ended(sp: RSocket, code: number, reason: string): void {
    const first = !(sp.flags & R_SOCKET_EOF)
    sp.flags |= R_SOCKET_EOF
    if (sp.reader !== null && sp.rxBytes === 0) {
        sp.reader.finish(code)
    }
    if (sp.writer !== null && (sp.handle === null || sp.handle.destroyed)) {
        sp.writer.finish(R_ERR_CANT_WRITE)
    }
    if (first && sp.receiver !== null) {
        sp.receiver.onEnd(code, sp.error ?? reason)
    }
}

function failed(sp: RSocket, err: Error): void {
    const code = (err as NodeJS.ErrnoException).code
    setSocketError(sp, '%s%s', code === 'ECONNRESET' ? 'Connection reset by peer' : code === 'EPIPE' ? 'Broken pipe' : err.message,
        code && code !== 'ECONNRESET' && code !== 'EPIPE' && !err.message.includes(code) ? ` (${code})` : '')
    sp.flags |= R_SOCKET_EOF
    if (sp.reader !== null) {
        sp.reader.finish(R_ERR_CANT_READ)
    }
    if (sp.writer !== null) {
        sp.writer.finish(R_ERR_CANT_WRITE)
    }
    if (sp.receiver !== null) {
        sp.receiver.onEnd(R_ERR_CANT_READ, sp.error!)
    }
}

function written(sp: RSocket, err?: Error | null): void {
    sp.writesDone++
    const writer = sp.writer
    if (writer !== null) {
        if (err) {
            setSocketError(sp, 'Write failed: %s', err.message)
            writer.finish(R_ERR_CANT_WRITE)
        } else if (sp.writesDone >= writer.target) {
            writer.finish(writer.size)
        }
    }
}
