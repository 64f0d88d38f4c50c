/*
    mqttPublish, mqttPublishRetained and mqttPing. The call acts at once: a QoS 0 message, or a QoS 1/2 message
    the in-flight window has room for, is encoded into the write buffer now (one encode, one socket write per
    tick); others wait in order in the queue. The wait flags choose what the caller waits for:
    NONE - queued; SENT - its bytes handed to the socket; ACK - PUBACK (QoS 1) or PUBCOMP (QoS 2).
 */
import type { Properties } from '../codec/properties.js'
import { varintSize } from '../codec/varint.js'
import {
    R_ERR_BAD_ARGS, R_ERR_CANT_WRITE, R_ERR_NOT_CONNECTED, R_ERR_TOO_MANY, R_ERR_WONT_FIT,
} from '../../runtime/errors.js'
import { rCallback, rRunResult } from '../../runtime/callback.js'
import { rSleep } from '../../runtime/events.js'
import type { Fiber, Waitable } from '../../runtime/body.js'
import { sfmtv } from '../../runtime/sfmt.js'
import { rGetTicks } from '../../runtime/time.js'
import { done } from '../../runtime/waitable.js'
import { encodeTopic } from '../codec/encode-publish.js'
import { allocBytes, copyBytes } from '../codec/bytes.js'
import type { MqttCodecError } from '../codec/errors.js'
import { sendPing } from './keepalive.js'
import {
    Mqtt, MQTT_EVENT_ATTACH, MQTT_WAIT_ACK, MQTT_WAIT_SENT, MqttWait, OUT_PUBLISH, OutMsg,
    setMsg, waitFor, waitKind,
} from './state.js'
import { dropOldest, enqueue, enqueuePlain, queueFull, roomWait, sendPublish, windowOpen, writeQos0 } from './window.js'
import { waitSent } from './wire.js'

const encoder = new TextEncoder()

/**
    Publish `msg` (`size` bytes; 0 or less: the whole string, or up to the first zero byte) to a printf-style
    topic. Evaluates to 0, or R_ERR_BAD_ARGS (bad QoS, topic or message: the connection stays up),
    R_ERR_WONT_FIT (over mqttSetMessageSize), R_ERR_NOT_CONNECTED, R_ERR_CANT_WRITE (no socket), or the
    connection's sticky error.
    @example yield* mqttPublish(mq, 'Initialized', 0, MQTT_QOS_1, MQTT_WAIT_NONE, 'myDevice/init')
    @example yield* mqttPublish(mq, reading, 0, MQTT_QOS_0, MQTT_WAIT_NONE, 'dev/%s/temp', deviceId)
 */
export function mqttPublish(mq: Mqtt | null, msg: Uint8Array | string | null, size: number, qos: number, waitFlags: number,
    topic: string | null, ...args: unknown[]): Waitable<number> {
    return publish(mq, msg, size, qos, waitFlags, false, topic, args)
}

/**
    As mqttPublish, with the RETAIN flag: the broker keeps the message for future subscribers.
    @example yield* mqttPublishRetained(mq, 'online', 0, MQTT_QOS_1, MQTT_WAIT_ACK, 'devices/%s/status', id)
 */
export function mqttPublishRetained(mq: Mqtt | null, msg: Uint8Array | string | null, size: number, qos: number, waitFlags: number,
    topic: string | null, ...args: unknown[]): Waitable<number> {
    return publish(mq, msg, size, qos, waitFlags, true, topic, args)
}

/**
    As mqttPublish, with what MQTT 5 adds: `options.properties` (message expiry, content type, payload format,
    response topic, correlation data, user properties) and `options.retain`. The properties need an MQTT 5
    client (mqttSetProtocol); a payload marked as UTF-8 (payloadFormatIndicator 1) must be UTF-8. R_ERR_BAD_ARGS
    otherwise, or for a property PUBLISH may not carry from a client (Topic Alias, Subscription Identifier).
    @example yield* mqttPublishEx(mq, json, 0, MQTT_QOS_1, MQTT_WAIT_ACK, { properties: { contentType: 'application/json', messageExpiryInterval: 60 } }, 'dev/%s/state', id)
 */
