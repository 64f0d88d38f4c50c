/*
    mqttAlloc, mqttConnect, mqttDisconnect, mqttFree and the instance's settings and queries, as in Ioto.
    Both API forms of the seed pages work: mqttAlloc(clientId, proc) + mqttConnect(mq, sock, flags, wait), and
    mqttAlloc(sock, clientId, proc) + mqttConnect(mq, username, password, flags, wait).
 */
import { R_ERR_BAD_ARGS, R_ERR_CANT_CONNECT, R_ERR_CANT_WRITE, R_ERR_NOT_CONNECTED, R_ERR_TIMEOUT } from '../../runtime/errors.js'
import { startTimer, stopTimer } from '../../runtime/events.js'
import { rSleep } from '../../runtime/events.js'
import type { Fiber, Waitable } from '../../runtime/scheduler.js'
import { MAXINT64, rGetTicks } from '../../runtime/time.js'
import { done } from '../../runtime/waitable.js'
import { rIsSocketClosed, rIsSocketEof, rSetSocketNoDelay } from '../../socket/control.js'
import { RSocket, type SocketReceiver } from '../../socket/rsocket.js'
import { DISCONNECT_BYTES, encode } from '../codec/encode.js'
import { MqttCodecError } from '../codec/errors.js'
import { utf8Length } from '../codec/utf8.js'
import { MQTT_CONNECT_CLEAN_SESSION, MQTT_CONNECT_RESERVED, MQTT_CONNECT_WILL_RETAIN, MQTT_PROTOCOL_LEVEL } from '../constants.js'
import { topicNameProblem } from '../topic.js'
import { onChunk } from './inbound.js'
import { connectionLost, fatal } from './link.js'
import {
    Mqtt, MQTT_KEEP_ALIVE, MQTT_MAX_CLIENT_ID_SIZE, MQTT_MAX_MESSAGE_SIZE,
    MQTT_MAX_PASSWORD_SIZE, MQTT_MAX_TOPIC_SIZE, MQTT_MAX_USERNAME_SIZE, MQTT_TIMEOUT, MQTT_WAIT_ACK,
    MqttWait, setMsg, type MqttEventProc, type QueuePolicy,
} from './state.js'
import { dropAll, msgsToSend, pump, wakeRoom } from './window.js'
import { attachLink, detachLink, flush, writeBytes } from './wire.js'

/**
    Allocate a client. Returns null for a missing, empty or over-long (> 23 bytes) client id.
    The older form mqttAlloc(sock, clientId, proc) binds a connected socket now.
    @example const mq = mqttAlloc('device-42', onEvent)
 */
export function mqttAlloc(clientId: string | RSocket | null, proc?: MqttEventProc | string | null, oldProc?: MqttEventProc | null): Mqtt | null {
    let sock: RSocket | null = null
    if (clientId instanceof RSocket) {
        sock = clientId
        clientId = typeof proc === 'string' ? proc : null
        proc = oldProc ?? null
    }
    if (typeof clientId !== 'string' || clientId.length === 0 || utf8Length(clientId) > MQTT_MAX_CLIENT_ID_SIZE) {
        return null
    }
    if (proc !== null && proc !== undefined && typeof proc !== 'function') {
        return null
    }
    const mq = new Mqtt(clientId, (proc as MqttEventProc | null | undefined) ?? null)
    mq.sock = sock
    return mq
}

/**
    Connect on a connected socket: send CONNECT and, with MQTT_WAIT_ACK, wait for the CONNACK. Evaluates to 0, or
    R_ERR_CANT_CONNECT (refused: mqttGetError says why, e.g. "Connection refused: bad user name or password
    (CONNACK 4)"), R_ERR_CANT_COMPLETE (identifier rejected), R_ERR_TIMEOUT (no CONNACK within 30 s),
    R_ERR_BAD_ARGS. As in Ioto, only MQTT_WAIT_ACK can report success: with NONE or SENT the call evaluates to
    R_ERR_CANT_CONNECT while the connection completes in the background.
    flags: MQTT_CONNECT_CLEAN_SESSION, will QoS (MQTT_CONNECT_WILL_QOS_1/2) and MQTT_CONNECT_WILL_RETAIN.
    @example if ((yield* mqttConnect(mq, sock, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK)) !== 0) rError('app', '%s', mqttGetError(mq))
 */
