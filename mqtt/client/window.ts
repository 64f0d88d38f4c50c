/*
    Outbound flow: every PUBLISH written (QoS 0 at once, QoS 1/2 through the in-flight window), packet ids, the
    queue behind the window and acknowledgements (resends across connections: session.ts).
    Ids are taken when a message enters the window, never while in use; the queue keeps publish order.
 */
import type { Properties } from '../codec/properties.js'
import { R_ERR_TOO_MANY } from '../../runtime/errors.js'
import type { Waitable } from '../../runtime/body.js'
import { rGetTicksCached } from '../../runtime/time.js'
import { startTimer } from '../../runtime/events.js'
import { done } from '../../runtime/waitable.js'
import { encodeSubscribe, encodeUnsubscribe } from '../codec/encode.js'
import { MQTT_AWAITING_ACK, MQTT_AWAITING_PUBCOMP, MQTT_WAIT_SENT, MqttWait, OUT_PUBLISH, OUT_SUB, OutMsg, type Mqtt } from './state.js'
import { scheduleFlush, waitSent, writeBlocked, writeBytes, writePubrel } from './wire.js'
import { PlainHead } from './outqueue.js'

/** A free packet id (1..65535, skipping ids in use), or 0 when all are in use. */
export function allocId(mq: Mqtt): number {
    for (let tries = 0; tries < 65535; tries++) {
        const id = mq.nextId
        mq.nextId = id >= 65535 ? 1 : id + 1
        if (!mq.inflight.has(id)) {
            if (mq.resentIds !== null) {
                mq.resentIds.delete(id)
            }
            return id
        }
    }
    return 0
}

/** Whether a message can enter the window now. */
export function windowOpen(mq: Mqtt): boolean {
    return mq.connected && mq.processing && mq.inflightPublishes < mq.cfg.maxInflight && mq.pending.length === 0
}

/** A QoS 0 PUBLISH with nothing queued: into the write buffer now (SENT waits for the socket). */
export function writeQos0(mq: Mqtt, topicBytes: Uint8Array, payload: Uint8Array, retain: boolean, waitFlags: number, props: Uint8Array | null = null): Waitable<number> {
    mq.stats.published++
    writeQos0Packet(mq, topicBytes, payload, retain, props)
    scheduleFlush(mq)
    if (waitFlags & MQTT_WAIT_SENT) {
        const w = new MqttWait()
        waitSent(mq, w)
        return w
    }
    return writeBlocked(mq) ? roomWait(mq) : done(0)
}

/* A QoS 0 PUBLISH into the write buffer, in the connection's protocol */
function writeQos0Packet(mq: Mqtt, topicBytes: Uint8Array, payload: Uint8Array, retain: boolean, props: Uint8Array | null): void {
    const v5 = mq.cfg.v5
    if (v5 === null) {
        mq.writer.publish(topicBytes, payload, 0, retain, false, 0)
    } else {
        v5.writeQos0(mq.writer, topicBytes, payload, retain, props)
    }
}

/** Park the publisher until the queue or the socket has room. */
export function roomWait(mq: Mqtt): Waitable<number> {
    const w = new MqttWait()
    ;(mq.roomWaiters ??= []).push(w)
    return w
}

/** Put a QoS 1/2 PUBLISH on the wire: id, encode once (bytes kept for resends), track it. */
export function sendPublish(mq: Mqtt, msg: OutMsg): boolean {
    const id = allocId(mq)
    if (id === 0) {
        return false
    }
    msg.id = id
    mq.lastPublishId = id
    const w = mq.writer
    /* Every message that gets here carries its payload (a plain queued one goes by sendPlain) */
    msg.keptStart = w.publishKeep(msg.topicBytes!, msg.payload!, msg.qos, msg.retain, id, mq.cfg.v5, msg.props)
    msg.bytes = w.current
    msg.keptEnd = w.position
    msg.payload = null
    msg.state = MQTT_AWAITING_ACK
    /* One clock read per burst: a retransmit deadline does not need more */
    msg.sent = rGetTicksCached()
    mq.track(id, msg)
    mq.inflightPublishes++
    if (msg.waitFlags === MQTT_WAIT_SENT && msg.wait !== null) {
        waitSent(mq, msg.wait)
        msg.wait = null
    }
    scheduleFlush(mq)
    return true
}

/* The queue's oldest plain message, as pump sends it (one for every connection: pump runs to its end) */
const HEAD = new PlainHead()