export function mqttPublishEx(mq: Mqtt | null, msg: Uint8Array | string | null, size: number, qos: number, waitFlags: number,
    options: { retain?: boolean, properties?: Properties } | null, topic: string | null, ...args: unknown[]): Waitable<number> {
    return publish(mq, msg, size, qos, waitFlags, options?.retain === true, topic, args, options?.properties ?? null)
}

function publish(mq: Mqtt | null, msg: Uint8Array | string | null, size: number, qos: number, waitFlags: number, retain: boolean,
    topicFmt: string | null, args: unknown[], properties: Properties | null = null): Waitable<number> {
    if (!(mq instanceof Mqtt)) {
        return done(R_ERR_BAD_ARGS)
    }
    if (msg === null || msg === undefined || (typeof msg !== 'string' && !(msg instanceof Uint8Array))) {
        return done(setMsg(mq, R_ERR_BAD_ARGS, 'The message must be a string or bytes'))
    }
    if (typeof topicFmt !== 'string' || topicFmt.length === 0 || topicFmt.charCodeAt(0) <= 0x20) {
        return done(setMsg(mq, R_ERR_BAD_ARGS, 'Missing topic, or a topic starting with white space'))
    }
    /* Ioto's sticky error: after a fatal error, publishing fails until the next connect (not for retained
       publishes, nor when the agent queues offline) */
    if (mq.error !== 0 && !retain && !mq.cfg.queueOffline) {
        return done(mq.error)
    }
    /* A topic without arguments is literal: "fmt/50%off" is that topic (C would format it) */
    const topic = args.length > 0 ? sfmtv(topicFmt, args) : topicFmt
    let topicBytes: Uint8Array
    try {
        topicBytes = encodeTopic(topic)
    } catch (err) {
        return done(setMsg(mq, R_ERR_BAD_ARGS, `Bad topic "${topic}": ${(err as MqttCodecError).message}`))
    }
    if (topicBytes.length - 2 > mq.cfg.limits.topic) {
        return done(setMsg(mq, R_ERR_BAD_ARGS, `Topic longer than ${mq.cfg.limits.topic} bytes`))
    }
    if (qos !== 0 && qos !== 1 && qos !== 2) {
        return done(setMsg(mq, R_ERR_BAD_ARGS, `Bad QoS ${qos}: must be 0, 1 or 2`))
    }
    if (typeof size !== 'number' || Number.isNaN(size)) {
        return done(setMsg(mq, R_ERR_BAD_ARGS, `Bad size ${String(size)}: a number of bytes, or 0 for the whole message`))
    }
    const payload = bytesOf(msg, Math.floor(size))
    if (payload === null) {
        return done(setMsg(mq, R_ERR_BAD_ARGS, `Size ${size} is larger than the message`))
    }
    if (payload.length > mq.maxMessage || topicBytes.length + 2 + payload.length >= mq.maxMessage + 2) {
        return done(setMsg(mq, R_ERR_WONT_FIT, `Message of ${payload.length} bytes exceeds the maximum of ${mq.maxMessage}`))
    }
    let props: Uint8Array | null = null
    if (properties !== null) {
        const encoded = mq.cfg.v5 === null ? 'Message properties need MQTT 5: mqttSetProtocol(mq, 5) first' :
            mq.cfg.v5.publishProperties(properties, payload)
        if (typeof encoded === 'string') {
            return done(setMsg(mq, R_ERR_BAD_ARGS, encoded))
        }
        props = encoded
    }
    const serverMax = mq.cfg.v5?.connack?.maximumPacketSize
    if (serverMax !== undefined) {
        /* MQTT 5: the server's Maximum Packet Size is a limit for the client to keep [MQTT-3.2.2-15] */
        const rem = topicBytes.length + (qos > 0 ? 2 : 0) + (props?.length ?? 1) + payload.length
        const total = 1 + varintSize(rem) + rem
        if (total > serverMax) {
            return done(setMsg(mq, R_ERR_WONT_FIT, `PUBLISH of ${total} bytes is over the broker's Maximum Packet Size of ${serverMax} [MQTT-3.2.2-15]`))
        }
    }
    if (mq.sock === null && mq.proc !== null && !mq.cfg.queueOffline) {
        const kept = copyBytes(payload)
        return attachThen(mq, () => send(mq, topic, topicBytes, kept, qos, waitFlags, retain, props))
    }
    if (mq.throttle > 0) {
        return throttled(mq, topic, topicBytes, payload, qos, waitFlags, retain, props)
    }
    return send(mq, topic, topicBytes, payload, qos, waitFlags, retain, props)
}

