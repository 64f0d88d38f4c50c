/*
    PacketWriter: many packets encoded into one write buffer (slabs that grow with a busy writer). A client's is
    a PacketBuffer, the same without write(packet): it writes PUBLISH packets, acknowledgements and bytes it
    encoded itself, so its bundle carries no encoder for the packets only a server sends.
 */
import { allocBytes } from './bytes.js'
import { packetSize, writePacket } from './encode.js'
import { publishSize, writePublish, writePublishRange } from './encode-publish.js'
import { varintSize } from './varint.js'
import type { Packet } from './packets.js'

/** The MQTT 5 PUBLISH encoder (encode5.ts's), handed in by a client that speaks MQTT 5 */
export interface Publish5Encoder {
    publish5Size(topicBytes: Uint8Array, payload: Uint8Array, qos: number, props: Uint8Array | null): number
    writePublish5(buf: Uint8Array, pos: number, topicBytes: Uint8Array, payload: Uint8Array, qos: number, retain: boolean,
        dup: boolean, id: number, props: Uint8Array | null): number
}

const EMPTY = new Uint8Array(0)
/* Free slabs a writer keeps at most (a busy writer's slab size each: 128 KiB for a client): enough for a window of a
   thousand 1 KiB messages refilled by halves to write into none but its own (with 2, half its slabs were new) */
const FREE_SLABS = 4
/* Takes without a new slab after which the free slabs are let go (a busy writer of 1 KiB messages needs one
   every take or two, of 16-byte QoS 1 messages one every ten refills of a window) */
const QUIET_TAKES = 64

/**
    Many packets into one write buffer. Bytes handed out by take() are never overwritten: later packets go after
    them in the same slab, or into a new slab.
    @example const w = new PacketBuffer(); w.publish(topic, payload, 0, false, false, 0); w.ack(0x40, 7); sock.write(w.take()!)
 */
export class PacketBuffer {
    protected slab: Uint8Array = EMPTY
    protected start = 0
    protected end = 0
    /** Size of the next slab: small for a quiet writer, growing (to slabSize) for a busy one */
    private size: number
    /**
        Packets kept for resending (publishKeep, publishKeepRange) in the slab and not yet released: while there
        is one, the slab is never written again from its start
     */
    private kept = 0
    /* Slabs left (filled up, or let go) with kept packets not yet released: how many each (made on first use) */
    private retired: WeakMap<Uint8Array, number> | null = null
    /* Full-size slabs left with no kept packet (or whose kept packets were all released), waiting for a write
       consumed at once (reuse(true)), which shows the socket holds none of their bytes; then free, for the next slab */
    private released: Uint8Array[] = []
    private free: Uint8Array[] = []
    /* Takes since the last new slab */
    private quiet = 0
    /**
        Called when a packet does not fit in the slab and bytes are pending: the owner may take them (a client
        hands them to its socket), and then they are not moved into the next slab.
     */
    onFull: (() => void) | null = null

    constructor(private readonly slabSize = 64 * 1024) {
        this.size = Math.min(1024, slabSize)
    }

    /** Bytes written and not yet taken. */
    get length(): number {
        return this.end - this.start
    }

    /**
        Make room for n more bytes. What is written and not yet taken (unless onFull takes it) moves to the new
        slab with room for as much again: a writer filled past its slab size without a take() copies each byte a
        bounded number of times, not once for every packet added.
     */
    reserve(n: number): Uint8Array {
        if (this.end + n > this.slab.length) {
            /* A slab filled up: the next is larger (before onFull, whose take() may let this one go) */
            if (this.slab.length > 0) {
                this.size = Math.min(this.size * 4, this.slabSize)
            }
            if (this.end > this.start && this.onFull !== null) {
                this.onFull()
                /* The owner took the bytes and they were consumed at once (reuse): the same slab again, when it
                   is as large as a busy writer's slab has grown */
                if (this.end + n <= this.slab.length && this.slab.length >= this.size) {
                    return this.slab
                }
            }
            const pending = this.slab.subarray(this.start, this.end)
            this.retire()
            const want = Math.max(this.size, n + 2 * pending.length)
            this.slab = want === this.slabSize && this.free.length > 0 ? this.free.pop()! : allocBytes(want)
            this.quiet = 0
            this.slab.set(pending)
            this.start = 0
            this.end = pending.length
        }
        return this.slab
    }

    /** Append encoded bytes (a kept PUBLISH, a precomputed packet). */
    bytes(b: Uint8Array): void {
        const buf = this.reserve(b.length)
        buf.set(b, this.end)
        this.end += b.length
    }

    publish(topicBytes: Uint8Array, payload: Uint8Array, qos: number, retain: boolean, dup: boolean, id: number): void {
        const size = publishSize(topicBytes, payload, qos, dup, id)
        const buf = this.reserve(size)
        this.end = writePublish(buf, this.end, topicBytes, payload, qos, retain, dup, id)
    }

    /**
        As publish (MQTT 5 with the `v5` encoder, with its encoded property list or null), keeping the packet for resending
        without a view per packet: returns where it starts; its bytes run to `position` in `current`, which is
        never overwritten.
     */
    publishKeep(topicBytes: Uint8Array, payload: Uint8Array, qos: number, retain: boolean, id: number, v5: Publish5Encoder | null, props: Uint8Array | null): number {
        const size = v5 !== null ? v5.publish5Size(topicBytes, payload, qos, props) : publishSize(topicBytes, payload, qos, false, id)
        const buf = this.reserve(size)
        const start = this.end
        this.kept++
        this.end = v5 !== null ? v5.writePublish5(buf, start, topicBytes, payload, qos, retain, false, id, props) :
            writePublish(buf, start, topicBytes, payload, qos, retain, false, id)
        return start
    }

