/*
    fiber-mqtt as a benchmark contender: the client as an application would use it.
 */
import { rRunFiber, rSleep, type Fiber } from '../../runtime/index.js'
import { rAllocSocket, rCloseSocket, rConnectSocket } from '../../socket/index.js'
import {
    mqttAlloc, mqttConnect, mqttDisconnect, mqttFree, mqttGetError, mqttPublish, mqttSetInflight, mqttSetKeepAlive, mqttSetQueue,
    mqttSubscribe, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK, MQTT_WAIT_NONE, type Mqtt,
} from '../../mqtt/index.js'
import { footprint, measure, uniqueId, type Contender } from './contender.js'

function* open(port: number): Fiber<Mqtt> {
    const sock = rAllocSocket()
    yield* rConnectSocket(sock, '127.0.0.1', port, 0)
    const mq = mqttAlloc(uniqueId('fiber'), null)!
    mqttSetKeepAlive(mq, 600_000)
    if ((yield* mqttConnect(mq, sock, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK)) !== 0) {
        throw new Error(`connect: ${mqttGetError(mq)}`)
    }
    return mq
}


function* close(mq: Mqtt): Fiber<void> {
    mqttDisconnect(mq)
    yield* mqttFree(mq)
    rCloseSocket(mq.sock)
}

/* Completion signal from a callback to the measuring fiber */
let finished: (() => void) | null = null

export const fiberMqtt: Contender = {
    name: 'fiber-mqtt',

    async publish(o) {
        let mq: Mqtt
        await rRunFiber('open', function* () { mq = yield* open(o.port) })
        mqttSetInflight(mq!, o.inflight)
        mqttSetQueue(mq!, o.burst ? o.count : o.inflight, o.burst ? 1024 * 1024 * 1024 : 64 * 1024 * 1024, 'wait')
        const payload = new Uint8Array(o.size).fill(65)
        const result = await measure(o.count, () => rRunFiber('publish', function* () {
            for (let i = 1; i < o.count; i++) {
                yield* mqttPublish(mq, payload, o.size, o.qos, MQTT_WAIT_NONE, o.topic)
            }
            /* The last one waits for its acknowledgement (QoS 0 runs end with a QoS 1 marker) */
            const rc = yield* mqttPublish(mq, payload, o.size, Math.max(1, o.qos), MQTT_WAIT_ACK, o.topic)
            if (rc !== 0) {
                throw new Error(`publish: ${rc} ${mqttGetError(mq)}`)
            }
        }))
        await rRunFiber('close', function* () { yield* close(mq) })
        return result
    },

    async receive(o) {
        let mq: Mqtt
        await rRunFiber('open', function* () { mq = yield* open(o.port) })
        let received = 0
        const result = await measure(o.count, () => new Promise<void>(resolve => {
            finished = resolve
            rRunFiber('subscribe', function* () {
                yield* mqttSubscribe(mq, () => {
                    if (++received === o.count) {
                        finished!()
                    }
                }, o.qos, MQTT_WAIT_NONE, 'blast/%d/%d/%d', o.qos, o.count, o.size)
            })
        }))
        await rRunFiber('close', function* () {
            yield* rSleep(10)
            yield* close(mq)
        })
        return result
    },

    async sequential(o) {
        let mq: Mqtt
        await rRunFiber('open', function* () { mq = yield* open(o.port) })
        const payload = new Uint8Array(o.size).fill(65)
        const result = await measure(o.count, () => rRunFiber<number[]>('sequential', function* () {
            const latencies: number[] = []
            for (let i = 0; i < o.count; i++) {
                const t0 = performance.now()
                yield* mqttPublish(mq, payload, o.size, 1, MQTT_WAIT_ACK, 'bench/seq')
                latencies.push(performance.now() - t0)
            }
            return latencies
        }))
        await rRunFiber('close', function* () { yield* close(mq) })
        return result
    },

    idle(port, count) {
        return footprint(count, async () => {
            const clients: Mqtt[] = []
            await rRunFiber('open', function* () {
                for (let i = 0; i < count; i++) {
                    clients.push(yield* open(port))
                }
            })
            return () => rRunFiber('close', function* () {
                for (const mq of clients) {
                    yield* close(mq)
                }
            })
        })
    },
}
