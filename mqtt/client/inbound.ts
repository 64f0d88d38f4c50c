/*
    What the broker sends: CONNACK, PUBLISH (acknowledged before dispatch; QoS 2 delivered once, its id held
    until PUBREL), the acknowledgements of what we sent, PINGRESP. Anything else, or an acknowledgement for
    an unknown id, is a protocol violation: the connection ends with an error naming it.
 */
import type { Packet5 } from '../codec/packets5.js'
import {
    R_ERR_BAD_ACK, R_ERR_BAD_RESPONSE, R_ERR_BAD_STATE, R_ERR_CANT_COMPLETE, R_ERR_CANT_CONNECT, R_ERR_MEMORY, R_ERR_WONT_FIT,
} from '../../runtime/errors.js'
import { stopTimer } from '../../runtime/events.js'
import { rError } from '../../runtime/log.js'
import { rGetTicks, rGetTicksCached } from '../../runtime/time.js'
import {
    CONNACK_REASONS, MQTT_HEADER_PUBACK, MQTT_HEADER_PUBCOMP, MQTT_HEADER_PUBREC, MQTT_PACKET_CONN_ACK, MQTT_PACKET_PING_ACK,
    MQTT_PACKET_PUB_ACK, MQTT_PACKET_PUB_COMP, MQTT_PACKET_PUB_REC, MQTT_PACKET_PUB_REL, MQTT_PACKET_PUBLISH, MQTT_PACKET_SUB_ACK,
    MQTT_PACKET_UNSUB_ACK, PACKET_NAMES,
} from '../constants.js'
import { MqttCodecError } from '../codec/errors.js'
import type { ConnackPacket, Packet, PublishPacket, SubackPacket } from '../codec/packets.js'
import { filterCovers } from '../topic.js'
import { startKeepAlive } from './keepalive.js'
import { fatal, notify, refused } from './link.js'
import { deliver } from './dispatch.js'
import {
    MQTT_AWAITING_ACK, MQTT_AWAITING_PUBCOMP, MQTT_EVENT_CONNECTED, MQTT_MAX_SUBSCRIBE_FILTERS, OUT_PUBLISH, OUT_SUB, OUT_UNSUB, type Mqtt,
} from './state.js'
import { complete, completePlain, pump, release, sendControl } from './window.js'
import { restartSession, resendSession } from './session.js'
import { scheduleFlush, tracePacket, writePubrel } from './wire.js'

/* The client whose chunk is being decoded: one module-level sink serves every client (no closure each) */
let target: Mqtt | null = null

function sink(p: Packet): void {
    handle(target!, p)
}

/* An acknowledgement as its type and id (no packet made of it), unless it is to be traced or comes first */
function ackSink(type: number, id: number): void {
    const mq = target!
    if (mq.trace || !mq.connected) {
        handle(mq, { type, id } as Packet)
    } else if (mq.processing) {
        acknowledgement(mq, type, id)
    }
}

/** A chunk from the socket: decode every packet in it. */
export function onChunk(mq: Mqtt, chunk: Buffer): void {
    /* The socket layer has just read the clock for this chunk */
    mq.lastRecv = mq.lastActivity = mq.sock?.activity ?? rGetTicks()
    const prior = target
    target = mq
    try {
        const v5 = mq.cfg.v5
        if (v5 === null) {
            mq.decoder.push(chunk, sink, ackSink)
        } else {
            v5.decoder.push(chunk, sink5)
        }
    } catch (err) {
        if (err instanceof MqttCodecError) {
            fatal(mq, err.code === 'MQTT_TOO_LARGE' ? R_ERR_WONT_FIT : R_ERR_BAD_RESPONSE, `Protocol error from the broker: ${err.message}`)
        } else {
            /* Not the broker's fault (out of memory, a bug): this connection ends with it, nothing escapes */
            fatal(mq, err instanceof RangeError ? R_ERR_MEMORY : R_ERR_BAD_STATE, `Cannot process what the broker sent: ${err instanceof Error ? err.message : String(err)}`)
        }
    } finally {
        target = prior
    }
}

