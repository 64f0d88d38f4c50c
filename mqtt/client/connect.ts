/*
    mqttAlloc, mqttConnect, mqttDisconnect, mqttFree and the instance's settings and queries, as in Ioto.
    Both API forms of the seed pages work: mqttAlloc(clientId, proc) + mqttConnect(mq, sock, flags, wait), and
    mqttAlloc(sock, clientId, proc) + mqttConnect(mq, username, password, flags, wait).
 */
import { R_ERR_BAD_ARGS, R_ERR_CANT_CONNECT, R_ERR_CANT_WRITE, R_ERR_NOT_CONNECTED, R_ERR_TIMEOUT } from '../../runtime/errors.js'
import { rSleep, startTimer, stopTimer } from '../../runtime/events.js'
import type { Fiber, Waitable } from '../../runtime/body.js'
import { TPS } from '../../runtime/time.js'
import { done } from '../../runtime/waitable.js'
import { rIsSocketClosed, rIsSocketEof, rSetSocketNoDelay } from '../../socket/control.js'
import { RSocket } from '../../socket/rsocket.js'
import { DISCONNECT_BYTES, encodeConnect } from '../codec/encode.js'
import { MqttCodecError } from '../codec/errors.js'
import type { Properties } from '../codec/properties.js'
import { MQTT_CONNECT_CLEAN_SESSION, MQTT_CONNECT_RESERVED, MQTT_CONNECT_WILL_RETAIN, MQTT_PROTOCOL_LEVEL } from '../constants.js'
import { Receiver } from './receiver.js'
import { mqttSetCredentials } from './settings.js'
import { connectionLost, fatal } from './link.js'
import { Mqtt, MQTT_WAIT_ACK, MQTT_WAIT_SENT, MqttWait, setMsg, type MqttEventProc } from './state.js'
import { clientIdProblem, defaultConfig } from './config.js'
import { dropAll } from './session.js'
import { attachLink, detachLink, flush, writeBytes } from './wire.js'

/**
    Allocate a client. Returns null for a missing or over-long client id (65,535 bytes; 23 with
    mqttSetLimits(null, MQTT_LIMITS_IOTO)). An empty id is accepted: the broker assigns one, which needs a
    clean session [MQTT-3.1.3-6] [MQTT-3.1.3-7]. The older form mqttAlloc(sock, clientId, proc) binds a connected
    socket now.
    @example const mq = mqttAlloc('device-42', onEvent)
 */
export function mqttAlloc(clientId: string | null, proc?: MqttEventProc | null): Mqtt | null
/**
    The seed pages' form: a connected socket first, bound to the client now.
    @example const mq = mqttAlloc(sock, 'device-42', onEvent)
 */
export function mqttAlloc(sock: RSocket, clientId: string | null, proc?: MqttEventProc | null): Mqtt | null
/**
    Both forms, told apart by the first argument's type.
    @example const mq = mqttAlloc('device-42', null)
 */
