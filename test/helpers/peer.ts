/*
    A scripted MQTT peer on the project's own rListenSocket: it reads the client's packets and sends exact
    bytes, for the faults and malformed input a real broker will not produce.
 */
import { R_ERR_TIMEOUT, rGetTicks, type Fiber } from '../../runtime/index.js'
import { rCloseSocket, rReadSocket, rSetSocketLinger, rWriteSocket, type RSocket } from '../../socket/index.js'
import { encode, MqttDecoder, Mqtt5Decoder, type PacketDecoder, type Packet } from '../../mqtt/index.js'
import { listen } from './net.js'

export class Peer {
    private decoder: PacketDecoder<any>
    private queue: Packet[] = []
    private buf = new Uint8Array(64 * 1024)
    /** Every packet received, in order */
    readonly log: Packet[] = []
    /** The connection ended (closed by either side, or failed): next() returns null at once from now on */
    ended = false

    /** version 5: the client's packets are read as MQTT 5.0 (Packet5 objects, typed here as Packet) */
    constructor(readonly sp: RSocket, version: 4 | 5 = 4) {
        this.decoder = version === 5 ? new Mqtt5Decoder() : new MqttDecoder()
    }

    /** The next packet from the client, or null at end of stream or after `ms`. */
    *next(ms = 5000): Fiber<Packet | null> {
        const deadline = rGetTicks() + ms
        while (this.queue.length === 0) {
            const n = yield* rReadSocket(this.sp, this.buf, this.buf.length, deadline)
            if (n <= 0) {
                this.ended ||= n !== R_ERR_TIMEOUT
                return null
            }
            this.decoder.push(this.buf.subarray(0, n), p => {
                this.queue.push(p)
                this.log.push(p)
            })
        }
        return this.queue.shift()!
    }

    /** The packets read and not yet taken, at once (no wait for more). */
    takeQueued(): Packet[] {
        const q = this.queue
        this.queue = []
        return q
    }

    /** The next packet of a type, skipping (and recording) others; null if none comes. */
    *expect(type: number, ms = 5000): Fiber<Packet | null> {
        for (;;) {
            const p = yield* this.next(ms)
            if (p === null || p.type === type) {
                return p
            }
        }
    }

    *send(data: Packet | Uint8Array | number[]): Fiber<number> {
        const bytes = Array.isArray(data) ? Uint8Array.from(data) : data instanceof Uint8Array ? data : encode(data)
        return yield* rWriteSocket(this.sp, bytes, bytes.length, 0)
    }

    /** PUBACKs for these ids, in this order, in one write. */
    *puback(ids: number[]): Fiber<number> {
        return yield* this.send(ids.flatMap(id => [0x40, 2, id >> 8, id & 0xff]))
    }

    /** Accept the CONNECT: answer CONNACK with this code and session-present flag. */
    *accept(returnCode = 0, sessionPresent = false): Fiber<Packet | null> {
        const connect = yield* this.expect(1)
        yield* this.send({ type: 2, sessionPresent, returnCode })
        return connect
    }

    close(abort = false): void {
        if (abort) {
            rSetSocketLinger(this.sp, 0)
        }
        rCloseSocket(this.sp)
    }
}

/**
    Listen for the client and run `script` for each connection on a fiber of its own. Returns the port and the
    listener (close it when done).
 */
export function* scripted(script: (peer: Peer, index: number) => Fiber<void>, version: 4 | 5 = 4): Fiber<{ port: number, listener: RSocket }> {
    let count = 0
    return yield* listen(function* (_arg: unknown, sp: RSocket) {
        const peer = new Peer(sp, version)
        try {
            yield* script(peer, count++)
        } finally {
            rCloseSocket(sp)
        }
    })
}