export function mqttConnect(mq: Mqtt | null, sock: RSocket | string | null, flags: number | string | null, waitFlags?: number, oldWait?: number): Waitable<number> {
    if (!(mq instanceof Mqtt)) {
        return done(R_ERR_BAD_ARGS)
    }
    if (!(sock instanceof RSocket) && arguments.length === 5) {
        /* Seed-page form: mqttConnect(mq, username, password, flags, waitFlags) with the socket from mqttAlloc */
        if (mqttSetCredentials(mq, sock as string | null, flags as string | null) !== 0) {
            return done(R_ERR_BAD_ARGS)
        }
        return connect(mq, mq.sock, waitFlags ?? 0, oldWait ?? 0)
    }
    return connect(mq, sock instanceof RSocket ? sock : null, typeof flags === 'number' ? flags : 0, waitFlags ?? 0)
}

function connect(mq: Mqtt, sock: RSocket | null, flags: number, waitFlags: number): Waitable<number> {
    if (sock === null) {
        return done(setMsg(mq, R_ERR_BAD_ARGS, 'mqttConnect needs a connected socket'))
    }
    if (mq.linkUp) {
        connectionLost(mq, R_ERR_NOT_CONNECTED, 'Reconnecting')
    }
    mq.error = 0
    mq.errorMsg = ''
    mq.disconnecting = false
    mq.destroyed = false
    if (rIsSocketEof(sock) || rIsSocketClosed(sock) || sock.handle === null) {
        mq.sock = sock
        return done(setMsg(mq, R_ERR_CANT_CONNECT, 'The socket is not connected'))
    }
    flags &= ~MQTT_CONNECT_RESERVED
    mq.cleanSession = (flags & MQTT_CONNECT_CLEAN_SESSION) !== 0
    let bytes: Uint8Array
    try {
        const hasWill = mq.willTopic !== null && mq.willMsg !== null
        const willQos = (flags >> 3) & 3
        if (hasWill && willQos === 3) {
            return done(setMsg(mq, R_ERR_BAD_ARGS, 'Will QoS flags 0x18 both set'))
        }
        bytes = encode({
            type: 1, protocolName: 'MQTT', protocolLevel: MQTT_PROTOCOL_LEVEL, clean: mq.cleanSession,
            keepAlive: mq.keepAlive > 0 ? Math.min(65535, Math.max(1, Math.floor(mq.keepAlive / 1000))) : 0,
            clientId: mq.id,
            will: hasWill ? { topic: mq.willTopic!, payload: mq.willMsg!, qos: willQos, retain: (flags & MQTT_CONNECT_WILL_RETAIN) !== 0 } : null,
            username: mq.username ? mq.username : null,
            password: mq.username && mq.password ? new TextEncoder().encode(mq.password) : null,
        })
    } catch (err) {
        return done(setMsg(mq, R_ERR_BAD_ARGS, err instanceof MqttCodecError ? err.message : String(err)))
    }
    const w = new MqttWait()
    mq.connectWait = w
    rSetSocketNoDelay(sock, 1)
    mq.receiver ??= new Receiver(mq)
    attachLink(mq, sock)
    if (!mq.linkUp) {
        /* The socket ended as it was attached */
        return w
    }
    mq.connectTimer = startTimer(connackTimeout, mq, mq.connectTimeout)
    writeBytes(mq, bytes)
    flush(mq)
    if (waitFlags & MQTT_WAIT_ACK) {
        return w
    }
    /* NONE or SENT (the CONNECT was just handed to the socket): no CONNACK yet, so no connection to report */
    return done(R_ERR_CANT_CONNECT)
}

