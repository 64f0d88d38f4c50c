/*
    mqttSubscribe, mqttSubscribeMaster, mqttUnsubscribe, mqttUnsubscribeMaster. A message goes to the first
    local subscription that matches it. A master subscription is one broker subscription under which later
    subscriptions are local only (no SUBSCRIBE is sent for a filter the master covers, compared level by level).
 */
import { R_ERR_BAD_ARGS, R_ERR_CANT_CONNECT, R_ERR_CANT_WRITE, R_ERR_NOT_CONNECTED } from '../../runtime/errors.js'
import type { Fiber, Waitable } from '../../runtime/body.js'
import { sfmtv } from '../../runtime/sfmt.js'
import { done } from '../../runtime/waitable.js'
import { utf8Length } from '../codec/utf8.js'
import type { Properties } from '../codec/properties.js'
import { filterCovers, topicFilterProblem } from '../topic.js'
import { TopicIndex } from '../topic-index.js'
import { releaseHeld } from './dispatch.js'
import { attachThen } from './publish.js'
import {
    Mqtt, MQTT_WAIT_ACK, MQTT_WAIT_SENT, MqttTopic, MqttWait, OUT_SUB, OUT_UNSUB, setMsg,
    waitFor, waitKind, type MqttCallback,
} from './state.js'
import { optionsProblem, type SubscribeOptions } from './config.js'
import { sendControl } from './window.js'

/** @internal Format a filter and check it: the filter, or the error code (a number). */
export function formatFilter(mq: Mqtt, topic: unknown, args: unknown[]): string | number {
    if (typeof topic !== 'string') {
        return setMsg(mq, R_ERR_BAD_ARGS, 'Missing topic filter')
    }
    /* A filter without arguments is literal (C would format it) */
    const filter = args.length > 0 ? sfmtv(topic, args) : topic
    const rc = checkFilter(mq, filter)
    return rc !== 0 ? rc : filter
}

function checkFilter(mq: Mqtt, filter: string): number {
    if (utf8Length(filter) > mq.cfg.limits.topic) {
        return setMsg(mq, R_ERR_BAD_ARGS, `Topic filter longer than ${mq.cfg.limits.topic} bytes`)
    }
    const problem = topicFilterProblem(filter)
    if (problem !== null) {
        return setMsg(mq, R_ERR_BAD_ARGS, `Bad topic filter "${filter}": ${problem.message} ${problem.rule}`)
    }
    return 0
}

/**
    Subscribe: messages matching the (printf-style) filter go to `cb` (plain functions run inline, generator
    functions on a fiber of their own). A filter under a master subscription is local only. Evaluates to 0, or
    R_ERR_BAD_ARGS (bad filter or QoS: the connection stays up), R_ERR_CANT_COMPLETE (the broker refused:
    SUBACK 0x80), R_ERR_NOT_CONNECTED (kept locally: it is made when the connection comes up).
    @example yield* mqttSubscribe(mq, incoming, MQTT_QOS_1, MQTT_WAIT_ACK, 'myDevice/change')
 */
export function mqttSubscribe(mq: Mqtt | null, cb: MqttCallback | null, maxQos: number, waitFlags: number, topic: string, ...args: unknown[]): Waitable<number> {
    if (!(mq instanceof Mqtt)) {
        return done(R_ERR_BAD_ARGS)
    }
    /* The sticky error of a lost connection, as Ioto's (the agent, which queues offline, keeps the filter for later) */
    if (mq.error !== 0 && !mq.cfg.queueOffline) {
        return done(mq.error)
    }
    const filter = formatFilter(mq, topic, args)
    if (typeof filter === 'number') {
        return done(filter)
    }
    if (maxQos !== 0 && maxQos !== 1 && maxQos !== 2) {
        return done(setMsg(mq, R_ERR_BAD_ARGS, `Bad QoS ${maxQos}: must be 0, 1 or 2`))
    }
    if (cb !== null && cb !== undefined) {
        if (typeof cb !== 'function') {
            return done(setMsg(mq, R_ERR_BAD_ARGS, 'The callback must be a function'))
        }
        addLocal(mq, filter, cb, waitFlags, maxQos)
        mq.routes = null
        releaseHeld(mq)
        if (mq.masterTopics.some(m => filterCovers(m, filter))) {
            return done(0)
        }
    }
    const one = [{ topic: filter, qos: maxQos }]
    return brokerSubscribeMulti(mq, one, one, waitFlags)
}

/**
    A master subscription: one broker subscription (no local handler); later mqttSubscribe calls for filters
    it covers are local only.
    @example yield* mqttSubscribeMaster(mq, 1, MQTT_WAIT_NONE, 'ioto/device/%s/#', deviceId)
 */
