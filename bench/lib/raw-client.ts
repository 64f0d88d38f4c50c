/*
    The raw writer: the ceiling. A plain socket writes packets encoded before the clock starts, keeps the same
    in-flight window as the clients, and counts acknowledgements with the project's decoder.
 */
import { connect, type Socket } from 'node:net'
import { encode, encodePublish, MqttDecoder, PacketWriter, type Packet } from '../../mqtt/index.js'
import { footprint, measure, uniqueId, type Contender } from './contender.js'

interface Raw {
    sock: Socket
    onPacket: (p: Packet) => void
}

function open(port: number): Promise<Raw> {
    return new Promise((resolve, reject) => {
        const sock = connect(port, '127.0.0.1')
        const decoder = new MqttDecoder()
        const raw: Raw = { sock, onPacket: () => undefined }
        sock.setNoDelay(true)
        sock.on('error', reject)
        sock.on('connect', () => {
            sock.write(encode({ type: 1, protocolName: 'MQTT', protocolLevel: 4, clean: true, keepAlive: 600, clientId: uniqueId('raw'), will: null, username: null, password: null }))
        })
        sock.on('data', chunk => decoder.push(chunk, p => {
            if (p.type === 2) {
                resolve(raw)
            } else {
                raw.onPacket(p)
            }
        }))
    })
}

function close(raw: Raw): Promise<void> {
    return new Promise(resolve => {
        raw.sock.end(Uint8Array.of(0xe0, 0), () => resolve())
        raw.sock.destroySoon()
    })
}

export const rawWriter: Contender = {
    name: 'raw writer',

    async publish(o) {
        const raw = await open(o.port)
        /* Every packet has the same size (a 2-byte id whatever its value) */
        const qos = Math.max(1, o.qos)
        const payload = new Uint8Array(o.size).fill(65)
        const one = encodePublish(o.topic, payload, o.qos, false, false, o.qos ? 1 : 0).length
        /* Packets go out of a ring of encoded ones (64 KiB, and twice the window), hot in the cache, as the least any
           writer can do: a QoS 1/2 packet's id is its place in the ring (modulo 65,535), every QoS 0 packet the same. Encoded all in a
           row, 50,000 QoS 0 packets of 1 KiB were 51 MB read cold by the kernel's copy: 1.6 us per packet, slower
           than the client they were to bound */
        const R = Math.max(1, Math.min(o.count - 1, Math.max(Math.floor(64 * 1024 / one), o.qos > 0 ? 2 * o.inflight : 0)))
        const ring = Buffer.allocUnsafe(R * one)
        for (let i = 0; i < R; i++) {
            ring.set(encodePublish(o.topic, payload, o.qos, false, false, o.qos ? (i % 65535) + 1 : 0), i * one)
        }
        /* The last one is acknowledged whatever the QoS: the run ends with its acknowledgement */
        const marker = encodePublish(o.topic, payload, qos, false, false, (R % 65535) + 1)
        const result = await measure(o.count, () => new Promise<void>(resolve => {
            let sent = 0
            let acked = 0
            /* Waiting for 'drain' (one listener at a time, however many writes the socket refused meanwhile) */
            let draining = false
            const writer = new PacketWriter()
            const pump = () => {
                const limit = o.qos === 0 || o.burst ? o.count : Math.min(o.count, acked + o.inflight)
                while (sent < limit && !draining) {
                    let ok: boolean
                    if (sent === o.count - 1) {
                        ok = raw.sock.write(marker)
                        sent++
                    } else {
                        const slot = sent % R
                        const k = Math.min(R - slot, Math.min(limit, o.count - 1) - sent)
                        ok = raw.sock.write(ring.subarray(slot * one, (slot + k) * one))
                        sent += k
                    }
                    if (!ok && sent < o.count) {
                        draining = true
                        raw.sock.once('drain', () => {
                            draining = false
                            pump()
                        })
                    }
                }
            }
            raw.onPacket = p => {
                if (p.type === 4 || p.type === 7) {
                    acked = o.qos === 0 ? o.count : acked + 1
                    if (acked >= o.count) {
                        resolve()
                    }
                } else if (p.type === 5) {
                    writer.ack(0x62, p.id)
                }
            }
            raw.sock.on('data', () => {
                const rel = writer.take()
                if (rel) {
                    raw.sock.write(rel)
                }
                if (o.qos > 0) {
                    pump()
                }
            })
            pump()
        }))
        await close(raw)
        return result
    },

    async receive(o) {
        const raw = await open(o.port)
        const result = await measure(o.count, () => new Promise<void>(resolve => {
            let received = 0
            const writer = new PacketWriter()
            raw.onPacket = p => {
                if (p.type === 3) {
                    if (p.qos === 1) {
                        writer.ack(0x40, p.id)
                    }
                    if (++received === o.count) {
                        resolve()
                    }
                }
            }
            raw.sock.on('data', () => {
                const acks = writer.take()
                if (acks) {
                    raw.sock.write(acks)
                }
            })
            raw.sock.write(encode({ type: 8, id: 1, subscriptions: [{ topic: `blast/${o.qos}/${o.count}/${o.size}`, qos: o.qos }] }))
        }))
        await close(raw)
        return result
    },

    async sequential(o) {
        const raw = await open(o.port)
        const packets = Array.from({ length: 100 }, (_, i) => encodePublish('bench/seq', new Uint8Array(o.size).fill(65), 1, false, false, i + 1))
        const result = await measure(o.count, async () => {
            const latencies: number[] = []
            for (let i = 0; i < o.count; i++) {
                const t0 = performance.now()
                await new Promise<void>(resolve => {
                    raw.onPacket = p => {
                        if (p.type === 4) {
                            resolve()
                        }
                    }
                    raw.sock.write(packets[i % 100])
                })
                latencies.push(performance.now() - t0)
            }
            return latencies
        })
        await close(raw)
        return result
    },

    idle(port, count) {
        return footprint(count, async () => {
            const all: Raw[] = []
            for (let i = 0; i < count; i++) {
                all.push(await open(port))
            }
            return async () => {
                await Promise.all(all.map(close))
            }
        })
    },
}
