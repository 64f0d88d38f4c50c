/*
    The client's settings and queries, as in Ioto: credentials, limits, will, keep-alive, timeouts, message
    size, flow control, throttle, errors and counters.
 */
import type { Properties } from '../codec/properties.js'
import { R_ERR_BAD_ARGS } from '../../runtime/errors.js'
import { MAXINT64, rGetTicks } from '../../runtime/time.js'
import { rIsSocketClosed, rSetSocketCoalesce } from '../../socket/control.js'
import { isNap } from '../../socket/nap.js'
import { copyBytes } from '../codec/bytes.js'
import { isUtf8, utf8Length } from '../codec/utf8.js'
import { topicNameProblem } from '../topic.js'
import { type MqttAuthProc, Mqtt, MQTT_KEEP_ALIVE, MQTT_MAX_MESSAGE_SIZE, MQTT_TIMEOUT, OUT_PUBLISH, setMsg, type MqttLimits, type QueuePolicy } from './state.js'
import { defaultConfig, MqttConfig, ownConfig } from './config.js'
import { pump } from './window.js'
import { msgsToSend } from './session.js'

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
    User name and password for the next CONNECT (empty ones are omitted; a password needs a user name
    [MQTT-3.1.2-22]). The password is binary data: bytes go as they are, a string as UTF-8. Each at most
    65,535 bytes (128 with MQTT_LIMITS_IOTO).
    @example mqttSetCredentials(mq, 'dev-1', token)
 */
export function mqttSetCredentials(mq: Mqtt | null, username: string | null, password: string | Uint8Array | null): number {
    if (!(mq instanceof Mqtt)) {
        return R_ERR_BAD_ARGS
    }
    const user = username ?? ''
    const pass = password ?? ''
    const passLength = typeof pass === 'string' ? utf8Length(pass) : pass instanceof Uint8Array ? pass.length : -1
    const userLength = typeof user === 'string' ? utf8Length(user) : -1
    if (userLength < 0 || passLength < 0 || userLength > mq.cfg.limits.username || passLength > mq.cfg.limits.password) {
        mq.username = mq.password = ''
        return setMsg(mq, R_ERR_BAD_ARGS, `User name and password must be strings (or bytes) of at most ${mq.cfg.limits.username} and ${mq.cfg.limits.password} bytes`)
    }
    mq.username = user
    mq.password = typeof pass === 'string' ? pass : copyBytes(pass)
    return 0
}

/**
    Size limits: MQTT_LIMITS_SPEC (the default: 65,535 bytes each) or MQTT_LIMITS_IOTO (C's 23-byte ids, 127-byte
    topics, 128-byte credentials). With a null client, the limits every later mqttAlloc gets (and checks the
    id against). R_ERR_BAD_ARGS for limits that are not positive integers up to 65,535.
    @example mqttSetLimits(null, MQTT_LIMITS_IOTO)   // behave as Ioto's C client from here on
 */
export function mqttSetLimits(mq: Mqtt | null, limits: MqttLimits): number {
    const ok = limits !== null && typeof limits === 'object' && typeof limits.emptyClientId === 'boolean' &&
        [limits.clientId, limits.topic, limits.username, limits.password].every(n => Number.isInteger(n) && n >= 1 && n <= 65535)
    if (!ok) {
        return mq instanceof Mqtt ? setMsg(mq, R_ERR_BAD_ARGS, 'Limits must be integers from 1 to 65,535 (and emptyClientId a boolean)') : R_ERR_BAD_ARGS
    }
    const frozen = Object.freeze({
        clientId: limits.clientId, topic: limits.topic, username: limits.username, password: limits.password, emptyClientId: limits.emptyClientId,
    })
    if (mq instanceof Mqtt) {
        ownConfig(mq).limits = frozen
    } else {
        const defaults = Object.assign(new MqttConfig(), defaultConfig.value)
        defaults.limits = frozen
        defaultConfig.value = defaults
    }
    return 0
}

/**
    Maximum message size, in and out (0 is ignored).
    @example mqttSetMessageSize(mq, 128 * 1024)   // AWS IoT's limit
 */
export function mqttSetMessageSize(mq: Mqtt | null, size: number): void {
    if (mq instanceof Mqtt && size > 0) {
        mq.maxMessage = ownConfig(mq).maxInbound = Math.floor(Math.min(size, MQTT_MAX_MESSAGE_SIZE))
        mq.decoder.maxPacketSize = mq.cfg.maxInbound + 5
    }
}

