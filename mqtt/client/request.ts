/*
    mqttRequest: request/response over MQTT, as Ioto's agent does it. The request is published (QoS 1) to
    ioto/service/{id}/{topic}/{seq}; the answer arrives on ioto/device/{id}/{topic}/{seq}. The caller's fiber
    waits for it, or for the timeout (30 s when 0 or less). With MQTT 5 the request also carries its Response
    Topic (that same answer topic) and Correlation Data (the sequence number), so any MQTT 5 responder can
    answer it; an answer whose Correlation Data is not the request's is ignored.
 */
import { R_ERR_BAD_ARGS } from '../../runtime/errors.js'
import { startTimer, stopTimer, type TimerEvent } from '../../runtime/events.js'
import { rDebug, rError } from '../../runtime/log.js'
import type { Fiber, Waitable } from '../../runtime/body.js'
import { sfmtv } from '../../runtime/sfmt.js'
import { TPS } from '../../runtime/time.js'
import { Done, done, Wait } from '../../runtime/waitable.js'
import { mqttPublish, mqttPublishEx } from './publish.js'
import { Mqtt, MQTT_WAIT_NONE, setMsg, type MqttRecv } from './state.js'
import { mqttSubscribe } from './subscribe.js'

class RequestWait extends Wait<string | null> {
    timer: TimerEvent | null = null
    constructor(readonly key: string) {
        super()
    }
}

const pending = new Map<string, RequestWait>()
const subscribed = new WeakMap<Mqtt, Set<string>>()
let seq = 100

function response(rp: MqttRecv): void {
    const slash = rp.topic.lastIndexOf('/')
    const key = `${rp.topic.slice(0, slash)}#${rp.topic.slice(slash + 1)}`
    const w = pending.get(key)
    if (w === undefined) {
        rDebug('mqtt', 'Response for an unknown request: %s', rp.topic)
        return
    }
    const correlation = rp.properties?.correlationData
    if (correlation !== undefined && new TextDecoder().decode(correlation) !== rp.topic.slice(slash + 1)) {
        rDebug('mqtt', 'Response on %s with another request\'s correlation data: ignored', rp.topic)
        return
    }
    pending.delete(key)
    stopTimer(w.timer)
    w.settle(rp.text)
}

function expire(w: RequestWait): void {
    pending.delete(w.key)
    rError('mqtt', 'MQTT request timed out')
    w.settle(null)
}

/**
    Send a request and wait for its response: the response text, or null on timeout or failure. The request
    goes out at once (as C's call); the caller's `yield*` waits for the answer.
    @example const value = yield* mqttRequest(mq, '{"key":"counter"}', 0, 'store/get')
 */
export function mqttRequest(mq: Mqtt | null, data: string, timeout: number, topic: string, ...args: unknown[]): Waitable<string | null> {
    if (!(mq instanceof Mqtt) || typeof topic !== 'string') {
        return done(null)
    }
    if (typeof timeout !== 'number' || Number.isNaN(timeout)) {
        setMsg(mq, R_ERR_BAD_ARGS, `Bad timeout ${String(timeout)}: ticks, or 0 for 30 s`)
        return done(null)
    }
    const name = args.length > 0 ? sfmtv(topic, args) : topic
    const sub = `ioto/device/${mq.id}/${name}`
    let subs = subscribed.get(mq)
    if (subs === undefined) {
        subs = new Set()
        subscribed.set(mq, subs)
    }
    if (subs.has(sub) && mq.topics.some(t => t.topic === `${sub}/+`)) {
        return request(mq, data, timeout, sub, name)
    }
    const subscribing = mqttSubscribe(mq, response, 1, MQTT_WAIT_NONE, '%s/+', sub)
    if (subscribing instanceof Done) {
        return afterSubscribe(mq, subscribing.value, subs, data, timeout, sub, name)
    }
    /* No socket yet (MQTT_EVENT_ATTACH connects first): the request follows the subscription */
    return later(mq, subscribing, subs, data, timeout, sub, name)
}

function* later(mq: Mqtt, subscribing: Waitable<number>, subs: Set<string>, data: string, timeout: number, sub: string, name: string): Fiber<string | null> {
    const rc = yield* subscribing
    return yield* afterSubscribe(mq, rc, subs, data, timeout, sub, name)
}

function afterSubscribe(mq: Mqtt, rc: number, subs: Set<string>, data: string, timeout: number, sub: string, name: string): Waitable<string | null> {
    if (rc !== 0) {
        rError('mqtt', 'Cannot subscribe for the response to %s: %s', name, mq.errorMsg)
        return done(null)
    }
    subs.add(sub)
    return request(mq, data, timeout, sub, name)
}

/* Publish the request now; the waitable settles with the answer, or null */
function request(mq: Mqtt, data: string, timeout: number, sub: string, name: string): Waitable<string | null> {
    seq = seq >= 0x7fffffff ? 1 : seq + 1
    const w = new RequestWait(`${sub}#${seq}`)
    pending.set(w.key, w)
    w.timer = startTimer(expire, w, timeout > 0 ? timeout : 30 * TPS, true)
    const publishing = mq.cfg.v5 === null ?
        mqttPublish(mq, data, 0, 1, MQTT_WAIT_NONE, 'ioto/service/%s/%s/%d', mq.id, name, seq) :
        mqttPublishEx(mq, data, 0, 1, MQTT_WAIT_NONE, { properties: { responseTopic: `${sub}/${seq}`, correlationData: new TextEncoder().encode(String(seq)) } },
            'ioto/service/%s/%s/%d', mq.id, name, seq)
    if (publishing instanceof Done) {
        return publishing.value === 0 ? w : failed(w)
    }
    return afterPublish(w, publishing)
}

function* afterPublish(w: RequestWait, publishing: Waitable<number>): Fiber<string | null> {
    if ((yield* publishing) !== 0) {
        return yield* failed(w)
    }
    return yield* (w as Waitable<string | null>)
}

function failed(w: RequestWait): Waitable<null> {
    pending.delete(w.key)
    stopTimer(w.timer)
    return done(null)
}