function connackTimeout(mq: Mqtt): void {
    mq.connectTimer = null
    if (mq.linkUp && !mq.connected) {
        fatal(mq, R_ERR_TIMEOUT, `No CONNACK from the broker within ${mq.connectTimeout / 1000} s`)
    }
}

/** What the socket tells the client: chunks, the end, drain (one object per client, methods shared). */
class Receiver implements SocketReceiver {
    constructor(readonly mq: Mqtt) {}

    onData(chunk: Buffer): void {
        onChunk(this.mq, chunk)
    }

    onEnd(code: number, reason: string): void {
        connectionLost(this.mq, code, reason)
    }

    /* The socket drained: queued messages and waiting publishers may go on */
    onDrain(): void {
        pump(this.mq)
        wakeRoom(this.mq)
    }
}

/**
    Send DISCONNECT (E0 00; the broker then discards the will) and stop the keep-alive. The socket stays open:
    the caller owns it. R_ERR_BAD_ARGS for null, R_ERR_CANT_WRITE without a socket.
    @example mqttDisconnect(mq); rCloseSocket(sock)
 */
export function mqttDisconnect(mq: Mqtt | null): number {
    if (!(mq instanceof Mqtt)) {
        return R_ERR_BAD_ARGS
    }
    if (mq.sock === null || !mq.linkUp) {
        return setMsg(mq, R_ERR_CANT_WRITE, 'Not connected')
    }
    mq.disconnecting = true
    stopTimer(mq.keepAliveEvent)
    mq.keepAliveEvent = null
    writeBytes(mq, DISCONNECT_BYTES)
    flush(mq)
    mq.connected = false
    return 0
}

/**
    Free the client: every waiter settles with R_ERR_NOT_CONNECTED, queues and timers are dropped, and the
    call waits (at most 100 turns) for message callbacks still running. The socket is not closed.
    @example yield* mqttFree(mq)
 */
export function* mqttFree(mq: Mqtt | null): Fiber<void> {
    if (!(mq instanceof Mqtt) || mq.destroyed) {
        return
    }
    mq.destroyed = true
    detachLink(mq)
    mq.connected = false
    stopTimer(mq.keepAliveEvent)
    stopTimer(mq.connectTimer)
    mq.keepAliveEvent = mq.connectTimer = null
    dropAll(mq, R_ERR_NOT_CONNECTED)
    for (let i = 0; i < 100 && mq.fiberCount > 0; i++) {
        yield* rSleep(0)
    }
    mq.topics = []
    mq.index = null
    mq.routes = null
    mq.masterTopics = []
}

/**
    The last error's text ("" when none). Unlike C, which answers "Unknown error", this is the real message.
    @example if ((yield* mqttPublish(mq, msg, 0, 1, MQTT_WAIT_ACK, 'a/b')) < 0) rError('app', '%s', mqttGetError(mq))
 */
export function mqttGetError(mq: Mqtt | null): string | null {
    return mq instanceof Mqtt ? mq.errorMsg : null
}

/**
    Ticks of the last read or write.
    @example if (rGetTicks() - mqttGetLastActivity(mq) > 60_000) yield* mqttPing(mq, MQTT_WAIT_ACK)
 */
export function mqttGetLastActivity(mq: Mqtt | null): number {
    return mq instanceof Mqtt ? mq.lastActivity : 0
}

/**
    Messages still to send: queued, or unacknowledged past their retransmit time.
    @example while (mqttMsgsToSend(mq) > 0) yield* rSleep(100)
 */
export function mqttMsgsToSend(mq: Mqtt | null): number {
    return mq instanceof Mqtt ? msgsToSend(mq) : 0
}

/**
    Whether connected (CONNACK received and the socket not closed).
    @example if (!mqttIsConnected(mq)) yield* reconnect()
 */
export function mqttIsConnected(mq: Mqtt | null): boolean {
    return mq instanceof Mqtt && mq.connected && !rIsSocketClosed(mq.sock)
}

