/*
    A deadline for any wait. Ioto's calls that wait on the network take deadlines of their own (sockets); the
    MQTT calls wait for an event (SENT, ACK) however long the link is down. rDeadline bounds such a wait
    without changing the call: the wait ends, the operation does not (a queued message is still delivered).
 */
import { R_ERR_TIMEOUT } from './errors.js'
import { startTimer, stopTimer } from './events.js'
import { rResumeFiber } from './fiber.js'
import { currentFiber, FiberError, type RFiber } from './scheduler.js'
import type { Fiber, Waitable } from './body.js'
import { rGetTicks } from './time.js'

const EXPIRED: unique symbol = Symbol('deadline')

interface Watch {
    fiber: RFiber
    inside: boolean
}

function expire(watch: Watch): void {
    if (watch.inside) {
        /* Refused (R_ERR_BAD_STATE) when the result already woke the fiber: the result wins */
        rResumeFiber(watch.fiber, EXPIRED)
    }
}

/**
    Wait on `w` until the absolute `deadline` (ticks): evaluates to w's result, or R_ERR_TIMEOUT once the
    deadline passes first. The timed-out wait is left (a composite call's finally blocks run); what the call
    started goes on: a message queued by mqttPublish is still sent and acknowledged later. A deadline of 0 or
    less waits without limit.
    @example const rc = yield* rDeadline(mqttPublish(mq, msg, 0, MQTT_QOS_1, MQTT_WAIT_ACK, 'dev/t'), rGetTicks() + 5000)
 */
export function* rDeadline<T>(w: Waitable<T>, deadline: number): Fiber<T | number> {
    if (deadline <= 0) {
        return yield* w
    }
    const it = w[Symbol.iterator]()
    let r = it.next()
    if (r.done) {
        return r.value
    }
    const fiber = currentFiber()
    if (fiber === null) {
        throw new FiberError('Cannot wait outside a fiber: run blocking calls in a fiber (rSpawnFiber) or use the promise facade')
    }
    const watch: Watch = { fiber, inside: true }
    /* Like a sleep, a pending deadline keeps the process alive */
    const timer = startTimer(expire, watch, Math.max(0, deadline - rGetTicks()), true)
    try {
        for (;;) {
            const resumed = yield r.value
            if (resumed === EXPIRED) {
                it.return?.(undefined)
                return R_ERR_TIMEOUT
            }
            r = it.next(resumed)
            if (r.done) {
                return r.value
            }
        }
    } finally {
        watch.inside = false
        stopTimer(timer)
    }
}