/* Put the queue's oldest message, a plain QoS 1/2 PUBLISH, on the wire and in flight as columns (no OutMsg) */
function sendPlain(mq: Mqtt, h: PlainHead): boolean {
    const id = allocId(mq)
    if (id === 0) {
        return false
    }
    mq.lastPublishId = id
    const w = mq.writer
    const start = w.publishKeepRange(h.topicBytes, h.bytes, h.start, h.start + h.size, h.qos, h.retain, id)
    /* One clock read per burst: a retransmit deadline does not need more */
    mq.tracking.setPlain(id, h.qos, h.retain, h.topic, h.topicBytes, w.current, start, w.position, h.size, rGetTicksCached(), MQTT_AWAITING_ACK)
    mq.inflightPublishes++
    /* Handed to the socket at a full slab, as every other write: a refill of the window is not held in one buffer */
    scheduleFlush(mq)
    return true
}

/** Queue a publish behind the window (or while offline). */
export function enqueue(mq: Mqtt, msg: OutMsg): void {
    mq.pending.push(msg)
    mq.pendingBytes += msg.size
}

/** Queue a publish with nothing to wait on, store or carry (its payload copied). */
export function enqueuePlain(mq: Mqtt, topic: string, topicBytes: Uint8Array, payload: Uint8Array, qos: number, retain: boolean): void {
    mq.pending.pushPlain(topic, topicBytes, payload, qos, retain)
    mq.pendingBytes += payload.length
}

/** Whether the queue is over its limits. */
export function queueFull(mq: Mqtt): boolean {
    return mq.pending.length >= mq.cfg.maxQueue || mq.pendingBytes >= mq.cfg.maxQueueBytes
}

/** Make room by the 'drop-oldest' policy: the oldest queued message is dropped and its waiter told. */
export function dropOldest(mq: Mqtt): void {
    const old = mq.pending.shift()
    if (old !== undefined) {
        mq.pendingBytes -= old.size
        mq.stats.dropped++
        if (old.storeSeq) {
            mq.cfg.outbox?.removed(old)
        }
        old.wait?.settle(R_ERR_TOO_MANY)
        old.wait = null
    }
}

/** Move queued messages into the window while it has room. */
export function pump(mq: Mqtt): void {
    if (!mq.connected || !mq.processing) {
        return
    }
    let moved = false
    const v5 = mq.cfg.v5 !== null
    while (mq.pending.length > 0 && mq.inflightPublishes < mq.cfg.maxInflight) {
        if (!v5 && mq.pending.peekPlain(HEAD)) {
            if (!sendPlain(mq, HEAD)) {
                break
            }
            mq.pending.drop()
            mq.pendingBytes -= HEAD.size
            moved = true
            continue
        }
        const msg = mq.pending.peek()!
        if (msg.qos === 0) {
            mq.pending.shift()
            mq.pendingBytes -= msg.size
            writeQos0Packet(mq, msg.topicBytes!, msg.payload!, msg.retain, msg.props)
            scheduleFlush(mq)
            if (msg.wait !== null) {
                waitSent(mq, msg.wait)
            }
        } else {
            if (!sendPublish(mq, msg)) {
                break
            }
            mq.pending.drop()
            mq.pendingBytes -= msg.size
        }
        moved = true
    }
    if (moved) {
        mq.heldAt = 0
        scheduleFlush(mq)
        wakeRoom(mq)
    }
}

/** Wake publishers that wait for room once the queue is below its limits. */
export function wakeRoom(mq: Mqtt): void {
    if (mq.roomWaiters !== null && !queueFull(mq)) {
        const waiters = mq.roomWaiters
        mq.roomWaiters = null
        for (const w of waiters) {
            w.settle(0)
        }
    }
}

/** An acknowledgement completed msg: forget it, tell its waiter, let the next message in. */
export function complete(mq: Mqtt, msg: OutMsg, rc: number): void {
    mq.inflight.delete(msg.id)
    if (msg.keptEnd > 0) {
        /* Its packet, still where it was written (not resent: a resend copies it), is no longer needed */
        releaseKept(mq, msg.bytes!)
    }
    if (msg.type === OUT_PUBLISH) {
        mq.inflightPublishes--
        mq.stats.acknowledged++
        if (msg.storeSeq) {
            mq.cfg.outbox?.removed(msg)
        }
    }
    if (msg.wait !== null) {
        msg.wait.settle(rc)
        msg.wait = null
    }
    refill(mq)
}

/** The acknowledgement of a plain publish (InflightTable.plain) completed it: forget it, let the next message in. */
export function completePlain(mq: Mqtt, id: number): void {
    releaseKept(mq, mq.inflight.slab(id))
    mq.inflight.delete(id)
    mq.inflightPublishes--
    mq.stats.acknowledged++
    refill(mq)
}

