/*
    The messages in flight by packet id, in send order: what a Map<number, OutMsg> did, without hashing. Ids
    are handed out in sequence, so a table indexed by the id's low bits holds them without collisions once it
    is larger than the span of live ids; it doubles when two live ids meet (at most 65,536 slots). The send
    order (resends go in it [MQTT-4.4.0-1]) is a list through the messages themselves.
 */
import type { OutMsg } from './outmsg.js'

const FIRST = 64
const MAX = 65536

export class InflightTable {
    /* Made as grow() makes them (one kind of array for every table: code compiled for one table's serves the next) */
    private slots: (OutMsg | undefined)[] = slotsOf(FIRST)
    private mask = FIRST - 1
    private first: OutMsg | null = null
    private last: OutMsg | null = null
    private count = 0

    get size(): number {
        return this.count
    }

    get(id: number): OutMsg | undefined {
        const m = this.slots[id & this.mask]
        return m !== undefined && m.id === id ? m : undefined
    }

    has(id: number): boolean {
        return this.get(id) !== undefined
    }

    /** Track msg under id (its msg.id). An id already in flight is replaced in its place in the order. */
    set(id: number, msg: OutMsg): this {
        const old = this.get(id)
        if (old === msg) {
            return this
        }
        if (old !== undefined) {
            const prev = msg.prevSent = old.prevSent, next = msg.nextSent = old.nextSent
            old.prevSent = old.nextSent = null
            if (prev !== null) prev.nextSent = msg
            else this.first = msg
            if (next !== null) next.prevSent = msg
            else this.last = msg
            this.slots[id & this.mask] = msg
            return this
        }
        while (this.slots[id & this.mask] !== undefined && this.mask < MAX - 1) {
            this.grow()
        }
        this.slots[id & this.mask] = msg
        this.count++
        msg.prevSent = this.last
        msg.nextSent = null
        if (this.last !== null) {
            this.last.nextSent = msg
        } else {
            this.first = msg
        }
        this.last = msg
        return this
    }

    delete(id: number): boolean {
        const msg = this.get(id)
        if (msg === undefined) {
            return false
        }
        this.slots[id & this.mask] = undefined
        this.count--
        const prev = msg.prevSent, next = msg.nextSent
        if (prev !== null) prev.nextSent = next
        else this.first = next
        if (next !== null) next.prevSent = prev
        else this.last = prev
        /* Its links go with it: a dead message that still pointed at a live one would keep that one (and all
           after it) through every young-generation collection while it waits in the old generation */
        msg.prevSent = msg.nextSent = null
        return true
    }

    clear(): void {
        if (this.count > 0) {
            this.slots.fill(undefined)
        }
        for (let m = this.first; m !== null;) {
            const next = m.nextSent
            m.prevSent = m.nextSent = null
            m = next
        }
        this.first = this.last = null
        this.count = 0
    }

    /** The messages in send order, as they are when the loop starts; one deleted meanwhile is skipped. */
    *values(): Generator<OutMsg, void, undefined> {
        const all: OutMsg[] = []
        for (let m = this.first; m !== null; m = m.nextSent) {
            all.push(m)
        }
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

    /* Double the table (the first: FIRST slots) and put every message at its id's place in the new one */
    private grow(): void {
        const size = (this.mask + 1) * 2
        const slots = slotsOf(size)
        for (let m = this.first; m !== null; m = m.nextSent) {
            slots[m.id & (size - 1)] = m
        }
        this.slots = slots
        this.mask = size - 1
    }
}

function slotsOf(size: number): (OutMsg | undefined)[] {
    return new Array<OutMsg | undefined>(size).fill(undefined)
}
