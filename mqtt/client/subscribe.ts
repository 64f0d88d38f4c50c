/*
    mqttSubscribe, mqttSubscribeMaster, mqttUnsubscribe, mqttUnsubscribeMaster. A message goes to the first
    local subscription that matches it. A master subscription is one broker subscription under which later
    subscriptions are local only (no SUBSCRIBE is sent for a filter the master covers, compared level by level).
 */
import { R_ERR_BAD_ARGS, R_ERR_CANT_CONNECT, R_ERR_CANT_WRITE, R_ERR_NOT_CONNECTED } from '../../runtime/errors.js'
import type { Fiber, Waitable } from '../../runtime/scheduler.js'
import { sfmtv } from '../../runtime/sfmt.js'
import { done } from '../../runtime/waitable.js'
import { utf8Length } from '../codec/utf8.js'
import { filterCovers, topicFilterProblem } from '../topic.js'
import { TopicIndex } from '../topic-index.js'
import { releaseHeld } from './dispatch.js'
import { attach } from './publish.js'
import {
    Mqtt, MQTT_WAIT_ACK, MQTT_WAIT_SENT, MqttTopic, MqttWait, OUT_SUB, OUT_UNSUB, setMsg,
    type MqttCallback,
} from './state.js'
import { sendControl } from './window.js'

/** Format a filter and check it: the filter, or the error code (a number). */
function formatFilter(mq: Mqtt, topic: unknown, args: unknown[]): string | number {
    if (typeof topic !== 'string') {
        return setMsg(mq, R_ERR_BAD_ARGS, 'Missing topic filter')
    }
    /* A filter without arguments is literal (C would format it) */
    const filter = args.length > 0 ? sfmtv(topic, args) : topic
    const rc = checkFilter(mq, filter)
    return rc !== 0 ? rc : filter
}

function checkFilter(mq: Mqtt, filter: string): number {
    if (utf8Length(filter) > mq.limits.topic) {
        return setMsg(mq, R_ERR_BAD_ARGS, `Topic filter longer than ${mq.limits.topic} bytes`)
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
    if (mq.error !== 0 && mq.linkUp) {
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
        const sub = new MqttTopic(filter, cb, waitFlags, maxQos)
        sub.entry = (mq.index ??= new TopicIndex()).add(filter, sub)
        mq.routes = null
        mq.topics.push(sub)
        releaseHeld(mq)
        if (mq.masterTopics.some(m => filterCovers(m, filter))) {
            return done(0)
        }
    }
    return brokerSubscribe(mq, filter, maxQos, waitFlags)
}

function brokerSubscribe(mq: Mqtt, filter: string, maxQos: number, waitFlags: number): Waitable<number> {
    if (mq.sock === null) {
        return mq.proc !== null ? attachThen(mq, () => brokerSubscribe(mq, filter, maxQos, waitFlags)) :
            done(setMsg(mq, R_ERR_CANT_WRITE, 'No socket: connect first'))
    }
    if (!mq.connected || !mq.linkUp) {
        (mq.later ??= new Map()).set(filter, maxQos)
        return done(setMsg(mq, R_ERR_NOT_CONNECTED, 'Not connected: the subscription is made when the connection comes up'))
    }
    const w = waitFlags & (MQTT_WAIT_ACK | MQTT_WAIT_SENT) ? new MqttWait() : null
    if (sendControl(mq, OUT_SUB, [filter], maxQos, w, waitFlags & MQTT_WAIT_ACK ? MQTT_WAIT_ACK : waitFlags & MQTT_WAIT_SENT) === null) {
        return done(setMsg(mq, R_ERR_CANT_WRITE, 'No free packet id'))
    }
    return w ?? done(0)
}

function* attachThen(mq: Mqtt, then: () => Waitable<number>): Fiber<number> {
    yield* attach(mq)
    if (mq.sock === null) {
        return setMsg(mq, R_ERR_CANT_WRITE, 'No socket after MQTT_EVENT_ATTACH')
    }
    return yield* then()
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

function removeLocal(mq: Mqtt, filter: string): void {
    mq.routes = null
    mq.later?.delete(filter)
    mq.topics = mq.topics.filter(t => {
        if (t.topic === filter) {
            mq.index!.remove(t.entry!)
            return false
        }
        return true
    })
}

/**
    Unsubscribe (the topic is literal, not a format): the local subscriptions with this exact filter are
    removed; an UNSUBSCRIBE goes to the broker unless a master subscription covers the filter.
    @example yield* mqttUnsubscribe(mq, 'myDevice/unsub', MQTT_WAIT_NONE)
 */
export function mqttUnsubscribe(mq: Mqtt | null, topic: string, waitFlags: number): Waitable<number> {
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
    return brokerUnsubscribe(mq, topic, waitFlags)
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
    return brokerUnsubscribe(mq, topic, waitFlags)
}

function brokerUnsubscribe(mq: Mqtt, topic: string, waitFlags: number): Waitable<number> {
    if (mq.sock === null) {
        return mq.proc !== null ? attachThen(mq, () => brokerUnsubscribe(mq, topic, waitFlags)) :
            done(setMsg(mq, R_ERR_CANT_WRITE, 'No socket: connect first'))
    }
    if (!mq.connected || !mq.linkUp) {
        /* Nothing to undo at the broker now: a clean session starts without it, and it is not resubscribed */
        return done(waitFlags & (MQTT_WAIT_ACK | MQTT_WAIT_SENT) ? R_ERR_CANT_CONNECT : 0)
    }
    const w = waitFlags & (MQTT_WAIT_ACK | MQTT_WAIT_SENT) ? new MqttWait() : null
    if (sendControl(mq, OUT_UNSUB, [topic], 0, w, waitFlags & MQTT_WAIT_ACK ? MQTT_WAIT_ACK : waitFlags & MQTT_WAIT_SENT) === null) {
        return done(setMsg(mq, R_ERR_CANT_WRITE, 'No free packet id'))
    }
    return w === null ? done(0) : mapFailure(w)
}

function* mapFailure(w: MqttWait): Fiber<number> {
    const rc = yield* (w as Waitable<number>)
    return rc === R_ERR_NOT_CONNECTED ? R_ERR_CANT_CONNECT : rc
}
