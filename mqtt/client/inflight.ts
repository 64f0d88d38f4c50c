/*
    The messages in flight by packet id, in send order: what a Map<number, OutMsg> did, without hashing. Ids
    are handed out in sequence, so a table indexed by the id's low bits holds them without collisions once it
    is larger than the span of live ids; it doubles when two live ids meet (at most 65,536 slots). The send
    order (resends go in it [MQTT-4.4.0-1]) is a list of ids, slot by slot.

    A plain publish (what the window takes from the queue's columns: no waiter, no durable record, no MQTT 5
    properties) is kept as columns of its slot, not as an object: a window of a thousand messages refilled
    a million times would otherwise make a million objects, each living until its acknowledgement. Its OutMsg
    is made only when something asks for the message itself (get, values: a resend after a reconnect, or of
    one overdue), and then kept in its place; the retransmit check and mqttCheckQueue read the columns
    (order, sentAt, plain).
 */
import { OUT_PUBLISH, OutMsg } from './outmsg.js'

const FIRST = 64
const MAX = 65536
/* A plain entry's numbers, per slot: where its packet is in its slab, when it was sent, its payload's size,
   and qos | retain << 2 | state << 3 */
const NUMS = 5

export class InflightTable {
    /* Made as grow() makes them (one kind of array for every table: code compiled for one table's serves the next) */
    private ids = new Int32Array(FIRST)
    private msgs: (OutMsg | undefined)[] = slotsOf<OutMsg>(FIRST)
    private prev = new Int32Array(FIRST)
    private next = new Int32Array(FIRST)
    private topics: (string | undefined)[] = slotsOf<string>(FIRST)
    private topicBytes: (Uint8Array | undefined)[] = slotsOf<Uint8Array>(FIRST)
    private data: (Uint8Array | undefined)[] = slotsOf<Uint8Array>(FIRST)
    private nums = new Float64Array(NUMS * FIRST)
    private mask = FIRST - 1
    /* Ids of the first and last in send order (0: none) */
    private first = 0
    private last = 0
    private count = 0

    get size(): number {
        return this.count
    }

    get(id: number): OutMsg | undefined {
        if (!this.has(id)) {
            return undefined
        }
        const i = id & this.mask
        return this.msgs[i] ?? this.materialize(i, id)
    }

    has(id: number): boolean {
        return id !== 0 && this.ids[id & this.mask] === id
    }

    /** Track msg under id (its msg.id). An id already in flight is replaced in its place in the order. */
    set(id: number, msg: OutMsg): this {
        const i = this.place(id)
        this.msgs[i] = msg
        this.topics[i] = this.topicBytes[i] = this.data[i] = undefined
        return this
    }

    /**
        Track a plain QoS 1/2 publish under id: its packet is bytes[start, end), sent at `sent`, in `state`
        (MQTT_AWAITING_ACK ...); `size` is its payload's.
     */
    setPlain(id: number, qos: number, retain: boolean, topic: string, topicBytes: Uint8Array, bytes: Uint8Array, start: number, end: number,
        size: number, sent: number, state: number): void {
        const i = this.place(id)
        this.msgs[i] = undefined
        this.topics[i] = topic
        this.topicBytes[i] = topicBytes
        this.data[i] = bytes
        const n = this.nums, at = NUMS * i
        n[at] = start
        n[at + 1] = end
        n[at + 2] = sent
        n[at + 3] = size
        n[at + 4] = qos | (retain ? 4 : 0) | (state << 3)
    }

    /** A plain entry's qos | retain << 2 | state << 3, or -1 when id is not in flight as a plain entry. */
    plain(id: number): number {
        const i = id & this.mask
        return this.has(id) && this.msgs[i] === undefined ? this.nums[NUMS * i + 4] : -1
    }

    /** The slab a plain entry's packet is in (the caller knows id is one: plain(id) >= 0). */
    slab(id: number): Uint8Array {
        return this.data[id & this.mask]!
    }

    /** A plain entry's new state, sent at `sent` (the caller knows it is one: plain(id) >= 0). */
    setPlainState(id: number, state: number, sent: number): void {
        const at = NUMS * (id & this.mask)
        this.nums[at + 2] = sent
        this.nums[at + 4] = (this.nums[at + 4] & 7) | (state << 3)
    }

