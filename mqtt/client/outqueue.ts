/*
    The outbound queue: publishes waiting for the window or a connection, in publish order. A plain message
    (no waiter, no durable record, no MQTT 5 properties: what a burst is made of) is kept as a slot of columns,
    its payload copied into a shared slab; no OutMsg is made of it (the window sends it from here and keeps it
    in flight as columns too, inflight.ts) unless something asks for the message itself (peek). Queued messages
    live long (a burst's whole run), and an object per message would be copied by every collection until the
    window took it; slots and slabs are not. Other messages are kept as the OutMsg they are. The columns come
    in segments, chained (see Segment).
 */
import { copyBytes } from '../codec/bytes.js'
import { OUT_PUBLISH, OutMsg } from './outmsg.js'

const SLAB = 64 * 1024
/* Payloads larger than this get a copy of their own */
const SMALL = 4096
/* Slots of the first segment (a client that queues a little keeps little), and of the others */
const FIRST = 64
const SEGMENT = 1024
const NO_BYTES = new Uint8Array(0)

/*
    A run of slots, as columns. The queue is a chain of segments: it grows by a segment, never by copying what
    it holds (a burst queues hundreds of thousands of messages, each column copied at every doubling and the
    long-lived copies traced by the collector), and a segment the head has left is kept for the tail's next one.
 */
class Segment {
    /* The message of a slot: an OutMsg (pushed as one, or made by peek), or undefined for a plain one */
    readonly msgs: (OutMsg | undefined)[]
    readonly topics: (string | undefined)[]
    readonly topicBytes: (Uint8Array | undefined)[]
    /* A plain message's payload: data[slot] from at[3 * slot], at[3 * slot + 1] bytes; at[3 * slot + 2] is its qos | retain << 2
       (one buffer for the three: a typed array's memory is allocated apart, so one costs less than three) */
    readonly data: (Uint8Array | undefined)[]
    readonly at: Int32Array
    /** The oldest slot in use, and the first free one */
    start = 0
    end = 0
    next: Segment | null = null

    constructor(readonly size: number) {
        /* Holes until used: a hole reads as undefined */
        this.msgs = new Array<OutMsg | undefined>(size)
        this.topics = new Array<string | undefined>(size)
        this.topicBytes = new Array<Uint8Array | undefined>(size)
        this.data = new Array<Uint8Array | undefined>(size)
        this.at = new Int32Array(3 * size)
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
    private slab = NO_BYTES
    private slabUsed = 0

    get length(): number {
        return this.count
    }

    /** Queue a message as it is. */
    push(msg: OutMsg): void {
        const seg = this.reserve()
        seg.msgs[seg.end++] = msg
    }

    /** Queue a plain publish: the payload is copied (the caller may reuse it). */
    pushPlain(topic: string, topicBytes: Uint8Array, payload: Uint8Array, qos: number, retain: boolean): void {
        const seg = this.reserve()
        const slot = seg.end++
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
        seg.topics[slot] = topic
        seg.topicBytes[slot] = topicBytes
        seg.data[slot] = data
        seg.at[3 * slot] = at
        seg.at[3 * slot + 1] = n
        seg.at[3 * slot + 2] = qos | (retain ? 4 : 0)
    }

    /** The oldest message (made into an OutMsg if it is plain, and kept as that), or undefined. */
    peek(): OutMsg | undefined {
        if (this.count === 0) {
            return undefined
        }
        const seg = this.head!
        const slot = seg.start
        return seg.msgs[slot] ?? (seg.msgs[slot] = make(seg, slot))
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
        const f = at[3 * slot + 2]
        if (seg.msgs[slot] !== undefined || (f & 3) === 0) {
            return false
        }
        head.qos = f & 3
        head.retain = (f & 4) !== 0
        head.topic = seg.topics[slot]!
        head.topicBytes = seg.topicBytes[slot]!
        head.bytes = seg.data[slot]!
        head.start = at[3 * slot]
        head.size = at[3 * slot + 1]
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
        seg.msgs[slot] = undefined
        if (seg.data[slot] !== undefined) {
            seg.topics[slot] = undefined
            seg.topicBytes[slot] = undefined
            seg.data[slot] = undefined
        }
        this.count--
        if (seg.start === seg.end) {
            /* Used up: the next segment becomes the head (this one kept for the tail), or, the last, it starts over */
            seg.start = seg.end = 0
            if (seg.next !== null) {
                this.head = seg.next
                seg.next = null
                if (seg.size === SEGMENT) {
                    this.spare = seg
                }
            }
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
    const payload = new Uint8Array(seg.data[slot]!.buffer, seg.at[3 * slot], seg.at[3 * slot + 1])
    const f = seg.at[3 * slot + 2]
    return new OutMsg(OUT_PUBLISH, f & 3, (f & 4) !== 0, seg.topics[slot]!, seg.topicBytes[slot]!, payload, null, 0)
}
