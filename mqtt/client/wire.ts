/*
    The write path and the socket hookup. Packets go into one write buffer; it is handed to the socket once per
    tick (a microtask), or at once when its slab (128 KiB) is full, so many messages cost one socket write. When the
    socket took every byte at once, the buffer's slab is written again from its start.
 */
import { rGetTicks } from '../../runtime/time.js'
import { holdReceiver, setReceiver } from '../../socket/rsocket.js'
import { socketSend } from '../../socket/io.js'
import { rSetSocketCoalesce } from '../../socket/control.js'
import type { Packet } from '../codec/packets.js'
import { MqttClientDecoder } from '../codec/decoder.js'
import { MQTT_PACKET_CONN_ACK, MQTT_PACKET_PUBLISH, PACKET_NAMES } from '../constants.js'
import { rDebug } from '../../runtime/log.js'
import { type Mqtt, type MqttWait } from './state.js'
import { MQTT_WRITE_HIGH } from './config.js'
import type { RSocket } from '../../socket/rsocket.js'
import { onMicrotask } from '../../runtime/microtask.js'

/* A full slab is flushed by writer.onFull; this is for a slab grown past it (a packet larger than the rest). At
   half the slab, a window of 1 KiB messages took twice the write calls, each waking the peer: 10-15% more CPU */
const FLUSH_AT = 128 * 1024

/* Clients with bytes to flush at the end of this tick: one microtask serves them all */
let dirty: Mqtt[] = []
let flushQueued = false

function flushDirty(): void {
    flushQueued = false
    const list = dirty
    dirty = []
    for (const mq of list) {
        if (mq.flushScheduled) {
            flush(mq)
        }
    }
}

/** Flush at the end of this tick (once, however many packets are written meanwhile). */
export function scheduleFlush(mq: Mqtt): void {
    if (mq.writer.length >= FLUSH_AT) {
        flush(mq)
    } else if (!mq.flushScheduled) {
        mq.flushScheduled = true
        dirty.push(mq)
        if (!flushQueued) {
            flushQueued = true
            onMicrotask(flushDirty)
        }
    }
}

/** Hand the write buffer to the socket; settle WAIT_SENT waiters whose bytes were in it. */
export function flush(mq: Mqtt): void {
    mq.flushScheduled = false
    const bytes = mq.writer.take(true)
    if (bytes !== null) {
        const sock = mq.sock
        if (mq.processing && sock !== null) {
            if (mq.trace) {
                traceBytes(mq, bytes)
            }
            socketSend(sock, bytes)
            mq.lastSend = mq.lastActivity = rGetTicks()
        }
        /* Bytes the socket took before returning are free: the slab is written again (see PacketBuffer.reuse);
           not while tracing, whose tracer may keep a packet and its payload (a view of these bytes) */
        mq.writer.reuse(!mq.trace && sock?.handle?.writableLength === 0)
        if (mq.trace) {
            /* No slab written while tracing is written again once it is off (current aside, as ever) */
            mq.writer.trim()
        }
    }
    const waiters = mq.flushWaiters
    if (waiters !== null) {
        mq.flushWaiters = null
        for (const w of waiters) {
            w.settle(0)
        }
    }
}

/** Log a packet (mq.trace): "Client dev-1 sending PUBLISH (q1, id 7, 'a/b', 5 bytes)". */
export function tracePacket(mq: Mqtt, direction: 'sending' | 'received', p: Packet): void {
    const tracer = mq.cfg.tracer
    if (tracer !== null) {
        tracer(direction, p)
        return
    }
    let detail = ''
    if (p.type === MQTT_PACKET_PUBLISH) {
        detail = ` (q${p.qos}${p.retain ? ', r1' : ''}${p.dup ? ', d1' : ''}, id ${p.id}, '${p.topic}', ${p.payload.length} bytes)`
    } else if ('id' in p) {
        detail = ` (id ${p.id})`
    } else if (p.type === MQTT_PACKET_CONN_ACK) {
        /* An MQTT 5 CONNACK has its reason code instead */
        detail = ` (session present ${p.sessionPresent ? 1 : 0}, code ${p.returnCode ?? (p as { reasonCode?: number }).reasonCode})`
    }
    rDebug('mqtt', 'Client %s %s %s%s', mq.id, direction, PACKET_NAMES[p.type], detail)
}

function traceBytes(mq: Mqtt, bytes: Uint8Array): void {
    try {
        /* MQTT 5 packets are traced as they are (their 3.1.1 fields, plus reason codes, options and properties) */
        const decoder = mq.cfg.v5 !== null ? mq.cfg.v5.newDecoder() : mq.cfg.traceDecoder?.() ?? new MqttClientDecoder()
        decoder.push(bytes, p => tracePacket(mq, 'sending', p as Packet))
    } catch {
        /* only a trace */
    }
}

/** Queue a whole packet's bytes (precomputed or kept for resending). */
export function writeBytes(mq: Mqtt, bytes: Uint8Array): void {
    mq.writer.bytes(bytes)
    scheduleFlush(mq)
}

/** A PUBREL for this id (first sent, or again) */
export function writePubrel(mq: Mqtt, id: number): void {
    mq.writer.ack(0x62, id)
    scheduleFlush(mq)
}

/** Settle `w` with 0 once the bytes written so far reach the socket. */
export function waitSent(mq: Mqtt, w: MqttWait): void {
    (mq.flushWaiters ??= []).push(w)
}

/** Whether the socket holds more unsent bytes than a QoS 0 publisher may add to. */
export function writeBlocked(mq: Mqtt): boolean {
    const h = mq.sock?.handle
    return h !== null && h !== undefined && h.writableLength + mq.writer.length > MQTT_WRITE_HIGH
}

/** Route the socket's received chunks, end and drain to the client's receiver (mq.receiver). */
export function attachLink(mq: Mqtt, sock: RSocket): void {
    mq.sock = sock
    mq.processing = true
    mq.decoder.reset()
    mq.decoder.maxPacketSize = mq.cfg.maxInbound + 5
    mq.cfg.v5?.attach(mq.cfg.maxInbound)
    mq.lastRecv = mq.lastSend = mq.lastActivity = rGetTicks()
    mq.heldAt = 0
    mq.refillLate = false
    holdReceiver(sock, mq.backlog !== null)
    rSetSocketCoalesce(sock, mq.cfg.coalesce)
    setReceiver(sock, mq.receiver)
    /* A full slab's pending bytes go to the socket rather than into the next slab (each byte copied once) */
    mq.writer.onFull ??= () => {
        if (mq.processing) {
            flush(mq)
        }
    }
}

/** Stop listening to the socket (it stays open: the caller owns it). */
export function detachLink(mq: Mqtt): void {
    mq.processing = false
    if (mq.sock !== null && mq.sock.receiver === mq.receiver) {
        setReceiver(mq.sock, null)
        holdReceiver(mq.sock, false)
    }
    mq.writer.detach()
}