/**
    User name and password for the next CONNECT (each at most 128 bytes; empty ones are omitted).
    @example mqttSetCredentials(mq, 'dev-1', token)
 */
export function mqttSetCredentials(mq: Mqtt | null, username: string | null, password: string | null): number {
    if (!(mq instanceof Mqtt)) {
        return R_ERR_BAD_ARGS
    }
    const user = username ?? ''
    const pass = password ?? ''
    if (utf8Length(user) > MQTT_MAX_USERNAME_SIZE || utf8Length(pass) > MQTT_MAX_PASSWORD_SIZE || utf8Length(user) < 0) {
        mq.username = mq.password = ''
        return setMsg(mq, R_ERR_BAD_ARGS, 'User name and password must be at most 128 bytes')
    }
    mq.username = user
    mq.password = pass
    return 0
}

/**
    Maximum message size, in and out (0 is ignored).
    @example mqttSetMessageSize(mq, 128 * 1024)   // AWS IoT's limit
 */
export function mqttSetMessageSize(mq: Mqtt | null, size: number): void {
    if (mq instanceof Mqtt && size > 0) {
        mq.maxMessage = mq.maxInbound = Math.floor(Math.min(size, MQTT_MAX_MESSAGE_SIZE))
        mq.decoder.maxPacketSize = mq.maxInbound + 5
    }
}

/**
    The will: published by the broker if the connection ends without DISCONNECT. The topic is literal (not a
    format); size must be > 0 (at most 65,535). Takes effect at the next mqttConnect.
    @example mqttSetWill(mq, 'devices/dev-1/status', 'offline', 7)
 */
export function mqttSetWill(mq: Mqtt | null, topic: string | null, msg: Uint8Array | string | null, size: number): number {
    if (!(mq instanceof Mqtt)) {
        return R_ERR_BAD_ARGS
    }
    if (topic === null || msg === null || !(size > 0)) {
        return setMsg(mq, R_ERR_BAD_ARGS, 'A will needs a topic and a message of size > 0')
    }
    const problem = topicNameProblem(topic)
    if (problem !== null || utf8Length(topic) > MQTT_MAX_TOPIC_SIZE) {
        return setMsg(mq, R_ERR_BAD_ARGS, `Bad will topic: ${problem?.message ?? 'longer than 128 bytes'}`)
    }
    const bytes = typeof msg === 'string' ? new TextEncoder().encode(msg) : msg
    if (size > bytes.length || size > 65535) {
        return setMsg(mq, R_ERR_BAD_ARGS, `Will message size ${size} is larger than the message or 65,535`)
    }
    mq.willTopic = topic
    mq.willMsg = bytes.slice(0, size)
    mq.willMsgSize = size
    return 0
}

/**
    Keep-alive in ticks (sent to the broker in seconds); 0 or less means MQTT_KEEP_ALIVE (20 min). Returns 0, or
    R_ERR_BAD_ARGS for a value that is not a number (NaN): nothing is changed (C's call returns nothing).
    @example mqttSetKeepAlive(mq, 60 * TPS)
 */
export function mqttSetKeepAlive(mq: Mqtt | null, keepAlive: number): number {
    if (!(mq instanceof Mqtt)) {
        return R_ERR_BAD_ARGS
    }
    if (typeof keepAlive !== 'number' || Number.isNaN(keepAlive)) {
        return setMsg(mq, R_ERR_BAD_ARGS, `Bad keep-alive ${String(keepAlive)}: a number of ticks is needed`)
    }
    mq.keepAlive = keepAlive <= 0 ? MQTT_KEEP_ALIVE : keepAlive >= MAXINT64 ? MAXINT64 / 2 : keepAlive
    return 0
}

/**
    Idle timeout in ticks (raises MQTT_EVENT_TIMEOUT): negative means MQTT_TIMEOUT, 0 means never. Returns 0, or
    R_ERR_BAD_ARGS for a value that is not a number (NaN): nothing is changed.
    @example mqttSetTimeout(mq, 5 * 60 * TPS)   // MQTT_EVENT_TIMEOUT after five idle minutes
 */
