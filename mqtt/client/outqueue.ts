/*
    The outbound queue: publishes waiting for the window or a connection, in publish order. A plain message
    (no waiter, no durable record, no MQTT 5 properties: what a burst is made of) is kept as a slot of columns,
    its payload copied into a shared slab; its OutMsg is made only when it leaves the queue. Queued messages
    live long (a burst's whole run), and an object per message would be copied by every collection until the
    window took it; slots and slabs are not. Other messages are kept as the OutMsg they are.
 */
import { copyBytes } from '../codec/bytes.js'
import { MQTT_UNSENT } from '../constants.js'
import { OUT_PUBLISH, OutMsg } from './outmsg.js'

const SLAB = 64 * 1024
/* Payloads larger than this get a copy of their own */
const SMALL = 4096
/* Shared empty columns and slab until the first message (an idle client's queue costs no buffers) */
const EMPTY: never[] = []
const NO_INTS = new Int32Array(0)
const NO_BYTES = new Uint8Array(0)

export class OutQueue {
    /* The message of a slot: an OutMsg (pushed as one, or made by peek), or undefined for a plain one */
    private msgs: (OutMsg | undefined)[] = EMPTY
    private topics: (string | undefined)[] = EMPTY
    private topicBytes: (Uint8Array | undefined)[] = EMPTY
    /* A plain message's payload: data[slot] from off[slot], len[slot] bytes; flags[slot] = qos | retain << 2 */
    private data: (Uint8Array | undefined)[] = EMPTY
    private off = NO_INTS
    private len = NO_INTS
    private flags = NO_BYTES
    private head = 0
    private count = 0
    private mask = -1
    private slab = NO_BYTES
    private slabUsed = 0

    get length(): number {
        return this.count
    }

    /** Queue a message as it is. */
    push(msg: OutMsg): void {
        const slot = this.reserve()
        this.msgs[slot] = msg
    }

    /** Queue a plain publish: the payload is copied (the caller may reuse it). */
    pushPlain(topic: string, topicBytes: Uint8Array, payload: Uint8Array, qos: number, retain: boolean): void {
        const slot = this.reserve()
        const n = payload.length
        let data: Uint8Array
        let at = 0
        if (n > SMALL) {
            data = copyBytes(payload)
        } else {
            if (this.slabUsed + n > this.slab.length) {
                /* Never reused: views made of it stay valid as long as they live */
                this.slab = new Uint8Array(SLAB)
                this.slabUsed = 0
            }
            data = this.slab
            at = this.slabUsed
            this.slab.set(payload, at)
            this.slabUsed += n
        }
        this.topics[slot] = topic
        this.topicBytes[slot] = topicBytes
        this.data[slot] = data
        this.off[slot] = at
        this.len[slot] = n
        this.flags[slot] = qos | (retain ? 4 : 0)
    }

    /** The oldest message (made into an OutMsg if it is plain, and kept as that), or undefined. */
    peek(): OutMsg | undefined {
        if (this.count === 0) {
            return undefined
        }
        const slot = this.head
        const msg = this.msgs[slot]
        if (msg === undefined) {
            return this.msgs[slot] = this.make(slot)
        }
        if (inSlab(msg)) {
            /* Made by peekToSend and left in the queue: give it its payload */
            msg.payload = new Uint8Array(msg.bytes!.buffer, msg.keptStart, msg.keptEnd - msg.keptStart)
            msg.bytes = null
            msg.keptStart = msg.keptEnd = 0
        }
        return msg
    }

    /**
        The oldest message, to be encoded now by PacketWriter.publishKeepRange: a plain QoS 1/2 one comes without
        a payload view, its payload left in the slab as bytes[keptStart, keptEnd) (see inSlab).
     */
    peekToSend(): OutMsg | undefined {
        const slot = this.head
        if (this.count === 0 || this.msgs[slot] !== undefined || (this.flags[slot] & 3) === 0) {
            return this.peek()
        }
        const f = this.flags[slot]
        const msg = new OutMsg(OUT_PUBLISH, f & 3, (f & 4) !== 0, this.topics[slot]!, this.topicBytes[slot]!, null, null, 0)
        msg.size = this.len[slot]
        msg.bytes = this.data[slot]!
        msg.keptStart = this.off[slot]
        msg.keptEnd = this.off[slot] + this.len[slot]
        return this.msgs[slot] = msg
    }

    /** Take the oldest message (with its payload), or undefined. */
    shift(): OutMsg | undefined {
        const msg = this.peek()
        if (msg !== undefined) {
            this.drop()
        }
        return msg
    }

    /** Take the oldest message as it is (sent: what peekToSend gave), or nothing when the queue is empty. */
    drop(): void {
        if (this.count === 0) {
            return
        }
        const slot = this.head
        this.msgs[slot] = undefined
        if (this.data[slot] !== undefined) {
            this.topics[slot] = undefined
            this.topicBytes[slot] = undefined
            this.data[slot] = undefined
        }
        this.head = (slot + 1) & this.mask
        this.count--
    }

    private make(slot: number): OutMsg {
        const payload = new Uint8Array(this.data[slot]!.buffer, this.off[slot], this.len[slot])
        const f = this.flags[slot]
        return new OutMsg(OUT_PUBLISH, f & 3, (f & 4) !== 0, this.topics[slot]!, this.topicBytes[slot]!, payload, null, 0)
    }

    /* The slot for a new message at the tail, growing the columns (doubling) when full */
    private reserve(): number {
        if (this.count > this.mask) {
            this.grow()
        }
        const slot = (this.head + this.count) & this.mask
        this.count++
        return slot
    }

    private grow(): void {
        const size = this.mask < 0 ? 64 : (this.mask + 1) * 2
        const { head, count } = this
        this.msgs = refs(this.msgs, head, count, size)
        this.topics = refs(this.topics, head, count, size)
        this.topicBytes = refs(this.topicBytes, head, count, size)
        this.data = refs(this.data, head, count, size)
        this.off = numbers(this.off, new Int32Array(size), head, count)
        this.len = numbers(this.len, new Int32Array(size), head, count)
        this.flags = numbers(this.flags, new Uint8Array(size), head, count)
        this.mask = size - 1
        this.head = 0
    }
}

/* A column of references in a new array of `size`, the oldest first (the old one is full: count is its length) */
function refs<T>(a: (T | undefined)[], head: number, count: number, size: number): (T | undefined)[] {
    const out = new Array<T | undefined>(size).fill(undefined)
    for (let i = 0; i < count; i++) {
        out[i] = a[(head + i) % count]
    }
    return out
}

/* A column of numbers in `to`, the oldest first */
function numbers<T extends Int32Array | Uint8Array>(a: T, to: T, head: number, count: number): T {
    to.set(a.subarray(head, count))
    to.set(a.subarray(0, head), count - head)
    return to
}

/** Whether an unsent PUBLISH's payload is still in the queue's slab (bytes[keptStart, keptEnd)), as peekToSend gives it. */
export function inSlab(msg: OutMsg): boolean {
    return msg.payload === null && msg.state === MQTT_UNSENT && msg.bytes !== null && msg.type === OUT_PUBLISH
}