function sink5(p: Packet5): void {
    const mq = target!
    if (mq.processing) {
        if (mq.trace) {
            /* As it came, reason codes and all (a refusing CONNACK or the server's DISCONNECT goes no further) */
            tracePacket(mq, 'received', p as unknown as Packet)
        }
        const p3 = mq.cfg.v5!.translate(mq, p)
        if (p3 !== null) {
            handle(mq, p3)
        }
    }
}

function handle(mq: Mqtt, p: Packet): void {
    if (!mq.processing) {
        return
    }
    if (mq.trace && mq.cfg.v5 === null) {
        tracePacket(mq, 'received', p)
    }
    if (!mq.connected && p.type !== MQTT_PACKET_CONN_ACK) {
        /* The first packet from the server must be a CONNACK [MQTT-3.2.0-1] */
        fatal(mq, R_ERR_BAD_RESPONSE, `Expected CONNACK from the broker, got ${PACKET_NAMES[p.type]} [MQTT-3.2.0-1]`)
        return
    }
    switch (p.type) {
    case MQTT_PACKET_CONN_ACK:
        connack(mq, p)
        return
    case MQTT_PACKET_PUBLISH:
        receive(mq, p)
        return
    case MQTT_PACKET_PUB_ACK: case MQTT_PACKET_PUB_REC: case MQTT_PACKET_PUB_REL: case MQTT_PACKET_PUB_COMP: case MQTT_PACKET_UNSUB_ACK:
        acknowledgement(mq, p.type, p.id)
        return
    case MQTT_PACKET_SUB_ACK:
        suback(mq, p)
        return
    case MQTT_PACKET_PING_ACK: {
        mq.pingSent = 0
        const w = mq.pingWaiters?.shift()
        w?.settle(0)
        return
    }
    default:
        fatal(mq, R_ERR_BAD_RESPONSE, `Unexpected ${PACKET_NAMES[p.type]} from the broker`)
    }
}

/* PUBACK, PUBREC, PUBREL, PUBCOMP or UNSUBACK (a type and an id) from a connected broker */
function acknowledgement(mq: Mqtt, type: number, id: number): void {
    switch (type) {
    case MQTT_PACKET_PUB_ACK:
        acknowledged(mq, id, OUT_PUBLISH, 1, MQTT_AWAITING_ACK, 'PUBACK')
        return
    case MQTT_PACKET_PUB_REC: {
        const plain = mq.inflight.plain(id)
        const state = plain >> 3
        if (plain >= 0 && (plain & 3) === 2 && (state === MQTT_AWAITING_ACK || state === MQTT_AWAITING_PUBCOMP)) {
            if (state === MQTT_AWAITING_ACK) {
                /* As release() does for a message of its own */
                mq.inflight.setPlainState(id, MQTT_AWAITING_PUBCOMP, rGetTicksCached())
            }
            /* Released now, or a repeated PUBREC: the PUBREL goes out (again) */
            writePubrel(mq, id)
            return
        }
        const msg = mq.inflight.get(id)
        if (msg !== undefined && msg.type === OUT_PUBLISH && msg.qos === 2 && msg.state === MQTT_AWAITING_ACK) {
            release(mq, msg)
        } else if (msg !== undefined ? msg.state === MQTT_AWAITING_PUBCOMP : lateAnswer(mq, id)) {
            /* A repeated PUBREC (also for a copy resent of a message since completed): answer with the PUBREL again */
            writePubrel(mq, id)
        } else {
            unknown(mq, 'PUBREC', id)
        }
        return
    }
    case MQTT_PACKET_PUB_REL:
        /* PUBREL: release the held id and answer PUBCOMP, also for an id we no longer hold [MQTT-4.3.3-2] */
        mq.inboundQos2?.delete(id)
        mq.writer.ack(MQTT_HEADER_PUBCOMP, id)
        scheduleFlush(mq)
        return
    case MQTT_PACKET_PUB_COMP:
        acknowledged(mq, id, OUT_PUBLISH, 2, MQTT_AWAITING_PUBCOMP, 'PUBCOMP')
        return
    default:
        acknowledged(mq, id, OUT_UNSUB, -1, MQTT_AWAITING_ACK, 'UNSUBACK')
    }
}