export function mqttSubscribeMaster(mq: Mqtt | null, maxQos: number, waitFlags: number, topic: string, ...args: unknown[]): Waitable<number> {
    if (!(mq instanceof Mqtt)) {
        return done(R_ERR_BAD_ARGS)
    }
    const filter = formatFilter(mq, topic, args)
    if (typeof filter === 'number') {
        return done(filter)
    }
    if (maxQos !== 0 && maxQos !== 1 && maxQos !== 2) {
        return done(setMsg(mq, R_ERR_BAD_ARGS, `Bad QoS ${maxQos}: must be 0, 1 or 2`))
    }
    if (!mq.masterTopics.includes(filter)) {
        mq.masterTopics.push(filter)
    }
    (mq.masterQos ??= new Map()).set(filter, maxQos)
    return mqttSubscribe(mq, null, maxQos, waitFlags, '%s', filter)
}

/**
    Several master subscriptions in one SUBSCRIBE (filters literal): as mqttSubscribeMaster for each, every
    filter and QoS checked first. Evaluates as mqttSubscribeMulti.
    @example yield* mqttSubscribeMasterMulti(mq, [{ topic: 'ioto/device/dev-1/#', qos: 1 }, { topic: 'fleet/#', qos: 0 }], MQTT_WAIT_NONE)
 */
export function mqttSubscribeMasterMulti(mq: Mqtt | null, subs: { topic: string, qos: number }[], waitFlags: number, granted?: number[]): Waitable<number> {
    if (!(mq instanceof Mqtt) || !Array.isArray(subs)) {
        return done(R_ERR_BAD_ARGS)
    }
    for (const s of subs) {
        const rc = s === null || typeof s !== 'object' || typeof s.topic !== 'string' ? setMsg(mq, R_ERR_BAD_ARGS, 'Missing topic filter') : checkFilter(mq, s.topic)
        if (rc !== 0) {
            return done(rc)
        }
        if (s.qos !== 0 && s.qos !== 1 && s.qos !== 2) {
            return done(setMsg(mq, R_ERR_BAD_ARGS, `Bad QoS ${s.qos} for "${s.topic}": must be 0, 1 or 2`))
        }
    }
    for (const s of subs) {
        if (!mq.masterTopics.includes(s.topic)) {
            mq.masterTopics.push(s.topic)
        }
        (mq.masterQos ??= new Map()).set(s.topic, s.qos)
    }
    return mqttSubscribeMulti(mq, subs.map(s => ({ topic: s.topic, qos: s.qos })), waitFlags, granted)
}

/* A local subscription: in the index (for routing) and at the end of the list (when it is made) */
function addLocal(mq: Mqtt, filter: string, cb: MqttCallback, waitFlags: number, qos: number): void {
    const sub = new MqttTopic(filter, cb, waitFlags, qos, mq.granted ??= new Map())
    sub.entry = (mq.index ??= new TopicIndex()).add(filter, sub)
    mq.topicList?.push(sub)
}

/* The local subscriptions with this filter, found in the index by its levels */
function removeLocal(mq: Mqtt, filter: string): void {
    mq.routes = null
    mq.cfg.v5?.subOptions.delete(filter)
    mq.later?.delete(filter)
    const entries = mq.index?.withFilter(filter) ?? []
    for (const e of entries) {
        mq.index!.remove(e)
    }
    if (entries.length > 0) {
        mq.topicList = null
    }
}

/**
    Unsubscribe (the topic is literal, not a format): the local subscriptions with this exact filter are
    removed; an UNSUBSCRIBE goes to the broker unless a master subscription covers the filter.
    @example yield* mqttUnsubscribe(mq, 'myDevice/unsub', MQTT_WAIT_NONE)
 */
export function mqttUnsubscribe(mq: Mqtt | null, topic: string, waitFlags: number): Waitable<number> {
    return unsubscribe(mq, topic, waitFlags, {})
}

/** @internal mqttUnsubscribe with the UNSUBSCRIBE's properties (MQTT 5, checked by the caller) */
export function unsubscribe(mq: Mqtt | null, topic: string, waitFlags: number, properties: Properties): Waitable<number> {
    if (!(mq instanceof Mqtt) || typeof topic !== 'string') {
        return done(R_ERR_BAD_ARGS)
    }
    const rc = checkFilter(mq, topic)
    if (rc !== 0) {
        return done(rc)
    }
    removeLocal(mq, topic)
    if (mq.masterTopics.some(m => m !== topic && filterCovers(m, topic))) {
        return done(0)
    }
    return brokerUnsubscribe(mq, [topic], waitFlags, properties)
}

