/*
    Incremental decoder: feed chunks of any size, get complete packets. Packets wholly inside a chunk are
    parsed in place (payloads are views into the chunk); only a packet split across chunks is assembled, into a
    buffer that grows as its bytes arrive (doubling, up to the packet's size): what a header claims is never
    allocated up front, so memory follows what was received. A packet over the maximum is refused at its
    header, before anything is buffered. Every violation throws MqttCodecError naming the rule; after one the
    decoder is spent and throws it again.
 */
import { MQTT_MAX_REMAINING, PACKET_NAMES } from '../constants.js'
import { fail, MqttCodecError } from './errors.js'
import type { Packet } from './packets.js'
import { allocBytes } from './bytes.js'
import { checkFirstByte, parse, parseFromServer } from './decode.js'

export type PacketSink = (packet: Packet) => void

/**
    Takes an acknowledgement that is its type and packet identifier alone (PUBACK, PUBREC, PUBREL, PUBCOMP,
    UNSUBACK of MQTT 3.1.1), instead of a packet made of it: a client's hot path then allocates nothing per
    acknowledgement. Its bytes are checked as the parser checks them (an id of 0 goes to the parser, which
    names the rule).
 */
export type AckSink = (type: number, id: number) => void

/* First allocation for a packet split across chunks; it grows as the rest arrives */
const ASSEMBLE_MIN = 16 * 1024

/**
    The framing every decoder shares: push chunks of any size, get complete packets; only a partial tail is kept.
    Each decoder names its parser: MqttDecoder reads every MQTT 3.1.1 packet, MqttClientDecoder what a server
    sends, Mqtt5Decoder MQTT 5.0's.
 */
export abstract class PacketDecoder<P> {
    /** Largest packet accepted, in bytes including the fixed header. */
    maxPacketSize: number
    private partial: Uint8Array | null = null
    private filled = 0
    /** Size of the packet being assembled in `partial` */
    private total = 0
    private head: Uint8Array | null = null
    private headLen = 0
    private failure: MqttCodecError | null = null

    constructor(maxPacketSize = MQTT_MAX_REMAINING + 5) {
        this.maxPacketSize = maxPacketSize
    }

    /** Bytes held for a packet not yet complete. */
    get buffered(): number {
        return this.partial !== null ? this.filled : this.headLen
    }

    /** Bytes allocated for a packet not yet complete (grows with what arrives, not with what a header claims). */
    get reserved(): number {
        return this.partial?.length ?? 0
    }

    /** The error that ended this decoder, if any. */
    get error(): MqttCodecError | null {
        return this.failure
    }

    /**
        Decode a chunk; sink receives each complete packet, in order. With onAck (MQTT 3.1.1 only), the
        acknowledgements that are a type and an id alone go to it instead, in the same order among the rest.
     */
    push(chunk: Uint8Array, sink: (packet: P) => void, onAck: AckSink | null = null): void {
        if (this.failure !== null) {
            throw this.failure
        }
        try {
            this.run(chunk, sink, onAck)
        } catch (err) {
            if (err instanceof MqttCodecError) {
                this.failure = err
                this.partial = null
                this.headLen = 0
            }
            throw err
        }
    }

    /** Forget any partial packet and a past failure (a new connection). */
    reset(): void {
        this.partial = null
        this.filled = 0
        this.headLen = 0
        this.failure = null
    }

    /** The fixed header's first byte checked (MQTT 3.1.1's rules here) */
    protected firstByte(b: number): void {
        checkFirstByte(b)
    }

    /** One whole packet parsed */
    protected abstract parsePacket(buf: Uint8Array, start: number, end: number): P