/** The final acknowledgement of an in-flight request of this type and state (and QoS, unless -1) completes it. */
function acknowledged(mq: Mqtt, id: number, type: number, qos: number, state: number, what: string): void {
    const plain = mq.inflight.plain(id)
    if (plain >= 0 && type === OUT_PUBLISH && (plain & 3) === qos && plain >> 3 === state) {
        completePlain(mq, id)
        return
    }
    const msg = mq.inflight.get(id)
    if (msg === undefined || msg.type !== type || msg.state !== state || (qos >= 0 && msg.qos !== qos)) {
        unknown(mq, what, id)
    } else {
        complete(mq, msg, 0)
    }
}

function unknown(mq: Mqtt, what: string, id: number): void {
    if (!lateAnswer(mq, id)) {
        fatal(mq, R_ERR_BAD_ACK, `${what} for unknown packet id ${id}`)
    }
}

/* An acknowledgement of a copy this client resent on this connection, the message already completed by the
   answer to another copy: a broker answers each PUBLISH (PUBREL, SUBSCRIBE ...) it reads */
function lateAnswer(mq: Mqtt, id: number): boolean {
    return mq.resentIds !== null && mq.resentIds.has(id) && !mq.inflight.has(id)
}

function connack(mq: Mqtt, p: ConnackPacket): void {
    if (mq.connected) {
        fatal(mq, R_ERR_BAD_RESPONSE, 'A second CONNACK from the broker')
        return
    }
    mq.connackCode = p.returnCode
    if (p.returnCode !== 0) {
        refused(mq, p.returnCode === 2 ? R_ERR_CANT_COMPLETE : R_ERR_CANT_CONNECT, `${CONNACK_REASONS[p.returnCode]} (CONNACK ${p.returnCode})`)
        return
    }
    stopTimer(mq.connectTimer)
    mq.connectTimer = null
    const w = mq.connectWait
    mq.connectWait = null
    mq.connected = true
    mq.hasSession = p.sessionPresent
    /* What was resent on the last connection is answered on it or not at all */
    mq.resentIds = null
    if (mq.cleanSession || !p.sessionPresent) {
        /* No session to resume: the broker kept none (restarted, expired), so the client's goes too, as with a
           clean session (MQTT 5 says so outright; resending old ids into a new session would lose a released QoS 2) */
        restartSession(mq)
    } else {
        resendSession(mq)
    }
    if (!p.sessionPresent) {
        resubscribe(mq)
    } else if (mq.later !== null) {
        /* The broker kept the session, but these were asked for while disconnected */
        subscribeAll(mq, [...mq.later])
    }
    mq.later = null
    pump(mq)
    startKeepAlive(mq)
    w?.settle(0)
    notify(mq, MQTT_EVENT_CONNECTED)
}

/** The broker has no session: make the broker subscriptions again (masters, and locals not under one). */
function resubscribe(mq: Mqtt): void {
    const wanted = new Map<string, number>()
    for (const m of mq.masterTopics) {
        wanted.set(m, masterQos(mq, m))
    }
    for (const t of mq.topics) {
        if (!mq.masterTopics.some(m => filterCovers(m, t.topic))) {
            wanted.set(t.topic, Math.max(t.qos, wanted.get(t.topic) ?? 0))
        }
    }
    for (const [filter, qos] of mq.later ?? []) {
        wanted.set(filter, Math.max(qos, wanted.get(filter) ?? 0))
    }
    subscribeAll(mq, [...wanted])
}

/* As few SUBSCRIBE packets as possible, each filter with its own QoS (at most MQTT_MAX_SUBSCRIBE_FILTERS each) */
function subscribeAll(mq: Mqtt, wanted: [string, number][]): void {
    const v5 = mq.cfg.v5
    if (v5 !== null && v5.subOptions.size > 0) {
        /* A SUBSCRIBE carries one subscription identifier: those that have one go alone */
        const alone = v5.withIdentifier(wanted)
        for (const w of alone) {
            sendControl(mq, OUT_SUB, [w[0]], [w[1]], null, 0)
        }
        wanted = wanted.filter(w => !alone.includes(w))
    }
    for (let i = 0; i < wanted.length; i += MQTT_MAX_SUBSCRIBE_FILTERS) {
        const part = wanted.slice(i, i + MQTT_MAX_SUBSCRIBE_FILTERS)
        sendControl(mq, OUT_SUB, part.map(w => w[0]), part.map(w => w[1]), null, 0)
    }
}