/**
    Unsubscribe a master subscription (and local subscriptions with the same filter) at the broker.
    @example yield* mqttUnsubscribeMaster(mq, 'ioto/device/dev-1/#', MQTT_WAIT_ACK)
 */
export function mqttUnsubscribeMaster(mq: Mqtt | null, topic: string, waitFlags: number): Waitable<number> {
    if (!(mq instanceof Mqtt) || typeof topic !== 'string') {
        return done(R_ERR_BAD_ARGS)
    }
    const rc = checkFilter(mq, topic)
    if (rc !== 0) {
        return done(rc)
    }
    mq.masterTopics = mq.masterTopics.filter(m => m !== topic)
    mq.masterQos?.delete(topic)
    mq.later?.delete(topic)
    removeLocal(mq, topic)
    return brokerUnsubscribe(mq, [topic], waitFlags)
}

function brokerUnsubscribe(mq: Mqtt, topics: string[], waitFlags: number, properties: Properties = {}): Waitable<number> {
    if (mq.sock === null) {
        return mq.proc !== null ? attachThen(mq, () => brokerUnsubscribe(mq, topics, waitFlags, properties)) :
            done(setMsg(mq, R_ERR_CANT_WRITE, 'No socket: connect first'))
    }
    if (!mq.connected || !mq.processing) {
        /* Nothing to undo at the broker now: a clean session starts without it, and it is not resubscribed */
        return done(waitFlags & (MQTT_WAIT_ACK | MQTT_WAIT_SENT) ? R_ERR_CANT_CONNECT : 0)
    }
    const w = waitFor(waitFlags)
    if (sendControl(mq, OUT_UNSUB, topics, 0, w, waitKind(waitFlags), properties) === null) {
        return done(setMsg(mq, R_ERR_CANT_WRITE, 'No free packet id'))
    }
    return w === null ? done(0) : mapFailure(w)
}

function* mapFailure(w: MqttWait): Fiber<number> {
    const rc = yield* (w as Waitable<number>)
    return rc === R_ERR_NOT_CONNECTED ? R_ERR_CANT_CONNECT : rc
}

/** One filter of a multi-filter subscribe: the filter (literal), its maximum QoS and, optionally, its callback. */
export interface MqttSubscription {
    topic: string
    qos: number
    callback?: MqttCallback | null
    /** MQTT 5 subscription options (as mqttSubscribeEx's; one subscription identifier per packet) */
    options?: SubscribeOptions | null
}

/**
    Subscribe to several filters in one SUBSCRIBE packet. Every filter, QoS and callback is checked before
    anything is kept or written (R_ERR_BAD_ARGS names the bad one). `granted`, when given, receives the
    broker's return code per filter in request order (the granted QoS, or 0x80 for a refusal; a filter under
    a master subscription gets the master's). Evaluates to 0, R_ERR_CANT_COMPLETE when any filter was refused,
    R_ERR_NOT_CONNECTED (kept: made when the connection comes up), or R_ERR_CANT_WRITE.
    @example const granted: number[] = []; yield* mqttSubscribeMulti(mq, [{ topic: 'a/#', qos: 1, callback: onA }, { topic: 'b', qos: 2 }], MQTT_WAIT_ACK, granted)
 */
export function mqttSubscribeMulti(mq: Mqtt | null, subs: MqttSubscription[], waitFlags: number, granted?: number[]): Waitable<number> {
    if (!(mq instanceof Mqtt)) {
        return done(R_ERR_BAD_ARGS)
    }
    /* The sticky error of a lost connection, as Ioto's (the agent, which queues offline, keeps the filter for later) */
    if (mq.error !== 0 && !mq.cfg.queueOffline) {
        return done(mq.error)
    }
    if (!Array.isArray(subs) || subs.length === 0) {
        return done(setMsg(mq, R_ERR_BAD_ARGS, 'No topic filters'))
    }
    for (const s of subs) {
        const rc = s === null || typeof s !== 'object' ? setMsg(mq, R_ERR_BAD_ARGS, 'Each subscription needs a topic and a QoS') :
            typeof s.topic !== 'string' ? setMsg(mq, R_ERR_BAD_ARGS, 'Missing topic filter') : checkFilter(mq, s.topic)
        if (rc !== 0) {
            return done(rc)
        }
        if (s.qos !== 0 && s.qos !== 1 && s.qos !== 2) {
            return done(setMsg(mq, R_ERR_BAD_ARGS, `Bad QoS ${s.qos} for "${s.topic}": must be 0, 1 or 2`))
        }
        if (s.callback !== undefined && s.callback !== null && typeof s.callback !== 'function') {
            return done(setMsg(mq, R_ERR_BAD_ARGS, `The callback for "${s.topic}" must be a function`))
        }
        const problem = s.options !== undefined && s.options !== null ? optionsProblem(mq, s.options, s.topic) : null
        if (problem !== null) {
            return done(setMsg(mq, R_ERR_BAD_ARGS, `${problem} ("${s.topic}")`))
        }
    }
    for (const s of subs) {
        if (s.options !== undefined && s.options !== null && mq.cfg.v5 !== null) {
            mq.cfg.v5.subOptions.set(s.topic, { ...s.options })
        }
    }
    const broker: MqttSubscription[] = []
    const codes: number[] = subs.map(s => s.qos)
    for (let i = 0; i < subs.length; i++) {
        const s = subs[i]
        if (s.callback) {
            addLocal(mq, s.topic, s.callback, waitFlags, s.qos)
        }
        const master = s.callback ? mq.masterTopics.find(m => filterCovers(m, s.topic)) : undefined
        if (master !== undefined) {
            codes[i] = mq.granted?.get(master) ?? masterQosOf(mq, master)
        } else {
            broker.push(s)
        }
    }
    mq.routes = null
    releaseHeld(mq)
    if (granted !== undefined) {
        granted.length = 0
        granted.push(...codes)
    }
    return broker.length === 0 ? done(0) : brokerSubscribeMulti(mq, subs, broker, waitFlags, granted)
}

