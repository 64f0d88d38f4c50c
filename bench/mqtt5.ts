/*
    MQTT 5 beside MQTT 3.1.1: fiber-mqtt and MQTT.js, each in both versions, publishing through mosquitto (its
    own process), QoS 0 and QoS 1 (1,000 in flight), 64-byte payloads, interleaved rounds, medians. What is
    measured is the client's side: messages per second and CPU per message of this process.
        npm run bench:mqtt5 [-- --quick]
 */
import mqtt from 'mqtt'
import { rRunFiber, type Fiber } from '../runtime/index.js'
import { rCloseSocket } from '../socket/index.js'
import {
    mqttAlloc, mqttConnectUrl, mqttDisconnect, mqttFree, mqttGetError, mqttPublish, mqttSetInflight, mqttSetQueue,
    mqttSetProtocol, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK, MQTT_WAIT_NONE, type Mqtt,
} from '../mqtt/index.js'
import { startMosquitto } from '../brokers/broker.js'
import { measure, type Measure } from './lib/contender.js'
import { median } from './lib/stats.js'

const quick = process.argv.includes('--quick')
const rounds = quick ? 2 : 5
const count = quick ? 20_000 : 100_000
const inflight = 1000
const size = 64
const broker = await startMosquitto()

function* open(url: string, version: number): Fiber<Mqtt> {
    const mq = mqttAlloc(`bench-v${version}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`, null)!
    mqttSetProtocol(mq, version)
    const rc = yield* mqttConnectUrl(mq, url, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK)
    if (rc !== 0) throw new Error(`connect ${url}: ${mqttGetError(mq)}`)
    return mq
}

async function fiber(url: string, qos: number, version: number, topic = 'bench/v5', aliases = true): Promise<Measure> {
    let mq!: Mqtt
    await rRunFiber('open', function* () { mq = yield* open(url, version) })
    if (mq.cfg.v5 !== null) mq.cfg.v5.aliasOut = aliases
    mqttSetInflight(mq, inflight)
    mqttSetQueue(mq, inflight, 64 * 1024 * 1024, 'wait')
    const payload = new Uint8Array(size).fill(65)
    const m = await measure(count, () => rRunFiber('publish', function* () {
        for (let i = 1; i < count; i++) {
            yield* mqttPublish(mq, payload, size, qos, MQTT_WAIT_NONE, topic)
        }
        const rc = yield* mqttPublish(mq, payload, size, 1, MQTT_WAIT_ACK, topic)
        if (rc !== 0) throw new Error(`publish: ${mqttGetError(mq)}`)
    }))
    await rRunFiber('close', function* () {
        const sock = mq.sock
        yield* mqttDisconnect(mq, MQTT_WAIT_ACK)
        yield* mqttFree(mq)
        rCloseSocket(sock)
    })
    return m
}

async function mqttJs(url: string, qos: 0 | 1, version: 4 | 5): Promise<Measure> {
    const client = await mqtt.connectAsync(url, { protocolVersion: version, clientId: `bench-js-v${version}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`, reconnectPeriod: 0 })
    const payload = Buffer.alloc(size, 65)
    const m = await measure(count, () => new Promise<void>((resolve, reject) => {
        let sent = 0
        let done = 0
        let busy = 0
        const next = () => {
            while (busy < inflight && sent < count) {
                busy++
                sent++
                client.publish('bench/v5', payload, { qos: sent === count ? 1 : qos }, err => {
                    if (err) return reject(err)
                    busy--
                    if (++done === count) resolve()
                    else next()
                })
            }
        }
        next()
    }))
    await client.endAsync()
    return m
}

const url = `mqtt://127.0.0.1:${broker.port}`
process.stdout.write(`QoS 0 and 1 publishing through mosquitto, ${count.toLocaleString('en-US')} x ${size} bytes, ${inflight} in flight, ${rounds} rounds interleaved, medians (client side)\n\n`)
process.stdout.write('protocol    QoS   fiber-mqtt msg/s   MQTT.js msg/s   ratio   fiber-mqtt us/msg   MQTT.js us/msg   CPU ratio\n')
try {
    for (const version of [4, 5] as const) {
        for (const qos of [0, 1] as const) {
            const f: Measure[] = []
            const j: Measure[] = []
            for (let r = 0; r < rounds; r++) {
                if (r % 2 === 0) {
                    f.push(await fiber(url, qos, version))
                    j.push(await mqttJs(url, qos, version))
                } else {
                    j.push(await mqttJs(url, qos, version))
                    f.push(await fiber(url, qos, version))
                }
            }
            const rate = (ms: Measure[]) => median(ms.map(m => m.count / (m.ms / 1000)))
            const cpu = (ms: Measure[]) => median(ms.map(m => m.cpuMs * 1000 / m.count))
            process.stdout.write(`${(version === 4 ? 'MQTT 3.1.1' : 'MQTT 5.0').padEnd(11)} ${qos}     ${Math.round(rate(f)).toLocaleString('en-US').padStart(14)}   ${Math.round(rate(j)).toLocaleString('en-US').padStart(13)}   ` +
                `${(rate(f) / rate(j)).toFixed(2).padStart(5)}x   ${cpu(f).toFixed(2).padStart(17)}   ${cpu(j).toFixed(2).padStart(14)}   ${(cpu(j) / cpu(f)).toFixed(2).padStart(8)}x\n`)
        }
    }
    /* Topic aliases on and off: QoS 0 to one long topic, fiber-mqtt against itself */
    const long = 'devices/0123456789abcdef/telemetry/temperature/celsius'
    const on: Measure[] = []
    const off: Measure[] = []
    for (let r = 0; r < rounds; r++) {
        for (const aliases of r % 2 === 0 ? [true, false] : [false, true]) {
            (aliases ? on : off).push(await fiber(url, 0, 5, long, aliases))
        }
    }
    const rate = (ms: Measure[]) => median(ms.map(m => m.count / (m.ms / 1000)))
    const cpu = (ms: Measure[]) => median(ms.map(m => m.cpuMs * 1000 / m.count))
    process.stdout.write(`\nMQTT 5.0 QoS 0 to a ${long.length}-byte topic, fiber-mqtt with topic aliases on and off:\n`)
    process.stdout.write(`  on:  ${Math.round(rate(on)).toLocaleString('en-US')} msg/s, ${cpu(on).toFixed(2)} us CPU per message, ${1 + 1 + 2 + 4 + size} bytes per PUBLISH\n`)
    process.stdout.write(`  off: ${Math.round(rate(off)).toLocaleString('en-US')} msg/s, ${cpu(off).toFixed(2)} us CPU per message, ${1 + 1 + 2 + long.length + 1 + size} bytes per PUBLISH\n`)
} finally {
    await broker.stop()
}