    /**
        As publishKeep for an MQTT 3.1.1 QoS 1/2 PUBLISH whose payload is src[start, end) (a slab of queued
        payloads): no view of the payload is made. Returns where the packet starts.
     */
    publishKeepRange(topicBytes: Uint8Array, src: Uint8Array, start: number, end: number, qos: number, retain: boolean, id: number): number {
        const rem = topicBytes.length + 2 + end - start
        const buf = this.reserve(1 + varintSize(rem) + rem)
        const at = this.end
        this.kept++
        this.end = writePublishRange(buf, at, topicBytes, src, start, end, qos, retain, id)
        return at
    }

    /** The slab written to last (publishKeep's packet is in it). */
    get current(): Uint8Array {
        return this.slab
    }

    /** Where the next packet goes in `current`. */
    get position(): number {
        return this.end
    }

    /** An MQTT 5.0 PUBLISH (encoded topic, encoded property list or null) into the buffer, by the v5 encoder. */
    publish5(topicBytes: Uint8Array, payload: Uint8Array, qos: number, retain: boolean, dup: boolean, id: number, props: Uint8Array | null, v5: Publish5Encoder): void {
        const buf = this.reserve(v5.publish5Size(topicBytes, payload, qos, props))
        this.end = v5.writePublish5(buf, this.end, topicBytes, payload, qos, retain, dup, id, props)
    }

    /** PUBACK 0x40, PUBREC 0x50, PUBREL 0x62, PUBCOMP 0x70 or UNSUBACK 0xb0 (as the header byte). */
    ack(header: number, id: number): void {
        const buf = this.reserve(4)
        let pos = this.end
        buf[pos++] = header
        buf[pos++] = 2
        buf[pos++] = id >> 8
        buf[pos++] = id & 0xff
        this.end = pos
    }

    /**
        The bytes written since the last take, or null when none. A quiet writer's small slab is let go (the next
        write takes another) and so is a nearly full one; a busy writer keeps its own. With `hold`, the slab is
        kept until reuse() says what became of the bytes.
     */
    take(hold = false): Uint8Array | null {
        if (this.end === this.start) {
            return null
        }
        const out = this.slab.subarray(this.start, this.end)
        this.start = this.end
        if (!hold) {
            this.letGo()
        }
        return out
    }

    /**
        After take(true): `consumed` when the bytes taken were used up at once (a socket's write took them all
        before returning, and every earlier write was done). Then every byte of the slab handed out is free
        again, and the slab is written from its start, still in the cache, rather than a new one filled (each new
        slab's first writes are page faults, and the kernel copies it cold): not a slab of 1 KiB or less (let go,
        as take() lets it go), nor one that holds a kept packet not yet released. Released slabs become free
        then too. Otherwise as take().
        @example const b = w.take(true); sock.write(b); w.reuse(sock.writableLength === 0)
     */
    reuse(consumed: boolean): void {
        if (this.free.length + this.released.length > 0 && ++this.quiet > QUIET_TAKES) {
            /* No new slab for a while: the burst is over, and a quiet writer holds no free slab */
            this.trim()
        }
        if (consumed) {
            while (this.released.length > 0 && this.free.length < FREE_SLABS) {
                this.free.push(this.released.pop()!)
            }
            this.released.length = 0
            if (this.kept === 0 && this.start === this.end && this.slab.length > 1024) {
                this.start = this.end = 0
                return
            }
        }
        this.letGo()
    }

    /**
        A kept packet in `slab` (publishKeep's `current`) is no longer needed (acknowledged): once a slab's kept
        packets are all released, it can be written again. Called once for each kept packet, and never for a
        slab whose bytes are still read (a resend copies them first).
     */
    release(slab: Uint8Array): void {
        if (slab === this.slab) {
            if (this.kept > 0) {
                this.kept--
            }
            return
        }
        const n = this.retired?.get(slab)
        if (n === undefined) {
            return
        }
        if (n > 1) {
            this.retired!.set(slab, n - 1)
            return
        }
        this.retired!.delete(slab)
        this.spare(slab)
    }

    /** Let the free slabs go (a burst is over: a quiet writer holds none). */
    trim(): void {
        this.free.length = this.released.length = 0
    }

    /**
        The link the bytes went to is gone (its socket may still send what it holds): no slab written to so far
        is written again, however its packets are released. Free slabs stay free.
     */
    detach(): void {
        this.take()
        this.slab = EMPTY
        this.start = this.end = this.kept = 0
        this.retired = null
        this.released.length = 0
    }

    private letGo(): void {
        if (this.start === this.end && (this.slab.length - this.end < 512 || this.slab.length <= 1024)) {
            this.retire()
            this.slab = EMPTY
            this.start = this.end = 0
        }
    }

    /* The slab is left: its kept packets not yet released are counted for release(); with none, it waits for a
       write used up at once (a slab the socket backed up on, whose bytes Node still holds, is not lost) */
    private retire(): void {
        if (this.kept > 0) {
            (this.retired ??= new WeakMap()).set(this.slab, this.kept)
            this.kept = 0
        } else {
            this.spare(this.slab)
        }
    }

    /* A full-size slab that nothing kept holds: free at the next write used up at once */
    private spare(slab: Uint8Array): void {
        if (slab.length === this.slabSize && this.released.length + this.free.length < FREE_SLABS) {
            this.released.push(slab)
        }
    }
}

/**
    A PacketBuffer that also writes any packet given as an object.
    @example const w = new PacketWriter(); w.write({ type: 12 }); w.publish(topic, payload, 0, false, false, 0); sock.write(w.take()!)
 */
export class PacketWriter extends PacketBuffer {
    write(p: Packet): void {
        const size = packetSize(p)
        const buf = this.reserve(size)
        this.end = writePacket(buf, this.end, p, size)
    }
}