export function mqttSetTimeout(mq: Mqtt | null, timeout: number): number {
    if (!(mq instanceof Mqtt)) {
        return R_ERR_BAD_ARGS
    }
    if (typeof timeout !== 'number' || Number.isNaN(timeout)) {
        return setMsg(mq, R_ERR_BAD_ARGS, `Bad timeout ${String(timeout)}: a number of ticks is needed`)
    }
    mq.timeout = timeout < 0 ? MQTT_TIMEOUT : timeout === 0 ? MAXINT64 / 10 : timeout >= MAXINT64 ? MAXINT64 / 10 : timeout
    return 0
}

/**
    Outbound QoS 1/2 messages in flight at once (default 100).
    @example mqttSetInflight(mq, 1000)
 */
export function mqttSetInflight(mq: Mqtt | null, max: number): void {
    if (mq instanceof Mqtt && max >= 1 && max !== Infinity) {
        mq.maxInflight = Math.min(65535, Math.floor(max))
        pump(mq)
    }
}

/**
    Bound the queue behind the window (and, with queueOffline, of messages published while disconnected):
    messages, bytes and what happens when it is full: 'wait' (default: the publisher waits for room),
    'reject' / 'drop-newest' (the publish returns R_ERR_TOO_MANY) or 'drop-oldest' (the oldest queued message is
    dropped and its waiter gets R_ERR_TOO_MANY).
    @example mqttSetQueue(mq, 1000, 1 << 20, 'drop-oldest')
 */
export function mqttSetQueue(mq: Mqtt | null, maxMessages: number, maxBytes: number, policy: QueuePolicy = 'wait'): number {
    if (!(mq instanceof Mqtt) || !(maxMessages >= 1) || !(maxBytes >= 1) || !Number.isFinite(maxMessages + maxBytes) || !['wait', 'reject', 'drop-oldest', 'drop-newest'].includes(policy)) {
        return R_ERR_BAD_ARGS
    }
    mq.maxQueue = maxMessages
    mq.maxQueueBytes = maxBytes
    mq.queuePolicy = policy
    return 0
}

/**
    Raise the publish throttle (a cloud asks the device to slow down): doubles, +2 s at least, at most 30 s.
    @example rWatch('cloud:throttle', () => mqttThrottle(mq), null)
 */
export function mqttThrottle(mq: Mqtt | null): void {
    if (mq instanceof Mqtt) {
        mq.throttle = Math.min(Math.max(2 * mq.throttle, mq.throttle + 2000), 30_000)
        mq.throttleMark = mq.throttleLastPub = rGetTicks()
    }
}

/**
    Check the queue's consistency (C's version always answers true).
    @example if (!mqttCheckQueue(mq)) rError('app', 'MQTT queue is inconsistent')
 */
export function mqttCheckQueue(mq: Mqtt | null): boolean {
    if (!(mq instanceof Mqtt)) {
        return true
    }
    let publishes = 0
    for (const msg of mq.inflight.values()) {
        if (msg.type === 3 || msg.type === 6) {
            publishes++
        }
    }
    return publishes === mq.inflightPublishes
}

/**
    Counters and current levels of the client.
    @example const { queued, inflight, acknowledged } = mqttGetStats(mq)
 */
export function mqttGetStats(mq: Mqtt | null): MqttStats {
    return mq instanceof Mqtt ? { queued: mq.pending.length, inflight: mq.inflightPublishes, ...mq.stats } :
        { queued: 0, inflight: 0, published: 0, acknowledged: 0, dropped: 0, resent: 0, received: 0, held: 0, unrouted: 0 }
}

/** What mqttGetStats returns: current levels and counters (see Mqtt.stats); all 0 for a null client. */
export interface MqttStats {
    queued: number
    inflight: number
    published: number
    acknowledged: number
    dropped: number
    resent: number
    received: number
    held: number
    unrouted: number
}
