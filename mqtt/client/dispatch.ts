/*
    Received messages to the application: the first local subscription with a callback that matches the topic
    gets a message (Ioto's contract); a message no such subscription matches goes to the default handler
    (mqttOnMessage). With neither, the message is held (it was acknowledged: a resumed session delivers before
    the app subscribes again) until a subscription or a handler appears; the hold is bounded by maxHeld, and
    beyond it the oldest held message is dropped with a warning and counted. Callbacks that block (generator
    or async) run on fibers of their own; with maxHandlers of them running, later messages wait in order in a
    backlog and reading the socket pauses (TCP back-pressure) until one ends: the backlog holds at most what
    was already received.
 */
import { R_ERR_BAD_ARGS } from '../../runtime/errors.js'
import { isBody, rCallbackFailed, rCallbackResult, type CallbackBody } from '../../runtime/callback.js'
import { rError, rInfo } from '../../runtime/log.js'
import { allocFiber, schedule } from '../../runtime/scheduler.js'
import { holdReceiver } from '../../socket/rsocket.js'
import type { PublishPacket } from '../codec/packets.js'
import { copyBytes } from '../codec/bytes.js'
import { Mqtt, MqttRecv, setMsg, type MqttCallback, type MqttTopic } from './state.js'
import { ownConfig } from './config.js'

/** Hand a received message to its subscription, the default handler, or the hold. */
export function deliver(mq: Mqtt, p: PublishPacket): void {
    if (mq.backlog === null && mq.fiberCount < mq.cfg.maxHandlers && !mq.releasing) {
        /* The common case: a handler takes it now (one record, made with its subscription) */
        const ids = p.properties?.subscriptionIdentifiers
        const sub = ids === undefined ? route(mq, p.topic) : mq.cfg.v5?.byIdentifier(mq.topics, ids) ?? route(mq, p.topic)
        const cb = sub?.callback ?? mq.onMessage
        if (cb !== null) {
            call(mq, cb, sub, new MqttRecv(mq, p.topic, p.payload, p.payload.length, p.qos, p.retain, p.dup, p.id, sub, p.properties ?? null))
            return
        }
    }
    const rp = new MqttRecv(mq, p.topic, p.payload, p.payload.length, p.qos, p.retain, p.dup, p.id, null, p.properties ?? null)
    if (mq.backlog !== null) {
        mq.backlog.push(rp)
    } else if (mq.fiberCount >= mq.cfg.maxHandlers) {
        mq.backlog = [rp]
        holdReading(mq, true)
    } else if (mq.releasing || !handOut(mq, rp)) {
        hold(mq, rp)
    }
}

/* Reading pauses when a backlog starts and resumes when it ends */
function holdReading(mq: Mqtt, on: boolean): void {
    if (mq.sock !== null) {
        holdReceiver(mq.sock, on)
    }
}

/* A handler slot came free: the backlog goes on, in order; reading resumes once it is empty */
function drainBacklog(mq: Mqtt): void {
    const backlog = mq.backlog
    while (backlog !== null && backlog.length > 0 && mq.fiberCount < mq.cfg.maxHandlers) {
        const rp = backlog.shift()!
        if (mq.releasing || !handOut(mq, rp)) {
            hold(mq, rp)
        }
    }
    if (backlog !== null && backlog.length === 0) {
        mq.backlog = null
        holdReading(mq, false)
    }
}

/* Deliver to whoever takes the message now; false when nobody does */
function handOut(mq: Mqtt, rp: MqttRecv): boolean {
    const sub = route(mq, rp.topic)
    const cb = sub?.callback ?? mq.onMessage
    if (cb === null) {
        return false
    }
    call(mq, cb, sub, sub === null ? rp : withMatch(rp, sub))
    return true
}

function call(mq: Mqtt, cb: MqttCallback, sub: MqttTopic | null, rp: MqttRecv): void {
    let r: unknown
    try {
        r = cb(rp)
    } catch (err) {
        rCallbackFailed('mqtt', label(sub), err)
        return
    }
    if (r === undefined) {
        return
    }
    r = rCallbackResult('mqtt', label(sub), r)
    if (isBody(r)) {
        mq.fiberCount++
        schedule(allocFiber('incoming-mqtt', runCallback, [mq, r]), undefined)
    }
}

function label(sub: MqttTopic | null): string {
    return sub === null ? 'The default message handler' : sub.label
}

function withMatch(rp: MqttRecv, sub: MqttTopic): MqttRecv {
    return new MqttRecv(rp.mq, rp.topic, rp.data, rp.dataSize, rp.qos, rp.retain, rp.dup, rp.id, sub, rp.properties)
}

