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
        /* Every packet has the same size (a 2-byte id whatever its value), so the window is a byte range */
        const qos = Math.max(1, o.qos)
        const one = encodePublish(o.topic, new Uint8Array(o.size).fill(65), o.qos, false, false, o.qos ? 1 : 0).length
        /* QoS 0 packets are all the same: one block of whole packets (64 KiB, or one packet) is written again and
           again, hot in the cache, as the least any writer can do. Encoded all in a row, 50,000 packets of 1 KiB
           were 51 MB read cold by the kernel's copy: 1.6 us per packet, slower than the client it bounds */
        const hot = o.qos === 0 ? Math.max(1, Math.floor(64 * 1024 / one)) : 0
        const packets = hot > 0 ? hot : o.count - 1
        const all = Buffer.allocUnsafe(one * (packets + 1) + 64 + o.size)
        for (let i = 0; i < packets; i++) {
            all.set(encodePublish(o.topic, new Uint8Array(o.size).fill(65), o.qos, false, false, o.qos ? (i % 65535) + 1 : 0), i * one)
        }
        const marker = encodePublish(o.topic, new Uint8Array(o.size).fill(65), qos, false, false, ((o.count - 1) % 65535) + 1)
        all.set(marker, packets * one)
        const end = packets * one + marker.length
        const result = await measure(o.count, () => new Promise<void>(resolve => {
            let sent = 0
            let acked = 0
            /* Waiting for 'drain' (one listener at a time, however many writes the socket refused meanwhile) */
            let draining = false
            const writer = new PacketWriter()
            /* QoS 0: the block, as many times as it takes, then what is left of it and the marker */
            let left = o.count - 1
            let marked = false
            const pumpHot = () => {
                while (left > 0 && !draining) {
                    const k = Math.min(hot, left)
                    left -= k
                    if (!raw.sock.write(all.subarray(0, k * one)) && left > 0) {
                        draining = true
                        raw.sock.once('drain', () => {
                            draining = false
                            pumpHot()
                        })
                    }
                }
                if (left === 0 && !marked) {
                    marked = true
                    raw.sock.write(marker)
                }
            }
            const pump = () => {
                if (hot > 0) {
                    pumpHot()
                    return
                }
                const limit = o.burst ? o.count : Math.min(o.count, acked + o.inflight)
                if (limit > sent) {
                    const from = sent * one
                    const to = limit === o.count ? end : limit * one
                    sent = limit
                    if (!raw.sock.write(all.subarray(from, to)) && sent < o.count && !draining) {
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
