/*
    The outbound queue: publishes waiting for the window or a connection, in publish order. A plain message
    (no waiter, no durable record, no MQTT 5 properties: what a burst is made of) is kept as a slot of columns,
    its payload copied into a shared slab; no OutMsg is made of it (the window sends it from here and keeps it
    in flight as columns too, inflight.ts) unless something asks for the message itself (peek). Queued messages
    live long (a burst's whole run), and an object per message would be copied by every collection until the
    window took it; slots and slabs are not. Other messages are kept as the OutMsg they are. The columns come
    in segments, chained (see Segment).
 */
import { allocBytes, copyBytes } from '../codec/bytes.js'
import { OUT_PUBLISH, OutMsg } from './outmsg.js'

const SLAB = 64 * 1024
/* Payloads larger than this get a copy of their own */
const SMALL = 4096
/* Slots of the first segment (a client that queues a little keeps little), and of the others */
const FIRST = 64
const SEGMENT = 1024
const NO_BYTES = new Uint8Array(0)
const STRIDE = 4
/* Slabs whose payloads were all sent, kept for the next (at most; none once the queue is empty): a window of a
   thousand 1 KiB messages refilled by halves frees eight at once */
const SPARE_SLABS = 8
/* A plain slot's flag (with qos | retain << 2): its payload is in a shared slab */
const SLAB_PAYLOAD = 8

/*
    A run of slots, as columns. The queue is a chain of segments: it grows by a segment, never by copying what
    it holds (a burst queues hundreds of thousands of messages, each column copied at every doubling and the
    long-lived copies traced by the collector), and a segment the head has left is kept for the tail's next one.
    A plain slot holds no reference of its own: its topic and payload buffer are indexes into the segment's
    tables, where a run of messages to one topic (one cached encoding) from one slab shares one entry. Columns
    of references, a slot each, would be collected young and copied, then traced while the burst lasts: at a
    million queued messages that cost more than the rest of queueing them.
 */
class Segment {
    /* The message of a slot: an OutMsg (pushed as one, or made by peek), or undefined for a plain one; no
       column until the segment holds one */
    msgs: (OutMsg | undefined)[] | null = null
    /* The plain slots' topics (with their encodings) and payload buffers, each new one appended */
    readonly topics: string[] = []
    readonly topicBytes: Uint8Array[] = []
    readonly buffers: Uint8Array[] = []
    /* A plain slot's fields, STRIDE ints from STRIDE * slot: its payload's offset in its buffer and size, qos | retain << 2,
       and its topic and buffer indexes (topic << 16 | buffer); one typed array for all (its memory is allocated apart) */
    readonly at: Int32Array
    /** The oldest slot in use, and the first free one */
    start = 0
    end = 0
    next: Segment | null = null

    constructor(readonly size: number) {
        this.at = new Int32Array(STRIDE * size)
    }

    /** The OutMsg of a slot, if it holds one. */
    msg(slot: number): OutMsg | undefined {
        return this.msgs === null ? undefined : this.msgs[slot]
    }

    setMsg(slot: number, msg: OutMsg | undefined): void {
        /* Holes until used: a hole reads as undefined */
        (this.msgs ??= new Array<OutMsg | undefined>(this.size))[slot] = msg
    }

    /* Forget what the slots held, for reuse */
    clear(): void {
        this.start = this.end = 0
        this.topics.length = this.topicBytes.length = this.buffers.length = 0
    }
}

/** The oldest queued message's fields, when it is plain (OutQueue.peekPlain): one of these serves every call. */
export class PlainHead {
    qos = 0
    retain = false
    topic = ''
    topicBytes: Uint8Array = NO_BYTES
    bytes: Uint8Array = NO_BYTES
    start = 0
    size = 0
}

export class OutQueue {
    /* Oldest and newest segments; null until the first message (an idle client's queue costs no buffers) */
    private head: Segment | null = null
    private tail: Segment | null = null
    /* A segment the head left, for the tail's next */
    private spare: Segment | null = null
    private count = 0
    private slab: Uint8Array = NO_BYTES
    private slabUsed = 0
    /* The slabs holding queued payloads, oldest first (the last is `slab`), and how many each holds: a slab whose
       payloads were all sent is written again (from its start if it is `slab`, else as the next one), still in the
       cache, rather than a new one filled; not one a message was made of (peek), whose payload is a view of it */
    private slabs: Uint8Array[] = []
    private held: number[] = []
    private spares: Uint8Array[] = []
    private viewed: WeakSet<Uint8Array> | null = null

    get length(): number {
        return this.count
    }

    /** Queue a message as it is. */
    push(msg: OutMsg): void {
        const seg = this.reserve()
        const slot = seg.end++
        seg.setMsg(slot, msg)
        /* No plain fields: a size of 0 owns no buffer (drop) */
        seg.at[STRIDE * slot + 1] = seg.at[STRIDE * slot + 2] = 0
    }