function* runCallback([mq, body]: [Mqtt, CallbackBody]): Generator<unknown, void, unknown> {
    try {
        yield* body
    } finally {
        mq.fiberCount--
        drainBacklog(mq)
    }
}

/* Keep a message nobody takes yet (its payload copied: the view would pin the whole received chunk) */
function hold(mq: Mqtt, rp: MqttRecv): void {
    const held = mq.held ??= []
    if (held.length === 0 && !mq.releasing) {
        rInfo('mqtt', 'Holding messages on "%s" (no subscription or default handler takes them yet)', rp.topic)
    }
    if (held.length >= mq.cfg.maxHeld) {
        const old = held.shift()!
        const n = ++mq.stats.unrouted
        /* Said for the first drop and every 100th after (a flood of unclaimed messages must not flood the log) */
        if (n === 1 || n % 100 === 0) {
            rError('mqtt', 'Held messages full (%d): dropped the oldest, on "%s" (QoS %d); %d dropped so far', mq.cfg.maxHeld, old.topic, old.qos, n)
        }
    }
    mq.stats.held++
    const data = copyBytes(rp.data)
    held.push(new MqttRecv(mq, rp.topic, data, data.length, rp.qos, rp.retain, rp.dup, rp.id, null, rp.properties))
}

/** A subscription or handler appeared: hand out the held messages it takes, in order, on a fiber. */
export function releaseHeld(mq: Mqtt): void {
    if (mq.held !== null && mq.held.length > 0 && !mq.releasing) {
        mq.releasing = true
        schedule(allocFiber('mqtt-held', release, mq), undefined)
    }
}

function release(mq: Mqtt): void {
    mq.releasing = false
    const held = mq.held!
    mq.held = null
    const kept: MqttRecv[] = []
    /* Once one message on a topic stays held, the later ones on it stay too (their order is kept) */
    const stays = new Set<string>()
    for (const rp of held) {
        if (stays.has(rp.topic) || !handOut(mq, rp)) {
            stays.add(rp.topic)
            kept.push(rp)
        }
    }
    if (kept.length > 0) {
        mq.held = mq.held === null ? kept : kept.concat(mq.held)
    }
}

const ROUTES_MAX = 1024

/** The first matching subscription with a callback, from the route cache or the index. */
function route(mq: Mqtt, topic: string): MqttTopic | null {
    let routes = mq.routes
    if (routes === null) {
        routes = mq.routes = new Map()
    }
    let sub = routes.get(topic)
    if (sub === undefined) {
        sub = mq.index?.first(topic)?.value ?? null
        if (routes.size >= ROUTES_MAX) {
            routes.clear()
        }
        routes.set(topic, sub)
    }
    return sub
}

/**
    The default message handler: gets every message that no subscription with a callback matches (plain
    functions inline, generator or async functions on a fiber of their own); null removes it. Messages held
    until now are handed to it. R_ERR_BAD_ARGS for a client or handler of the wrong type.
    @example mqttOnMessage(mq, (rp: MqttRecv) => rInfo('app', 'unclaimed %s: %s', rp.topic, rp.text))
 */
export function mqttOnMessage(mq: Mqtt | null, proc: MqttCallback | null): number {
    if (!(mq instanceof Mqtt)) {
        return R_ERR_BAD_ARGS
    }
    if (proc !== null && typeof proc !== 'function') {
        return setMsg(mq, R_ERR_BAD_ARGS, 'The message handler must be a function or null')
    }
    mq.onMessage = proc
    releaseHeld(mq)
    return 0
}

/**
    Bound what arrives for the app: `handlers` message callbacks blocked at once (generator or async) before
    reading the socket pauses (default 256), and `held` messages kept for want of a subscription or handler
    (default 1000; beyond it the oldest is dropped, with a warning). R_ERR_BAD_ARGS for values below 1.
    @example mqttSetDelivery(mq, 32, 10_000)
 */
export function mqttSetDelivery(mq: Mqtt | null, handlers: number, held: number): number {
    if (!(mq instanceof Mqtt)) {
        return R_ERR_BAD_ARGS
    }
    if (!Number.isFinite(handlers) || handlers < 1 || !Number.isFinite(held) || held < 1) {
        return setMsg(mq, R_ERR_BAD_ARGS, `Handler and hold limits must be finite and at least 1 (got ${handlers}, ${held})`)
    }
    const cfg = ownConfig(mq)
    cfg.maxHandlers = Math.floor(handlers)
    cfg.maxHeld = Math.floor(held)
    return 0
}