export function mqttAlloc(clientId: string | RSocket | null, proc?: MqttEventProc | string | null, oldProc?: MqttEventProc | null): Mqtt | null {
    let sock: RSocket | null = null
    if (clientId instanceof RSocket) {
        sock = clientId
        clientId = typeof proc === 'string' ? proc : null
        proc = oldProc ?? null
    }
    if (typeof clientId !== 'string' || clientIdProblem(clientId, defaultConfig.value.limits, true) !== null) {
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
export function mqttConnect(mq: Mqtt | null, sock: RSocket | null, flags: number, waitFlags: number): Waitable<number>
/**
    The seed pages' form: credentials, with the socket given to mqttAlloc(sock, clientId, proc).
    @example yield* mqttConnect(mq, 'user', 'password', MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK)
 */
export function mqttConnect(mq: Mqtt | null, username: string | null, password: string | null, flags: number, waitFlags: number): Waitable<number>
/**
    Both forms, told apart by the second argument's type and the argument count.
    @example yield* mqttConnect(mq, sock, 0, MQTT_WAIT_ACK)
 */
export function mqttConnect(mq: Mqtt | null, sock: RSocket | string | null, flags: number | string | null, waitFlags?: number, oldWait?: number): Waitable<number> {
    if (!(mq instanceof Mqtt)) {
        return done(R_ERR_BAD_ARGS)
    }
    if (!(sock instanceof RSocket) && oldWait !== undefined) {
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
    if (mq.processing) {
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
    const idProblem = clientIdProblem(mq.id, mq.cfg.limits, mq.cleanSession)
    if (idProblem !== null) {
        return done(setMsg(mq, R_ERR_BAD_ARGS, `Bad client id: ${idProblem}`))
    }
    mq.connackCode = -1
    let bytes: Uint8Array
    try {
        const hasWill = mq.willTopic !== null && mq.willMsg !== null
        const willQos = (flags >> 3) & 3
        if (hasWill && willQos === 3) {
            return done(setMsg(mq, R_ERR_BAD_ARGS, 'Will QoS flags 0x18 both set'))
        }
        const connect = {
            type: 1, protocolName: 'MQTT', protocolLevel: MQTT_PROTOCOL_LEVEL, clean: mq.cleanSession,
            keepAlive: mq.keepAlive > 0 ? Math.min(65535, Math.max(1, Math.floor(mq.keepAlive / 1000))) : 0,
            clientId: mq.id,
            will: hasWill ? { topic: mq.willTopic!, payload: mq.willMsg!, qos: willQos, retain: (flags & MQTT_CONNECT_WILL_RETAIN) !== 0 } : null,
            username: mq.username ? mq.username : null,
            password: mq.username && mq.password.length > 0 ? passwordBytes(mq.password) : null,
        } as const
        const v5 = mq.cfg.v5
        bytes = v5 === null ? encodeConnect(connect) : v5.encodeConnect(connect, mq.cfg.maxInbound)
    } catch (err) {
        return done(setMsg(mq, R_ERR_BAD_ARGS, err instanceof MqttCodecError ? err.message : String(err)))
    }
    const w = new MqttWait()
    mq.connectWait = w
    rSetSocketNoDelay(sock, 1)
    mq.receiver ??= new Receiver(mq)
    attachLink(mq, sock)
    if (!mq.processing) {
        /* The socket ended as it was attached */
        return w
    }
    mq.connectTimer = startTimer(connackTimeout, mq, mq.cfg.connectTimeout)
    writeBytes(mq, bytes)
    flush(mq)
    if (waitFlags & MQTT_WAIT_ACK) {
        return w
    }
    /* NONE or SENT (the CONNECT was just handed to the socket): no CONNACK yet, so no connection to report */
    return done(R_ERR_CANT_CONNECT)
}

function passwordBytes(password: string | Uint8Array): Uint8Array {
    return typeof password === 'string' ? new TextEncoder().encode(password) : password
}

function connackTimeout(mq: Mqtt): void {
    mq.connectTimer = null
    if (mq.processing && !mq.connected) {
        fatal(mq, R_ERR_TIMEOUT, `No CONNACK from the broker within ${mq.cfg.connectTimeout / 1000} s`)
    }
}

/**
    Send DISCONNECT (E0 00; the broker then discards the will) and stop the keep-alive. The socket stays open:
    the caller owns it. R_ERR_BAD_ARGS for null, R_ERR_CANT_WRITE without a socket. With waitFlags
    MQTT_WAIT_ACK (or SENT) the call is a waitable that evaluates to 0 once the connection is closed: the
    broker closes it on DISCONNECT; after MQTT_DISCONNECT_TIMEOUT (5 s) the client shuts it down itself.
    @example mqttDisconnect(mq); rCloseSocket(sock)
    @example yield* mqttDisconnect(mq, MQTT_WAIT_ACK)   // the broker has closed the connection
 */
export function mqttDisconnect(mq: Mqtt | null): number
/**
    mqttDisconnect with wait flags: a waitable that evaluates to 0 once the connection is closed.
    @example yield* mqttDisconnect(mq, MQTT_WAIT_ACK)
 */
export function mqttDisconnect(mq: Mqtt | null, waitFlags: number): Waitable<number>
/**
    Both forms: C's (a number at once) and the waitable one.
    @example const rc = mqttDisconnect(mq)
 */
export function mqttDisconnect(mq: Mqtt | null, waitFlags?: number): number | Waitable<number> {
    return disconnect(mq, waitFlags, DISCONNECT_BYTES)
}

/**
    MQTT 5: mqttDisconnect with a reason code and properties: 0x04 (Disconnect with Will Message: the broker
    publishes the will), a new Session Expiry Interval (not from 0 [MQTT-3.14.2-2]), a Reason String, User
    Properties. Needs an MQTT 5 client; R_ERR_BAD_ARGS otherwise or for a reason or property a client may not send.
    @example yield* mqttDisconnectEx(mq, MQTT_WAIT_ACK, { reasonCode: 0x04, properties: { sessionExpiryInterval: 0 } })
 */
export function mqttDisconnectEx(mq: Mqtt | null, waitFlags: number, options: { reasonCode?: number, properties?: Properties } | null): Waitable<number> {
    if (!(mq instanceof Mqtt)) {
        return done(R_ERR_BAD_ARGS)
    }
    const v5 = mq.cfg.v5
    if (v5 === null) {
        return done(setMsg(mq, R_ERR_BAD_ARGS, 'A reason and properties on DISCONNECT need MQTT 5: mqttSetProtocol(mq, 5) first'))
    }
    const reasonCode = options?.reasonCode ?? 0
    const properties = options?.properties ?? {}
    if (!CLIENT_DISCONNECT_REASONS.includes(reasonCode)) {
        return done(setMsg(mq, R_ERR_BAD_ARGS, `Reason code 0x${reasonCode.toString(16)} is not one a client sends on DISCONNECT [MQTT5-3.14.2.1]`))
    }
    if (properties.sessionExpiryInterval !== undefined && properties.sessionExpiryInterval > 0 && (v5.connect.sessionExpiryInterval ?? 0) === 0) {
        return done(setMsg(mq, R_ERR_BAD_ARGS, 'A session that expires at once cannot be given a Session Expiry Interval at DISCONNECT [MQTT-3.14.2-2]'))
    }
    let bytes: Uint8Array
    try {
        bytes = v5.encode({ type: 14, reasonCode, properties })
    } catch (err) {
        return done(setMsg(mq, R_ERR_BAD_ARGS, `Bad DISCONNECT properties: ${(err as Error).message}`))
    }
    return disconnect(mq, waitFlags, bytes) as Waitable<number>
}

/* Reason codes a client may send on DISCONNECT: normal, with will, and the errors it can report */
const CLIENT_DISCONNECT_REASONS = [0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x90, 0x93, 0x94, 0x95, 0x96, 0x98, 0x99]

function disconnect(mq: Mqtt | null, waitFlags: number | undefined, bytes: Uint8Array): number | Waitable<number> {
    const wait = waitFlags !== undefined && (waitFlags & (MQTT_WAIT_ACK | MQTT_WAIT_SENT)) !== 0
    if (!(mq instanceof Mqtt)) {
        return waitFlags === undefined ? R_ERR_BAD_ARGS : done(R_ERR_BAD_ARGS)
    }
    if (mq.sock === null || !mq.processing) {
        const rc = setMsg(mq, R_ERR_CANT_WRITE, 'Not connected')
        return waitFlags === undefined ? rc : done(rc)
    }
    mq.disconnecting = true
    stopTimer(mq.keepAliveEvent)
    mq.keepAliveEvent = null
    writeBytes(mq, bytes)
    flush(mq)
    mq.connected = false
    if (waitFlags === undefined) {
        return 0
    }
    if (!wait) {
        return done(0)
    }
    const w = mq.disconnectWait ??= new MqttWait()
    stopTimer(mq.connectTimer)
    mq.connectTimer = startTimer(closeLinger, mq, MQTT_DISCONNECT_TIMEOUT)
    return w
}

/** Longest wait for the broker to close the connection after DISCONNECT. */
export const MQTT_DISCONNECT_TIMEOUT = 5 * TPS

/* The broker did not close the connection after DISCONNECT: shut it down from this side */
function closeLinger(mq: Mqtt): void {
    mq.connectTimer = null
    if (mq.processing) {
        connectionLost(mq, 0, 'Disconnected')
    }
}

/**
    Free the client, at once (as C's call, with or without yield*): every waiter settles with
    R_ERR_NOT_CONNECTED, queues, timers and subscriptions are dropped. Waited for, the call also lets message
    callbacks still running finish (at most 100 turns). The socket is not closed.
    @example yield* mqttFree(mq)
 */
export function mqttFree(mq: Mqtt | null): Waitable<void> {
    if (!(mq instanceof Mqtt) || mq.destroyed) {
        return done(undefined)
    }
    mq.destroyed = true
    detachLink(mq)
    mq.connected = false
    stopTimer(mq.keepAliveEvent)
    stopTimer(mq.connectTimer)
    stopTimer(mq.refillTimer)
    mq.keepAliveEvent = mq.connectTimer = mq.refillTimer = null
    dropAll(mq, R_ERR_NOT_CONNECTED)
    mq.topics = []
    mq.index = null
    mq.routes = null
    mq.masterTopics = []
    mq.held = mq.backlog = null
    const hooks = mq.freeHooks
    mq.freeHooks = null
    for (const hook of hooks ?? []) {
        hook()
    }
    return mq.fiberCount > 0 ? callbacksDone(mq) : done(undefined)
}

function* callbacksDone(mq: Mqtt): Fiber<void> {
    for (let i = 0; i < 100 && mq.fiberCount > 0; i++) {
        yield* rSleep(0)
    }
}
