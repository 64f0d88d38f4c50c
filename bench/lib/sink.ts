/*
    The benchmark sink: a fast MQTT peer in its own process, so that the client under test is the bottleneck.
    It accepts every CONNECT, acknowledges every PUBLISH (PUBACK / PUBREC, then PUBCOMP), answers SUBSCRIBE
    and PINGREQ, and writes its answers once per received chunk. Subscribing to blast/<qos>/<count>/<size>
    makes it send that many messages as fast as the client takes them (at most 10,000 QoS 1 unacknowledged).
    Prints "port <n>" once listening; exits when stdin closes.
 */
import { createServer, type Socket } from 'node:net'
import { MqttDecoder, PacketWriter, encodeTopic, type Packet } from '../../mqtt/index.js'

const BLAST_WINDOW = 10_000

class Conn {
    decoder = new MqttDecoder()
    writer = new PacketWriter()
    blast: { qos: number, left: number, topic: Uint8Array, payload: Uint8Array, id: number, unacked: number } | null = null
    waiting = false

    constructor(readonly sock: Socket) {
        sock.setNoDelay(true)
        sock.on('data', chunk => this.chunk(chunk))
        sock.on('drain', () => this.pump())
        sock.on('error', () => undefined)
        sock.on('end', () => sock.end())
    }

    chunk(chunk: Buffer): void {
        try {
            this.decoder.push(chunk, p => this.packet(p))
        } catch {
            this.sock.destroy()
            return
        }
        this.flush()
        this.pump()
    }

    packet(p: Packet): void {
        const w = this.writer
        switch (p.type) {
        case 1: w.write({ type: 2, sessionPresent: false, returnCode: 0 }); break
        case 3:
            if (p.qos === 1) w.ack(0x40, p.id)
            else if (p.qos === 2) w.ack(0x50, p.id)
            break
        case 4:
        case 7:
            if (this.blast) this.blast.unacked--
            break
        case 5: w.ack(0x62, p.id); break
        case 6: w.ack(0x70, p.id); break
        case 8: {
            w.write({ type: 9, id: p.id, granted: p.subscriptions.map(s => s.qos) })
            const m = /^blast\/(\d)\/(\d+)\/(\d+)$/.exec(p.subscriptions[0].topic)
            if (m) {
                this.blast = { qos: Number(m[1]), left: Number(m[2]), topic: encodeTopic(p.subscriptions[0].topic), payload: new Uint8Array(Number(m[3])).fill(66), id: 0, unacked: 0 }
            }
            break
        }
        case 10: w.write({ type: 11, id: p.id }); break
        case 12: w.write({ type: 13 }); break
        case 14: this.sock.end(); break
        }
    }

    flush(): void {
        const bytes = this.writer.take()
        if (bytes !== null) {
            this.sock.write(bytes)
        }
    }

    /* Send blast messages while the socket takes them */
    pump(): void {
        const b = this.blast
        if (b === null) {
            return
        }
        while (b.left > 0 && !this.sock.writableNeedDrain && (b.qos === 0 || b.unacked < BLAST_WINDOW)) {
            for (let i = 0; i < 256 && b.left > 0 && (b.qos === 0 || b.unacked < BLAST_WINDOW); i++) {
                if (b.qos > 0) {
                    b.id = b.id >= 65535 ? 1 : b.id + 1
                    b.unacked++
                }
                this.writer.publish(b.topic, b.payload, b.qos, false, false, b.id)
                b.left--
            }
            this.flush()
        }
        if (b.left === 0) {
            this.blast = null
        }
    }
}

const server = createServer(sock => new Conn(sock))
server.listen(0, '127.0.0.1', () => process.stdout.write(`port ${(server.address() as { port: number }).port}\n`))
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