/**
    The will: published by the broker if the connection ends without DISCONNECT. The topic is literal (not a
    format); `size` bytes of the message (0: all of it, which may be empty; at most 65,535). Takes effect at
    the next mqttConnect. MQTT 5 (after mqttSetProtocol(mq, 5)): `properties`, the will's (Will Delay Interval,
    Message Expiry Interval, Content Type, Payload Format Indicator, Response Topic, Correlation Data, User
    Properties); R_ERR_BAD_ARGS for properties on an MQTT 3.1.1 client or ones a will may not carry.
    @example mqttSetWill(mq, 'devices/dev-1/status', 'offline', 7)
    @example mqttSetWill(mq, 'devices/dev-1/status', 'offline', 0, { willDelayInterval: 30 })
 */
export function mqttSetWill(mq: Mqtt | null, topic: string | null, msg: Uint8Array | string | null, size: number, properties: Properties | null = null): number {
    if (!(mq instanceof Mqtt)) {
        return R_ERR_BAD_ARGS
    }
    if (properties !== null && Object.keys(properties).length > 0) {
        if (mq.cfg.v5 === null) {
            return setMsg(mq, R_ERR_BAD_ARGS, 'Will properties need MQTT 5: mqttSetProtocol(mq, 5) first')
        }
        try {
            mq.cfg.v5.propertiesSize(properties, 'WILL')
        } catch (err) {
            return setMsg(mq, R_ERR_BAD_ARGS, `Bad will properties: ${(err as Error).message}`)
        }
    }
    if (typeof topic !== 'string' || (typeof msg !== 'string' && !(msg instanceof Uint8Array)) || !Number.isInteger(size) || size < 0) {
        return setMsg(mq, R_ERR_BAD_ARGS, 'A will needs a topic, a message and a size (0: the whole message)')
    }
    const problem = topicNameProblem(topic)
    if (problem !== null || utf8Length(topic) > mq.cfg.limits.topic) {
        return setMsg(mq, R_ERR_BAD_ARGS, `Bad will topic: ${problem?.message ?? `longer than ${mq.cfg.limits.topic} bytes`}`)
    }
    const bytes = typeof msg === 'string' ? new TextEncoder().encode(msg) : msg
    const length = size === 0 ? bytes.length : size
    if (length > bytes.length || length > 65535) {
        return setMsg(mq, R_ERR_BAD_ARGS, `Will message size ${length} is larger than the message or 65,535`)
    }
    if (properties !== null && properties.payloadFormatIndicator === 1 && !isUtf8(bytes.subarray(0, length))) {
        return setMsg(mq, R_ERR_BAD_ARGS, 'The will message is marked as UTF-8 (payloadFormatIndicator 1) but is not [MQTT5-3.1.3.2.3]')
    }
    mq.willTopic = topic
    mq.willMsg = bytes.slice(0, length)
    mq.willMsgSize = length
    if (mq.cfg.v5 !== null) {
        mq.cfg.v5.will = { ...properties }
    }
    return 0
}

/**
    Keep-alive in ticks (sent to the broker in seconds, at most 65,535 s); 0 turns it off (no pings, the broker
    keeps an idle link [MQTT-3.1.2-10]); a negative value means MQTT_KEEP_ALIVE (20 min). Returns 0, or
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
    mq.keepAlive = keepAlive < 0 ? MQTT_KEEP_ALIVE : keepAlive >= MAXINT64 ? MAXINT64 / 2 : keepAlive
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
    Longest wait for the CONNACK, in ticks (default MQTT_CONNECT_TIMEOUT, 30 s); takes effect at the next
    mqttConnect. R_ERR_BAD_ARGS for a value that is not a positive number.
    @example mqttSetConnectTimeout(mq, 10 * TPS)
 */
export function mqttSetConnectTimeout(mq: Mqtt | null, ticks: number): number {
    if (!(mq instanceof Mqtt)) {
        return R_ERR_BAD_ARGS
    }
    if (typeof ticks !== 'number' || !(ticks > 0) || ticks === Infinity) {
        return setMsg(mq, R_ERR_BAD_ARGS, `Bad connect timeout ${String(ticks)}: a positive number of ticks`)
    }
    ownConfig(mq).connectTimeout = ticks
    return 0
}

/**
    Keep waiters waiting across a lost connection (on) instead of settling them with R_ERR_NOT_CONNECTED (off,
    the default, as in Ioto); with it on, also queue publishes made while disconnected. The agent turns it on.
    @example mqttSetKeepWaits(mq, true)   // a publisher with MQTT_WAIT_ACK waits through a reconnect
 */
export function mqttSetKeepWaits(mq: Mqtt | null, on: boolean): number {
    if (!(mq instanceof Mqtt) || typeof on !== 'boolean') {
        return R_ERR_BAD_ARGS
    }
    const cfg = ownConfig(mq)
    cfg.keepWaits = cfg.queueOffline = on
    return 0
}