    /** Queue a plain publish: the payload is copied (the caller may reuse it). */
    pushPlain(topic: string, topicBytes: Uint8Array, payload: Uint8Array, qos: number, retain: boolean): void {
        const seg = this.reserve()
        const slot = seg.end++
        const n = payload.length
        let data: Uint8Array
        let start = 0
        let flags = 0
        if (n > SMALL) {
            data = copyBytes(payload)
        } else {
            if (this.slabUsed + n > this.slab.length) {
                /* Not zero-filled: every byte read from it was copied in first */
                this.slab = this.spares.pop() ?? allocBytes(SLAB)
                this.slabUsed = 0
                this.slabs.push(this.slab)
                this.held.push(0)
            }
            data = this.slab
            start = this.slabUsed
            this.slab.set(payload, start)
            this.slabUsed += n
            this.held[this.held.length - 1]++
            flags = SLAB_PAYLOAD
        }
        let t = seg.topicBytes.length - 1
        if (t < 0 || seg.topicBytes[t] !== topicBytes) {
            seg.topics.push(topic)
            seg.topicBytes.push(topicBytes)
            t++
        }
        let b = seg.buffers.length - 1
        if (b < 0 || seg.buffers[b] !== data) {
            seg.buffers.push(data)
            b++
        }
        const i = STRIDE * slot
        const at = seg.at
        at[i] = start
        at[i + 1] = n
        at[i + 2] = qos | (retain ? 4 : 0) | flags
        at[i + 3] = (t << 16) | b
    }

    /** The oldest message (made into an OutMsg if it is plain, and kept as that), or undefined. */
    peek(): OutMsg | undefined {
        if (this.count === 0) {
            return undefined
        }
        const seg = this.head!
        const slot = seg.start
        let msg = seg.msg(slot)
        if (msg === undefined) {
            msg = make(seg, slot)
            seg.setMsg(slot, msg)
            if (seg.at[STRIDE * slot + 2] & SLAB_PAYLOAD) {
                (this.viewed ??= new WeakSet()).add(seg.buffers[seg.at[STRIDE * slot + 3] & 0xffff])
            }
        }
        return msg
    }

    /**
        Whether the oldest message is a plain QoS 1/2 one; if so, its fields go into `head`, its payload left in
        the slab as head.bytes[head.start, head.start + head.size), for PacketWriter.publishKeepRange to copy
        from. Nothing is made of it (the caller sends it and drops its slot; if it cannot, the slot stays as it
        is): a message that outlived the young generation in a window would be copied by the collector.
     */
    peekPlain(head: PlainHead): boolean {
        if (this.count === 0) {
            return false
        }
        const seg = this.head!
        const slot = seg.start
        const at = seg.at
        const i = STRIDE * slot
        const f = at[i + 2]
        if ((f & 3) === 0 || seg.msg(slot) !== undefined) {
            return false
        }
        const refs = at[i + 3]
        head.qos = f & 3
        head.retain = (f & 4) !== 0
        head.topic = seg.topics[refs >>> 16]
        head.topicBytes = seg.topicBytes[refs >>> 16]
        head.bytes = seg.buffers[refs & 0xffff]
        head.start = at[i]
        head.size = at[i + 1]
        return true
    }

    /** Take the oldest message (with its payload), or undefined. */
    shift(): OutMsg | undefined {
        const msg = this.peek()
        if (msg !== undefined) {
            this.drop()
        }
        return msg
    }

    /** Take the oldest message as it is (sent: what peekPlain described, or peek gave), or nothing when the queue is empty. */
    drop(): void {
        if (this.count === 0) {
            return
        }
        const seg = this.head!
        const slot = seg.start++
        if (seg.msgs !== null) {
            seg.msgs[slot] = undefined
        }
        if (seg.at[STRIDE * slot + 2] & SLAB_PAYLOAD) {
            /* Queued in order, sent in order: its payload is in the oldest slab */
            if (--this.held[0] === 0) {
                this.slabSent()
            }
        } else if (seg.at[STRIDE * slot + 1] > SMALL) {
            /* A payload copied for this message alone goes with it (a slab, shared, goes with the segment's slots) */
            seg.buffers[seg.at[STRIDE * slot + 3] & 0xffff] = NO_BYTES
        }
        if (--this.count === 0) {
            /* Nothing queued: no spare slab held (a burst's) */
            this.spares.length = 0
        }
        if (seg.start === seg.end) {
            /* Used up: the next segment becomes the head (this one kept for the tail), or, the last, it starts over */
            seg.clear()
            if (seg.next !== null) {
                this.head = seg.next
                seg.next = null
                if (seg.size === SEGMENT) {
                    this.spare = seg
                }
            }
        }
    }

    /* The oldest slab's payloads are all sent: written again unless a view was made of it */
    private slabSent(): void {
        const s = this.slabs[0]
        const free = this.viewed === null || !this.viewed.has(s)
        if (s === this.slab && free) {
            /* Listed still, holding none, written again from its start */
            this.slabUsed = 0
            return
        }
        this.slabs.shift()
        this.held.shift()
        if (s === this.slab) {
            /* A view of it lives: the next payload goes into a new slab */
            this.slab = NO_BYTES
            this.slabUsed = 0
        } else if (free && this.spares.length < SPARE_SLABS) {
            this.spares.push(s)
        }
    }

    /* The segment whose `end` slot takes a new message at the tail: a new one chained when the tail is full */
    private reserve(): Segment {
        let seg = this.tail
        if (seg === null) {
            seg = this.head = this.tail = new Segment(FIRST)
        } else if (seg.end === seg.size) {
            const next = this.spare ?? new Segment(SEGMENT)
            this.spare = null
            seg = seg.next = this.tail = next
        }
        this.count++
        return seg
    }
}

function make(seg: Segment, slot: number): OutMsg {
    const at = seg.at
    const i = STRIDE * slot
    const refs = at[i + 3]
    const data = seg.buffers[refs & 0xffff]
    const payload = new Uint8Array(data.buffer, data.byteOffset + at[i], at[i + 1])
    const f = at[i + 2]
    return new OutMsg(OUT_PUBLISH, f & 3, (f & 4) !== 0, seg.topics[refs >>> 16], seg.topicBytes[refs >>> 16], payload, null, 0)
}