/* A queued message's own copy of its payload: small ones share slabs (no buffer of their own each) */
function copyOf(payload: Uint8Array): Uint8Array {
    const copy = allocBytes(payload.length)
    copy.set(payload)
    return copy
}

/** The payload bytes: size <= 0 means a C string (to the first zero byte). */
function bytesOf(msg: Uint8Array | string, size: number): Uint8Array | null {
    if (typeof msg === 'string') {
        if (size <= 0) {
            const nul = msg.indexOf('\u0000')
            return encoder.encode(nul < 0 ? msg : msg.slice(0, nul))
        }
        const all = encoder.encode(msg)
        return size > all.length ? null : all.subarray(0, size)
    }
    if (size <= 0) {
        const nul = msg.indexOf(0)
        return nul < 0 ? msg : msg.subarray(0, nul)
    }
    return size > msg.length ? null : size === msg.length ? msg : msg.subarray(0, size)
}

function send(mq: Mqtt, topic: string, topicBytes: Uint8Array, payload: Uint8Array, qos: number, waitFlags: number, retain: boolean, props: Uint8Array | null): Waitable<number> {
    if (mq.sock === null && !mq.cfg.queueOffline) {
        return done(setMsg(mq, R_ERR_CANT_WRITE, 'No socket: connect first'))
    }
    if (qos === 0) {
        /* QoS 0 has no acknowledgement: as in C, ACK is dropped (SENT stays) */
        waitFlags &= ~MQTT_WAIT_ACK
    }
    if (mq.connected && mq.processing) {
        if (qos === 0 && mq.pending.length === 0) {
            return writeQos0(mq, topicBytes, payload, retain, waitFlags, props)
        }
        if (qos > 0 && windowOpen(mq)) {
            return sendNow(mq, topic, topicBytes, payload, qos, waitFlags, retain, props)
        }
    } else if (!mq.cfg.queueOffline || (qos === 0 && mq.cfg.qos0Offline === 'drop')) {
        return done(setMsg(mq, R_ERR_NOT_CONNECTED, 'Not connected'))
    }
    return queue(mq, topic, topicBytes, payload, qos, waitFlags, retain, props)
}

/* QoS 1/2 with room in the window: stored (if there is a store), then on the wire now */
function sendNow(mq: Mqtt, topic: string, topicBytes: Uint8Array, payload: Uint8Array, qos: number, waitFlags: number, retain: boolean, props: Uint8Array | null): Waitable<number> {
    const w = waitFor(waitFlags)
    const msg = new OutMsg(OUT_PUBLISH, qos, retain, topic, topicBytes, payload, w, waitKind(waitFlags))
    msg.props = props
    if (!stored(mq, msg)) {
        return done(setMsg(mq, R_ERR_CANT_WRITE, mq.cfg.outbox!.lastError))
    }
    mq.stats.published++
    if (!sendPublish(mq, msg)) {
        /* No free packet id: it waits in the queue */
        enqueue(mq, msg)
        msg.payload = copyOf(payload)
    }
    return w ?? done(0)
}

/* Behind the window, or offline: queue it (copying the payload, which the caller may reuse); the policy decides when full */
function queue(mq: Mqtt, topic: string, topicBytes: Uint8Array, payload: Uint8Array, qos: number, waitFlags: number, retain: boolean, props: Uint8Array | null): Waitable<number> {
    if (queueFull(mq)) {
        if (mq.cfg.queuePolicy === 'reject' || mq.cfg.queuePolicy === 'drop-newest') {
            if (mq.cfg.queuePolicy === 'drop-newest') {
                mq.stats.dropped++
            }
            return done(setMsg(mq, R_ERR_TOO_MANY, `Outbound queue full (${mq.pending.length} messages, ${mq.pendingBytes} bytes)`))
        }
        if (mq.cfg.queuePolicy === 'drop-oldest') {
            dropOldest(mq)
        }
    }
    const w = waitFor(waitFlags)
    if (w === null && props === null && (qos === 0 || mq.cfg.outbox === null)) {
        /* Nothing to wait on, store or carry: kept as a slot, no message object until it leaves the queue */
        mq.stats.published++
        enqueuePlain(mq, topic, topicBytes, payload, qos, retain)
    } else {
        const msg = new OutMsg(OUT_PUBLISH, qos, retain, topic, topicBytes, copyOf(payload), w, waitKind(waitFlags))
        msg.props = props
        if (qos > 0 && !stored(mq, msg)) {
            return done(setMsg(mq, R_ERR_CANT_WRITE, mq.cfg.outbox!.lastError))
        }
        mq.stats.published++
        enqueue(mq, msg)
    }
    if (!mq.connected) {
        mq.cfg.onQueued?.(mq)
    }
    if (w !== null) {
        return w
    }
    return queueFull(mq) && mq.cfg.queuePolicy === 'wait' ? roomWait(mq) : done(0)
}