/* A kept packet's slab may be written again once all its kept packets are released (PacketBuffer.release); not
   while tracing, whose tracer may keep what it was given */
function releaseKept(mq: Mqtt, slab: Uint8Array): void {
    if (!mq.trace) {
        mq.writer.release(slab)
    }
}

/* Room in the window: queued messages go in at the refill mark (see held) */
function refill(mq: Mqtt): void {
    if (mq.pending.length > 0) {
        if (mq.inflightPublishes <= refillMark(mq.cfg.maxInflight)) {
            pump(mq)
        } else {
            held(mq)
        }
    }
}

/*
    Room in the window waits for the refill mark, so that a write carries a batch. A broker may hold its next
    answers until the TCP acknowledgement of its last one (Nagle's algorithm, on by default in mosquitto), while
    this side's kernel delays that acknowledgement (40 ms on Linux, up to 200 ms elsewhere) for a write that the
    mark holds back: every round of the window stalls so (100 in flight through mosquitto: 2,300 messages/s).
    Once room has waited STALL_MS on a connection, its room never waits longer than REFILL_LATE_MS: a timer
    refills what room there is, and the write ends the wait. Only then: a timer each round costs a prompt peer
    about a tenth more CPU per message. A window smaller than LATE_BATCH refills at once instead: half of it
    each REFILL_LATE_MS would be slower than the broker (20 in flight: 14,000 messages/s through mosquitto).
 */
const STALL_MS = 20
const REFILL_LATE_MS = 1
const LATE_BATCH = 100

function held(mq: Mqtt): void {
    if (mq.heldAt === 0) {
        mq.heldAt = mq.lastRecv
        if (mq.refillLate) {
            if (mq.cfg.maxInflight < LATE_BATCH) {
                pump(mq)
            } else if (mq.refillTimer === null) {
                mq.refillTimer = startTimer(refillNow, mq, REFILL_LATE_MS)
            }
        }
    } else if (!mq.refillLate && mq.lastRecv - mq.heldAt >= STALL_MS) {
        mq.refillLate = true
        pump(mq)
    }
}

function refillNow(mq: Mqtt): void {
    mq.refillTimer = null
    if (mq.pending.length > 0) {
        pump(mq)
    }
}

/**
    How low a full window drains before queued messages go in again: half of it (at least one message).
    Acknowledgements from a busy broker come a few at a time; refilling on each would cost a write (and the
    broker a read) per message, refilling in batches costs one per batch, and the window stays mostly full.
 */
export function refillMark(max: number): number {
    return max - Math.max(1, max >> REFILL_SHIFT)
}

const REFILL_SHIFT = 1

/**
    A QoS 2 PUBLISH got its PUBREC: its PUBREL goes out (same id, same place in the resend order). Its packet is
    kept until the PUBCOMP: should the session be lost before it, the message is published again.
 */
export function release(mq: Mqtt, msg: OutMsg): void {
    msg.state = MQTT_AWAITING_PUBCOMP
    msg.sent = rGetTicksCached()
    writePubrel(mq, msg.id)
}

/** Send a SUBSCRIBE (each filter with its QoS, or one for all) or UNSUBSCRIBE and track it until its acknowledgement. */
export function sendControl(mq: Mqtt, type: number, filters: string[], qos: number | number[], wait: MqttWait | null, waitFlags: number,
    unsubscribeProperties: Properties = {}): OutMsg | null {
    const id = allocId(mq)
    if (id === 0) {
        return null
    }
    const msg = new OutMsg(type, typeof qos === 'number' ? qos : 0, false, filters.join(','), null, null, wait, waitFlags)
    msg.id = id
    msg.filters = filters
    const qosOf = (i: number) => typeof qos === 'number' ? qos : qos[i]
    const v5 = mq.cfg.v5
    msg.bytes = v5 !== null ? v5.encodeControl(type === OUT_SUB, id, filters, qosOf, unsubscribeProperties) :
        type === OUT_SUB ?
            encodeSubscribe({ type: 8, id, subscriptions: filters.map((topic, i) => ({ topic, qos: qosOf(i) })) }) :
            encodeUnsubscribe({ type: 10, id, topics: filters })
    msg.state = MQTT_AWAITING_ACK
    /* One clock read per burst: a retransmit deadline does not need more */
    msg.sent = rGetTicksCached()
    mq.track(id, msg)
    writeBytes(mq, msg.bytes)
    if (waitFlags === MQTT_WAIT_SENT && wait !== null) {
        waitSent(mq, wait)
        msg.wait = null
    }
    return msg
}