    private run(chunk: Uint8Array, sink: (packet: P) => void, onAck: AckSink | null): void {
        const len = chunk.length
        let pos = 0
        if (this.headLen > 0) {
            /* Complete a fixed header split across chunks */
            const head = this.head!
            let total = -1
            while (pos < len && total < 0) {
                head[this.headLen++] = chunk[pos++]
                total = this.header(head, 0, this.headLen)
            }
            if (total < 0) {
                return
            }
            this.assemble(total, head.subarray(0, this.headLen))
            this.headLen = 0
        }
        if (this.partial !== null) {
            const take = Math.min(this.total - this.filled, len - pos)
            const buf = this.room(this.filled + take)
            buf.set(chunk.subarray(pos, pos + take), this.filled)
            this.filled += take
            pos += take
            if (this.filled < this.total) {
                return
            }
            this.partial = null
            sink(this.parsePacket(buf, 0, this.total))
        }
        while (pos < len) {
            const total = this.header(chunk, pos, len)
            if (total < 0) {
                this.head ??= new Uint8Array(5)
                this.head.set(chunk.subarray(pos, len))
                this.headLen = len - pos
                return
            }
            if (total <= len - pos) {
                /* PUBACK to PUBCOMP (4-7) or UNSUBACK (11) of 4 bytes, its remaining length one byte of 2 (the first
                   byte's flags are checked by header) */
                const type = chunk[pos] >> 4
                if (total === 4 && onAck !== null && ((type >= 4 && type <= 7) || type === 11) && chunk[pos + 1] === 2) {
                    const id = (chunk[pos + 2] << 8) | chunk[pos + 3]
                    if (id !== 0) {
                        pos += 4
                        onAck(type, id)
                        continue
                    }
                }
                const packet = this.parsePacket(chunk, pos, pos + total)
                pos += total
                sink(packet)
            } else {
                this.assemble(total, chunk.subarray(pos, len))
                return
            }
        }
    }

    /* Start assembling a packet of `total` bytes from its first bytes */
    private assemble(total: number, first: Uint8Array): void {
        this.total = total
        this.partial = allocBytes(Math.min(total, Math.max(ASSEMBLE_MIN, first.length * 2)))
        this.partial.set(first)
        this.filled = first.length
    }

    /* The assembly buffer with room for `need` bytes: doubled as bytes arrive, never past the packet's size */
    private room(need: number): Uint8Array {
        const buf = this.partial!
        if (need <= buf.length) {
            return buf
        }
        const grown = allocBytes(Math.min(this.total, Math.max(need, buf.length * 2)))
        grown.set(buf.subarray(0, this.filled))
        return this.partial = grown
    }

    /* Validate a fixed header at pos: the packet's total size, or -1 when more bytes are needed */
    private header(buf: Uint8Array, pos: number, end: number): number {
        this.firstByte(buf[pos])
        let rem = 0
        let mul = 1
        for (let i = 1; i <= 4; i++) {
            if (pos + i >= end) {
                return -1
            }
            const b = buf[pos + i]
            rem += (b & 0x7f) * mul
            if ((b & 0x80) === 0) {
                const total = 1 + i + rem
                if (total > this.maxPacketSize) {
                    fail('MQTT_TOO_LARGE', '', `${PACKET_NAMES[buf[pos] >> 4]} of ${total} bytes exceeds the maximum packet size of ${this.maxPacketSize}`)
                }
                return total
            }
            mul *= 128
        }
        return fail('MQTT_BAD_LENGTH', '[MQTT-2.2.3]', 'Remaining length longer than 4 bytes')
    }
}

/**
    Incremental decoder of every MQTT 3.1.1 packet (a broker's or a test peer's view).
    @example const d = new MqttDecoder(64 * 1024); d.push(chunk, p => { if (p.type === 3) handle(p.topic, p.payload) })
 */
export class MqttDecoder<P = Packet> extends PacketDecoder<P> {
    protected parsePacket(buf: Uint8Array, start: number, end: number): P {
        return parse(buf, start, end) as P
    }
}

/**
    Incremental decoder of what a client receives (parseFromServer): the packets a server sends, in full; those
    only a client sends as their type and packet identifier. A client's bundle carries no parser for CONNECT,
    SUBSCRIBE or UNSUBSCRIBE payloads.
    @example const d = new MqttClientDecoder(); d.push(chunk, p => { if (p.type === 2) connacked(p) })
 */
export class MqttClientDecoder extends PacketDecoder<Packet> {
    protected parsePacket(buf: Uint8Array, start: number, end: number): Packet {
        return parseFromServer(buf, start, end)
    }
}
