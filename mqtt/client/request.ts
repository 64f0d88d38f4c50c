/*
    mqttRequest: request/response over MQTT, as Ioto's agent does it. The request is published (QoS 1) to
    ioto/service/{id}/{topic}/{seq}; the answer arrives on ioto/device/{id}/{topic}/{seq}. The caller's fiber
    waits for it, or for the timeout (30 s when 0 or less).
 */
import { R_ERR_BAD_ARGS } from '../../runtime/errors.js'
import { startTimer, stopTimer, type TimerEvent } from '../../runtime/events.js'
import { rDebug, rError } from '../../runtime/log.js'
import type { Fiber, Waitable } from '../../runtime/scheduler.js'
import { sfmtv } from '../../runtime/sfmt.js'
import { TPS } from '../../runtime/time.js'
import { Wait } from '../../runtime/waitable.js'
import { mqttPublish } from './publish.js'
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
    Send a request and wait for its response: the response text, or null on timeout or failure.
    @example const value = yield* mqttRequest(mq, '{"key":"counter"}', 0, 'store/get')
 */
export function* mqttRequest(mq: Mqtt | null, data: string, timeout: number, topic: string, ...args: unknown[]): Fiber<string | null> {
    if (!(mq instanceof Mqtt) || typeof topic !== 'string') {
        return null
    }
    if (typeof timeout !== 'number' || Number.isNaN(timeout)) {
        setMsg(mq, R_ERR_BAD_ARGS, `Bad timeout ${String(timeout)}: ticks, or 0 for 30 s`)
        return null
    }
    const name = args.length > 0 ? sfmtv(topic, args) : topic
    const sub = `ioto/device/${mq.id}/${name}`
    let subs = subscribed.get(mq)
    if (subs === undefined) {
        subs = new Set()
        subscribed.set(mq, subs)
    }
    if (!subs.has(sub) || !mq.topics.some(t => t.topic === `${sub}/+`)) {
        const rc = yield* mqttSubscribe(mq, response, 1, MQTT_WAIT_NONE, '%s/+', sub)
        if (rc !== 0) {
            rError('mqtt', 'Cannot subscribe for the response to %s: %s', name, mq.errorMsg)
            return null
        }
        subs.add(sub)
    }
    seq = seq >= 0x7fffffff ? 1 : seq + 1
    const w = new RequestWait(`${sub}#${seq}`)
    pending.set(w.key, w)
    w.timer = startTimer(expire, w, timeout > 0 ? timeout : 30 * TPS, true)
    const rc = yield* mqttPublish(mq, data, 0, 1, MQTT_WAIT_NONE, 'ioto/service/%s/%s/%d', mq.id, name, seq)
    if (rc !== 0) {
        pending.delete(w.key)
        stopTimer(w.timer)
        return null
    }
    return yield* (w as Waitable<string | null>)
}