    delete(id: number): boolean {
        if (!this.has(id)) {
            return false
        }
        const i = id & this.mask
        const prev = this.prev[i], next = this.next[i]
        if (prev !== 0) this.next[prev & this.mask] = next
        else this.first = next
        if (next !== 0) this.prev[next & this.mask] = prev
        else this.last = prev
        this.free(i)
        this.count--
        return true
    }

    clear(): void {
        for (let id = this.first; id !== 0;) {
            const i = id & this.mask
            id = this.next[i]
            this.free(i)
        }
        this.first = this.last = 0
        this.count = 0
    }

    /** The ids in flight, in send order (a copy: the table may change while it is read). */
    order(): number[] {
        const all: number[] = []
        for (let id = this.first; id !== 0; id = this.next[id & this.mask]) {
            all.push(id)
        }
        return all
    }

    /** When the message under id was last sent, or NaN when id is not in flight (a plain entry stays plain). */
    sentAt(id: number): number {
        if (!this.has(id)) {
            return NaN
        }
        const i = id & this.mask
        return this.msgs[i]?.sent ?? this.nums[NUMS * i + 2]
    }

    /** The messages in send order, as they are when the loop starts; one deleted or replaced meanwhile is skipped. */
    *values(): Generator<OutMsg, void, undefined> {
        const all = this.order().map(id => this.get(id)!)
        for (const m of all) {
            if (this.get(m.id) === m) {
                yield m
            }
        }
    }

    /** [id, message] in send order, as a Map iterates. */
    *[Symbol.iterator](): Generator<[number, OutMsg], void, undefined> {
        for (const m of this.values()) {
            yield [m.id, m]
        }
    }

    /* The slot of id: its own if in flight (its place in the order kept), else a free one put last in the order */
    private place(id: number): number {
        if (this.has(id)) {
            return id & this.mask
        }
        while (this.ids[id & this.mask] !== 0 && this.mask < MAX - 1) {
            this.grow()
        }
        const i = id & this.mask
        this.ids[i] = id
        this.prev[i] = this.last
        this.next[i] = 0
        if (this.last !== 0) {
            this.next[this.last & this.mask] = id
        } else {
            this.first = id
        }
        this.last = id
        this.count++
        return i
    }

    /* A free slot holds nothing: what a plain entry pointed at is let go */
    private free(i: number): void {
        this.ids[i] = 0
        this.msgs[i] = this.topics[i] = this.topicBytes[i] = this.data[i] = undefined
    }

    /* The OutMsg of a plain entry, made now and kept in its place */
    private materialize(i: number, id: number): OutMsg {
        const n = this.nums, at = NUMS * i
        const meta = n[at + 4]
        const msg = new OutMsg(OUT_PUBLISH, meta & 3, (meta & 4) !== 0, this.topics[i]!, this.topicBytes[i]!, null, null, 0)
        msg.id = id
        msg.bytes = this.data[i]!
        msg.keptStart = n[at]
        msg.keptEnd = n[at + 1]
        msg.sent = n[at + 2]
        msg.size = n[at + 3]
        msg.state = meta >> 3
        this.set(id, msg)
        return msg
    }

    /* Double the table (the first: FIRST slots) and put every entry at its id's place in the new one */
    private grow(): void {
        const size = (this.mask + 1) * 2
        const mask = size - 1
        const ids = new Int32Array(size), prev = new Int32Array(size), next = new Int32Array(size), nums = new Float64Array(NUMS * size)
        const msgs = slotsOf<OutMsg>(size), topics = slotsOf<string>(size), topicBytes = slotsOf<Uint8Array>(size), data = slotsOf<Uint8Array>(size)
        for (let id = this.first; id !== 0; id = this.next[id & this.mask]) {
            const i = id & this.mask, j = id & mask
            ids[j] = id
            prev[j] = this.prev[i]
            next[j] = this.next[i]
            msgs[j] = this.msgs[i]
            topics[j] = this.topics[i]
            topicBytes[j] = this.topicBytes[i]
            data[j] = this.data[i]
            for (let k = 0; k < NUMS; k++) {
                nums[NUMS * j + k] = this.nums[NUMS * i + k]
            }
        }
        this.ids = ids
        this.prev = prev
        this.next = next
        this.nums = nums
        this.msgs = msgs
        this.topics = topics
        this.topicBytes = topicBytes
        this.data = data
        this.mask = mask
    }
}

function slotsOf<T>(size: number): (T | undefined)[] {
    return new Array<T | undefined>(size).fill(undefined)
}