/**
    The return code of the last CONNACK: 0 accepted, 1-5 the refusals of MQTT 3.1.1 (4: bad user name or
    password, 5: not authorized); -1 when none has arrived since the last mqttConnect.
    @example if (mqttGetConnackCode(mq) === 5) rError('app', 'not authorized: check the policy')
 */
export function mqttGetConnackCode(mq: Mqtt | null): number {
    return mq instanceof Mqtt ? mq.connackCode : -1
}

/**
    Outbound QoS 1/2 messages in flight at once (default 100).
    @example mqttSetInflight(mq, 1000)
 */
export function mqttSetInflight(mq: Mqtt | null, max: number): void {
    if (mq instanceof Mqtt && max >= 1 && max !== Infinity) {
        const cfg = ownConfig(mq)
        cfg.maxInflight = Math.min(65535, Math.floor(max))
        if (cfg.v5 !== null) {
            /* The window asked for; the MQTT 5 server's Receive Maximum bounds it at the next CONNACK */
            cfg.v5.inflight = cfg.maxInflight
            cfg.maxInflight = Math.min(cfg.maxInflight, cfg.v5.connack?.receiveMaximum ?? 65535)
        }
        pump(mq)
    }
}

/**
    Read coalescing (not in Ioto's C API): once six reads come within `ms` milliseconds, reading naps for
    `ms`, so one read, one pass of the handlers and one acknowledgement write serve all that arrived meanwhile.
    A busy subscriber spends far less CPU per message, for up to `ms` of added latency while traffic is that
    heavy; slower traffic reads at once. 0 (the default) turns it off. Applies now and on later connects.
    R_ERR_BAD_ARGS unless ms is an integer from 0 to 1,000 (see rSetSocketCoalesce).
    @example mqttSetCoalesce(mq, 1)   // a subscriber taking tens of thousands of messages a second
 */
export function mqttSetCoalesce(mq: Mqtt | null, ms: number): number {
    if (!(mq instanceof Mqtt)) {
        return R_ERR_BAD_ARGS
    }
    if (!isNap(ms)) {
        return setMsg(mq, R_ERR_BAD_ARGS, 'The read-coalescing nap must be an integer from 0 to 1,000 milliseconds')
    }
    ownConfig(mq).coalesce = ms
    if (mq.sock !== null) {
        rSetSocketCoalesce(mq.sock, ms)
    }
    return 0
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
    const cfg = ownConfig(mq)
    cfg.maxQueue = maxMessages
    cfg.maxQueueBytes = maxBytes
    cfg.queuePolicy = policy
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
    /* A plain entry is a publish: counted as it is, not made a message */
    for (const id of mq.inflight.order()) {
        if (mq.inflight.plain(id) >= 0 || mq.inflight.get(id)!.type === OUT_PUBLISH) {
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

/**
    MQTT 5.0: the properties of the server's CONNACK on this connection (its receive maximum, maximum packet
    size, assigned client id, server keep-alive...), or null (not connected, or MQTT 3.1.1).
    @example const props = mqttGetConnackProperties(mq); if (props?.assignedClientIdentifier) rInfo('app', 'id %s', props.assignedClientIdentifier)
 */
export function mqttGetConnackProperties(mq: Mqtt | null): Properties | null {
    return mq instanceof Mqtt ? mq.cfg.v5?.connack ?? null : null
}

/**
    MQTT 5 enhanced authentication: the method and first data go in the CONNECT; each challenge the broker
    sends (AUTH, Continue authentication) goes to `proc`, whose answer goes back, until the CONNACK. A proc
    that returns null gives up (the connect fails). Needs mqttSetProtocol(mq, 5) first; R_ERR_BAD_ARGS otherwise.
    @example mqttSetAuth(mq, 'SCRAM-SHA-256', clientFirst, (mq, challenge) => scram.answer(challenge))
 */
export function mqttSetAuth(mq: Mqtt | null, method: string, data: Uint8Array | null, proc: MqttAuthProc | null): number {
    if (!(mq instanceof Mqtt)) {
        return R_ERR_BAD_ARGS
    }
    const v5 = mq.cfg.v5
    if (v5 === null) {
        return setMsg(mq, R_ERR_BAD_ARGS, 'Enhanced authentication needs MQTT 5: mqttSetProtocol(mq, 5) first')
    }
    if (typeof method !== 'string' || method === '' || (data !== null && !(data instanceof Uint8Array)) || (proc !== null && typeof proc !== 'function')) {
        return setMsg(mq, R_ERR_BAD_ARGS, 'An authentication method name, data as bytes (or null) and a proc (or null)')
    }
    v5.connect.authenticationMethod = method
    if (data !== null) {
        v5.connect.authenticationData = data
    } else {
        delete v5.connect.authenticationData
    }
    v5.authProc = proc
    return 0
}