function masterQosOf(mq: Mqtt, filter: string): number {
    return mq.masterQos?.get(filter) ?? 1
}

function brokerSubscribeMulti(mq: Mqtt, all: MqttSubscription[], broker: MqttSubscription[], waitFlags: number, granted?: number[]): Waitable<number> {
    if (mq.sock === null) {
        return mq.proc !== null ? attachThen(mq, () => brokerSubscribeMulti(mq, all, broker, waitFlags, granted)) :
            done(setMsg(mq, R_ERR_CANT_WRITE, 'No socket: connect first'))
    }
    if (!mq.connected || !mq.processing) {
        for (const s of broker) {
            (mq.later ??= new Map()).set(s.topic, s.qos)
        }
        return done(setMsg(mq, R_ERR_NOT_CONNECTED, 'Not connected: the subscriptions are made when the connection comes up'))
    }
    const w = waitFor(waitFlags)
    const msg = sendControl(mq, OUT_SUB, broker.map(s => s.topic), broker.map(s => s.qos), w, waitKind(waitFlags))
    if (msg === null) {
        return done(setMsg(mq, R_ERR_CANT_WRITE, 'No free packet id'))
    }
    if (granted !== undefined) {
        /* The SUBACK's codes land in the caller's array, at each broker filter's place in the request */
        msg.granted = granted
        msg.grantedAt = broker.map(s => all.indexOf(s))
    }
    return w ?? done(0)
}

/**
    Unsubscribe several filters (literal) in one UNSUBSCRIBE packet: all are checked before anything is
    changed; the local subscriptions with those filters go, and the filters not under a master subscription
    go to the broker. Evaluates as mqttUnsubscribe.
    @example yield* mqttUnsubscribeMulti(mq, ['a/#', 'b'], MQTT_WAIT_ACK)
 */
export function mqttUnsubscribeMulti(mq: Mqtt | null, topics: string[], waitFlags: number): Waitable<number> {
    if (!(mq instanceof Mqtt) || !Array.isArray(topics) || topics.length === 0) {
        return done(mq instanceof Mqtt ? setMsg(mq, R_ERR_BAD_ARGS, 'No topic filters') : R_ERR_BAD_ARGS)
    }
    for (const topic of topics) {
        const rc = typeof topic !== 'string' ? setMsg(mq, R_ERR_BAD_ARGS, 'Missing topic filter') : checkFilter(mq, topic)
        if (rc !== 0) {
            return done(rc)
        }
    }
    const broker: string[] = []
    for (const topic of topics) {
        removeLocal(mq, topic)
        if (!mq.masterTopics.some(m => m !== topic && filterCovers(m, topic))) {
            broker.push(topic)
        }
    }
    return broker.length === 0 ? done(0) : brokerUnsubscribe(mq, broker, waitFlags)
}

/**
    The broker's return code for a filter from its last SUBACK: the granted QoS (0, 1, 2), 0x80 (refused), or
    -1 when it has not answered for that filter.
    @example if (mqttGetGranted(mq, 'cmd/#') === 0x80) rError('app', 'not allowed to subscribe')
 */
export function mqttGetGranted(mq: Mqtt | null, filter: string): number {
    return mq instanceof Mqtt ? mq.granted?.get(filter) ?? -1 : -1
}