/* Keep a QoS 1/2 message in the durable store first, if there is one: false (and nothing sent) when it cannot be */
function stored(mq: Mqtt, msg: OutMsg): boolean {
    return mq.cfg.outbox === null || mq.cfg.outbox.added(msg) === 0
}

/**
    On-demand connection: with no socket, the event proc gets MQTT_EVENT_ATTACH and is expected to connect
    (a generator proc runs to completion first).
 */
export function* attach(mq: Mqtt): Fiber<void> {
    const proc = mq.proc
    if (proc === null) {
        return
    }
    yield* rRunResult(rCallback('mqtt', 'Event proc on MQTT_EVENT_ATTACH', proc, mq, MQTT_EVENT_ATTACH))
}

/** With no socket: attach (MQTT_EVENT_ATTACH), then make the call; R_ERR_CANT_WRITE when the proc did not connect. */
export function* attachThen(mq: Mqtt, then: () => Waitable<number>): Fiber<number> {
    yield* attach(mq)
    if (mq.sock === null) {
        return setMsg(mq, R_ERR_CANT_WRITE, 'No socket after MQTT_EVENT_ATTACH')
    }
    return yield* then()
}

/* Ioto's cloud throttle: sleep `throttle` ms before each publish (even with MQTT_WAIT_NONE), then let it decay */
function* throttled(mq: Mqtt, topic: string, topicBytes: Uint8Array, payload: Uint8Array, qos: number, waitFlags: number, retain: boolean, props: Uint8Array | null): Fiber<number> {
    const now = rGetTicks()
    const elapsed = now - mq.throttleLastPub + 999
    payload = copyBytes(payload)
    yield* rSleep(mq.throttle)
    const decay = Math.floor(mq.throttle * Math.floor(elapsed / 1000) / 400 + elapsed * 2 / 1000)
    mq.throttle = Math.max(0, mq.throttle - decay)
    mq.throttleLastPub = now
    return yield* send(mq, topic, topicBytes, payload, qos, waitFlags, retain, props)
}

/**
    Send a PINGREQ. As in C it does not wait, unless waitFlags includes MQTT_WAIT_ACK (then it waits for the
    PINGRESP). R_ERR_BAD_ARGS for null; the sticky error; R_ERR_CANT_WRITE without a socket.
    @example const rc = yield* mqttPing(mq, MQTT_WAIT_ACK)   // 0 once PINGRESP arrives
 */
export function mqttPing(mq: Mqtt | null, waitFlags = 0): Waitable<number> {
    if (!(mq instanceof Mqtt)) {
        return done(R_ERR_BAD_ARGS)
    }
    if (mq.error !== 0) {
        return done(mq.error)
    }
    if (mq.sock === null) {
        return mq.proc !== null ? attachThen(mq, () => mqttPing(mq, waitFlags)) : done(setMsg(mq, R_ERR_CANT_WRITE, 'No socket: connect first'))
    }
    if (!mq.processing || !mq.connected) {
        return done(setMsg(mq, R_ERR_NOT_CONNECTED, 'Not connected'))
    }
    sendPing(mq)
    if (waitFlags & MQTT_WAIT_ACK) {
        const w = new MqttWait()
        ;(mq.pingWaiters ??= []).push(w)
        return w
    }
    if (waitFlags & MQTT_WAIT_SENT) {
        const w = new MqttWait()
        waitSent(mq, w)
        return w
    }
    return done(0)
}
