/*
    The outbound messages across connections: what is resent when a session resumes (DUP set) or dropped when
    it restarts, retransmits on a connection, what is still to send, and the waiters told when the link is
    lost or the client freed.
 */
import { rGetTicks } from '../../runtime/time.js'
import { copyBytes } from '../codec/bytes.js'
import { setDup } from '../codec/encode-publish.js'
import { R_ERR_NOT_CONNECTED } from '../../runtime/errors.js'
import {
    keptBytes, MQTT_AWAITING_ACK, MQTT_AWAITING_PUBCOMP, MQTT_UNSENT, MqttWait, OUT_PUBLISH, OUT_SUB, OUT_UNSUB, type Mqtt, type OutMsg,
} from './state.js'
import { writeBytes, writePubrel } from './wire.js'

/**
    After a reconnect without a clean session: resend every unacknowledged PUBLISH (DUP set, same id) and
    PUBREL, in their original order [MQTT-4.4.0-1].
 */
export function resendSession(mq: Mqtt): void {
    for (const msg of mq.inflight.values()) {
        if (msg.state === MQTT_AWAITING_PUBCOMP) {
            msg.sent = rGetTicks()
            writePubrel(mq, msg.id)
            mq.stats.resent++
        } else if (msg.type === OUT_PUBLISH) {
            resend(mq, msg)
        }
    }
}

function resend(mq: Mqtt, msg: OutMsg): void {
    const bytes = copyBytes(keptBytes(msg))
    setDup(bytes, true)
    msg.bytes = bytes
    msg.sent = rGetTicks()
    mq.stats.resent++
    writeBytes(mq, bytes)
}

/**
    A new session (a clean one, or none kept by the broker) knows nothing of the old one's ids: unacknowledged
    PUBLISH messages go back to the front of the queue to be published afresh. So does a QoS 2 message whose
    PUBREC came but not its PUBCOMP: a broker that delivers on PUBREL may not have delivered it before the old
    session went, and it is never reported done unconfirmed (a broker that had delivered it gets it twice).
 */
export function restartSession(mq: Mqtt): void {
    const again: OutMsg[] = []
    for (const msg of mq.inflight.values()) {
        if ((msg.state === MQTT_AWAITING_ACK || msg.state === MQTT_AWAITING_PUBCOMP) && msg.type === OUT_PUBLISH) {
            msg.payload = payloadOf(keptBytes(msg), msg.topicBytes!.length, msg.qos, mq.cfg.v5 === null ? 0 : msg.props?.length ?? 1)
            msg.bytes = null
            msg.state = MQTT_UNSENT
            msg.id = 0
            again.push(msg)
        } else {
            msg.wait?.settle(R_ERR_NOT_CONNECTED)
        }
    }
    mq.inflight.clear()
    mq.inflightPublishes = 0
    if (again.length > 0) {
        const rest: OutMsg[] = []
        while (mq.pending.length > 0) {
            rest.push(mq.pending.shift()!)
        }
        for (const msg of [...again, ...rest]) {
            mq.pending.push(msg)
        }
        for (const msg of again) {
            mq.pendingBytes += msg.size
        }
    }
    mq.inboundQos2?.clear()
}

/* The payload of a kept PUBLISH: after the header, the topic, the id and (MQTT 5) the property list it was
   written with, `propsLength` bytes with their length prefix (an empty list is one byte) */
function payloadOf(bytes: Uint8Array, topicLength: number, qos: number, propsLength: number): Uint8Array {
    let pos = 1
    while (bytes[pos++] & 0x80) {
        /* skip the remaining length */
    }
    pos += topicLength + (qos > 0 ? 2 : 0) + propsLength
    return bytes.slice(pos)
}

/** Resend what waited too long for its acknowledgement on this connection (every msgTimeout, DUP set). */
export function retransmitOverdue(mq: Mqtt, now: number): void {
    /* Read by send time: only what is overdue is made a message (a window of plain entries stays columns) */
    for (const id of mq.inflight.order()) {
        if (mq.inflight.sentAt(id) + mq.msgTimeout <= now) {
            const msg = mq.inflight.get(id)!
            mq.resentIds ??= new Set()
            mq.resentIds.add(id)
            if (msg.type === OUT_PUBLISH && msg.state === MQTT_AWAITING_ACK) {
                resend(mq, msg)
            } else {
                msg.sent = now
                mq.stats.resent++
                if (msg.state === MQTT_AWAITING_PUBCOMP) {
                    writePubrel(mq, msg.id)
                } else {
                    writeBytes(mq, msg.bytes!)
                }
            }
        }
    }
}

/** Messages still to send: queued, or in flight past their retransmit time (C's mqttMsgsToSend). */
export function msgsToSend(mq: Mqtt): number {
    const now = rGetTicks()
    let n = mq.pending.length
    for (const id of mq.inflight.order()) {
        if (mq.inflight.sentAt(id) + mq.msgTimeout < now) {
            n++
        }
    }
    return n
}

/**
    The connection is gone: waiters learn it (unless keepWaits); subscriptions in flight are dropped (they are
    made again on reconnect); unacknowledged publishes stay for the session resend.
 */
export function failWaiters(mq: Mqtt, rc: number): void {
    for (const [id, msg] of mq.inflight) {
        if (msg.type === OUT_SUB || msg.type === OUT_UNSUB) {
            mq.inflight.delete(id)
            msg.wait?.settle(rc)
            msg.wait = null
        } else if (!mq.cfg.keepWaits && msg.wait !== null) {
            msg.wait.settle(rc)
            msg.wait = null
        }
    }
    if (!mq.cfg.keepWaits) {
        /* Queued messages whose callers were told of the failure are withdrawn: the caller decides */
        const keep: OutMsg[] = []
        while (mq.pending.length > 0) {
            const msg = mq.pending.shift()!
            if (msg.wait !== null) {
                mq.pendingBytes -= msg.size
                msg.wait.settle(rc)
            } else {
                keep.push(msg)
            }
        }
        for (const msg of keep) {
            mq.pending.push(msg)
        }
    }
    settleAll(mq.flushWaiters, rc)
    mq.flushWaiters = null
    settleAll(mq.pingWaiters, rc)
    mq.pingWaiters = null
    /* Publishers waiting for room: their messages are queued, which is all they asked */
    settleAll(mq.roomWaiters, 0)
    mq.roomWaiters = null
}

/** Everything ends (mqttFree): every waiter is told and every message forgotten. */
export function dropAll(mq: Mqtt, rc: number): void {
    for (const msg of mq.inflight.values()) {
        msg.wait?.settle(rc)
    }
    mq.inflight.clear()
    mq.inflightPublishes = 0
    while (mq.pending.length > 0) {
        mq.pending.shift()!.wait?.settle(rc)
    }
    mq.pendingBytes = 0
    for (const list of [mq.flushWaiters, mq.pingWaiters, mq.roomWaiters]) {
        settleAll(list, rc)
    }
    mq.flushWaiters = mq.pingWaiters = mq.roomWaiters = null
    mq.connectWait?.settle(rc)
    mq.connectWait = null
}

function settleAll(list: MqttWait[] | null, rc: number): void {
    for (const w of list ?? []) {
        w.settle(rc)
    }
}
