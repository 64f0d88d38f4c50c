/*
    MQTT.js (npm "mqtt") as a benchmark contender, used as its documentation shows.
 */
import mqtt, { type MqttClient } from 'mqtt'
import { footprint, measure, uniqueId, type Contender } from './contender.js'

function open(port: number): Promise<MqttClient> {
    return mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: uniqueId('mqttjs'), clean: true, reconnectPeriod: 0, keepalive: 600 })
}

export const mqttJs: Contender = {
    name: 'MQTT.js',

    async publish(o) {
        const client = await open(o.port)
        const payload = Buffer.alloc(o.size, 65)
        const result = await measure(o.count, async () => {
            if (o.qos === 0) {
                for (let i = 1; i < o.count; i++) {
                    client.publish(o.topic, payload, { qos: 0 })
                }
                await client.publishAsync(o.topic, payload, { qos: 1 })
                return
            }
            /* Keep `inflight` messages unacknowledged, as the other contenders do (a burst: all of them) */
            await new Promise<void>((resolve, reject) => {
                let sent = 0
                let acked = 0
                const onAck = (err?: Error) => {
                    if (err) {
                        reject(err)
                        return
                    }
                    if (++acked === o.count) {
                        resolve()
                    } else {
                        pump()
                    }
                }
                const pump = () => {
                    /* A burst: as many in flight as packet ids allow (ids are 16 bits: with 100,000 in flight, an
                       MQTT.js run never completed here) */
                    while (sent < o.count && sent - acked < (o.burst ? 65_000 : o.inflight)) {
                        sent++
                        client.publish(o.topic, payload, { qos: o.qos as 1 | 2 }, onAck)
                    }
                }
                pump()
            })
        })
        await client.endAsync()
        return result
    },

    async receive(o) {
        const client = await open(o.port)
        let received = 0
        const result = await measure(o.count, () => new Promise<void>(resolve => {
            client.on('message', () => {
                if (++received === o.count) {
                    resolve()
                }
            })
            client.subscribe(`blast/${o.qos}/${o.count}/${o.size}`, { qos: o.qos as 0 | 1 })
        }))
        await client.endAsync()
        return result
    },

    async sequential(o) {
        const client = await open(o.port)
        const payload = Buffer.alloc(o.size, 65)
        const result = await measure(o.count, async () => {
            const latencies: number[] = []
            for (let i = 0; i < o.count; i++) {
                const t0 = performance.now()
                await client.publishAsync('bench/seq', payload, { qos: 1 })
                latencies.push(performance.now() - t0)
            }
            return latencies
        })
        await client.endAsync()
        return result
    },

    idle(port, count) {
        return footprint(count, async () => {
            const clients: MqttClient[] = []
            for (let i = 0; i < count; i++) {
                clients.push(await open(port))
            }
            return async () => {
                await Promise.all(clients.map(c => c.endAsync()))
            }
        })
    },
}
