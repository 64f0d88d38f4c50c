/*
    Keep-alive and idle timeout. A PINGREQ goes out once the client has sent nothing for half the keep-alive
    (so its packets are never further apart than the keep-alive [MQTT-3.1.2-23], with room for a late timer
    on a busy machine), or received nothing for 3/4 of it; if no byte then arrives within 1.25x the
    keep-alive of the last one, the link is dead and the connection ends (a dead link is noticed within 1.5x
    the keep-alive). The verdict is given after one more turn of I/O, so a process that was itself busy past
    that time reads a PINGRESP already waiting before it blames the broker. A keep-alive of 0 is off: no pings
    of its own; a ping the app sends is answered within msgTimeout, or the link is dead. The idle timeout only
    raises MQTT_EVENT_TIMEOUT, as in Ioto. The same timer resends what waited past msgTimeout for its
    acknowledgement, and lets a quiet connection's free write slabs go.
 */
import { R_ERR_TIMEOUT } from '../../runtime/errors.js'
import { startTimer, stopTimer } from '../../runtime/events.js'
import { rInfo } from '../../runtime/log.js'
import { rGetTicks } from '../../runtime/time.js'
import { PINGREQ_BYTES } from '../codec/encode.js'
import { fatal, notify } from './link.js'
import { MQTT_EVENT_TIMEOUT, type Mqtt } from './state.js'
import { retransmitOverdue } from './session.js'
import { writeBytes } from './wire.js'

const MIN_CHECK = 20
const QUIET_MS = 1000

export function startKeepAlive(mq: Mqtt): void {
    stopTimer(mq.keepAliveEvent)
    mq.pingSent = 0
    mq.idleNotified = false
    mq.keepAliveEvent = startTimer(check, mq, nextCheck(mq, rGetTicks()))
}

/** Send a PINGREQ now. */
export function sendPing(mq: Mqtt): void {
    if (!mq.pingSent) {
        mq.pingSent = rGetTicks()
    }
    writeBytes(mq, PINGREQ_BYTES)
}

function check(mq: Mqtt): void {
    mq.keepAliveEvent = null
    if (mq.processing && mq.connected) {
        run(mq, false)
    }
}

/* A dead-link verdict looked at again after one turn of I/O: unless the connection ended or its timer was
   started again meanwhile */
function recheck(mq: Mqtt): void {
    if (mq.keepAliveEvent === null && mq.processing && mq.connected) {
        run(mq, true)
    }
}

function run(mq: Mqtt, afterIo: boolean): void {
    const now = rGetTicks()
    const k = keepAliveOf(mq)
    if (mq.backlog !== null) {
        /* Reading is paused for busy handlers: silence is ours, not the broker's */
        mq.lastRecv = now
    }
    if (mq.pingSent && mq.lastRecv > mq.pingSent) {
        mq.pingSent = 0
    }
    /* With the keep-alive off, a ping the app sent (mqttPing) is answered within msgTimeout or the link is dead */
    if (mq.pingSent && (k > 0 ? now - mq.lastRecv >= k * 1.25 : now - mq.pingSent >= mq.msgTimeout)) {
        if (!afterIo) {
            /* Not yet: when this process was busy past the due time (a long synchronous handler), the timer runs
               before the poll that reads a PINGRESP already waiting in the socket. The verdict waits for that poll */
            setImmediate(recheck, mq)
            return
        }
        fatal(mq, R_ERR_TIMEOUT, k > 0 ? `No response from the broker for ${now - mq.lastRecv} ms (keep-alive ${Math.round(k / 1000)} s): the link is dead` :
            `No answer to a ping from the broker for ${now - mq.pingSent} ms (keep-alive off): the link is dead`)
        return
    }
    if (!mq.idleNotified && now - mq.lastActivity + 1 >= mq.timeout) {
        mq.idleNotified = true
        rInfo('mqtt', 'Idle connection has timed out')
        notify(mq, MQTT_EVENT_TIMEOUT)
        if (!mq.processing) {
            return
        }
    }
    if (k > 0 && (now - mq.lastSend >= k * 0.5 || (!mq.pingSent && now - mq.lastRecv >= k * 0.75))) {
        sendPing(mq)
    }
    retransmitOverdue(mq, now)
    if (now - mq.lastSend >= QUIET_MS) {
        /* A burst's free write slabs go once nothing was sent for a while */
        mq.writer.trim()
    }
    mq.keepAliveEvent = startTimer(check, mq, nextCheck(mq, now))
}

/* The keep-alive in force: the MQTT 5 server's Server Keep Alive when it sent one [MQTT-3.2.2-21], else the client's */
function keepAliveOf(mq: Mqtt): number {
    const server = mq.cfg.v5?.connack?.serverKeepAlive
    return server === undefined ? mq.keepAlive : server * 1000
}

function nextCheck(mq: Mqtt, now: number): number {
    const k = keepAliveOf(mq)
    let due = k > 0 ? Math.min(mq.lastSend + k * 0.5, mq.lastRecv + k * (mq.pingSent ? 1.25 : 0.75)) :
        mq.pingSent ? mq.pingSent + mq.msgTimeout : Infinity
    if (!mq.idleNotified) {
        due = Math.min(due, mq.lastActivity + mq.timeout)
    }
    due = Math.min(due, now + mq.msgTimeout / 2)
    /* Due times rounded up to a 64 ms grid: the timers of many connections share the runtime's buckets */
    return Math.max(MIN_CHECK, Math.ceil(due / 64) * 64 - now)
}