function masterQos(mq: Mqtt, filter: string): number {
    return mq.masterQos?.get(filter) ?? 1
}

function suback(mq: Mqtt, p: SubackPacket): void {
    const msg = mq.inflight.get(p.id)
    if (msg === undefined || msg.type !== OUT_SUB) {
        unknown(mq, 'SUBACK', p.id)
        return
    }
    let rc = 0
    const filters = msg.filters!
    if (p.granted.length !== filters.length) {
        /* One return code per topic filter, in order [MQTT-3.8.4-5] [MQTT-3.9.3-1] */
        fatal(mq, R_ERR_BAD_RESPONSE, `SUBACK with ${p.granted.length} return codes for ${filters.length} topic filters [MQTT-3.9.3-1]`)
        return
    }
    /* The subscriptions read their codes from here (MqttTopic.granted): no scan of them for each SUBACK */
    const granted = mq.granted ??= new Map()
    for (let i = 0; i < filters.length; i++) {
        const code = p.granted[i]
        granted.set(filters[i], code)
        if (msg.granted !== null) {
            msg.granted[msg.grantedAt![i]] = code
        }
        if (code >= 0x80) {
            rc = R_ERR_CANT_COMPLETE
            mq.errorMsg = `Subscribe to "${filters[i]}" refused by the broker (SUBACK 0x${code.toString(16)}${mq.cfg.v5 !== null ? `: ${mq.cfg.v5.reasonName(code)}` : ''})`
            rError('mqtt', '%s', mq.errorMsg)
        }
    }
    complete(mq, msg, rc)
}

function receive(mq: Mqtt, p: PublishPacket): void {
    mq.stats.received++
    if (p.qos === 1) {
        mq.writer.ack(MQTT_HEADER_PUBACK, p.id)
        scheduleFlush(mq)
    } else if (p.qos === 2) {
        mq.writer.ack(MQTT_HEADER_PUBREC, p.id)
        scheduleFlush(mq)
        const held = mq.inboundQos2 ??= new Map()
        const print = fingerprint(p)
        const prior = held.get(p.id)
        if (prior === print) {
            /* Already delivered: acknowledge again, deliver once */
            return
        }
        if (prior !== undefined) {
            /* Another message on an id not yet released: the broker reused it [MQTT-2.3.1-4]. Taking it for the
               held one would drop it unseen; it is delivered */
            rError('mqtt', 'The broker sent a new message (on "%s") with packet id %d, held for a QoS 2 message it has not released [MQTT-2.3.1-4]: delivered', p.topic, p.id)
        }
        held.set(p.id, print)
    }
    deliver(mq, p)
}

/* What tells a QoS 2 message from another on the same packet id: its topic and payload, hashed (FNV-1a; a
   long payload four bytes at a time, where it is aligned: about 0.4 ms a megabyte) */
function fingerprint(p: PublishPacket): number {
    let h = 0x811c9dc5
    const topic = p.topic
    for (let i = 0; i < topic.length; i++) {
        h = Math.imul(h ^ topic.charCodeAt(i), 0x01000193)
    }
    const payload = p.payload
    const n = payload.length
    let i = 0
    if (n >= 64) {
        for (const lead = (4 - (payload.byteOffset & 3)) & 3; i < lead; i++) {
            h = Math.imul(h ^ payload[i], 0x01000193)
        }
        const words = new Int32Array(payload.buffer, payload.byteOffset + i, (n - i) >> 2)
        for (let k = 0; k < words.length; k++) {
            h = Math.imul(h ^ words[k], 0x01000193)
        }
        i += words.length << 2
    }
    for (; i < n; i++) {
        h = Math.imul(h ^ payload[i], 0x01000193)
    }
    return h ^ n
}
