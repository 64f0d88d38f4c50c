/*
    One publishing run through a broker by URL, for fiber-mqtt and for MQTT.js: `count` messages, at most
    `inflight` unacknowledged (QoS 0 runs end with a QoS 1 marker, so the run ends when the broker has them
    all), timed by measure(); and the interleaved comparison of the two, one table row per case.
 */
import mqtt from 'mqtt'
import { rRunFiber, type Fiber } from '../../runtime/index.js'
import { rCloseSocket } from '../../socket/index.js'
import {
    mqttAlloc, mqttConnectUrl, mqttDisconnect, mqttFree, mqttGetError, mqttPublish, mqttSetCoalesce, mqttSetInflight, mqttSetQueue,
    mqttSetProtocol, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK, MQTT_WAIT_NONE, type Mqtt,
} from '../../mqtt/index.js'
import { measure, type Measure } from './contender.js'
import { median } from './stats.js'

export interface Run {
    url: string
    qos: 0 | 1
    count: number
    size: number
    inflight: number
    topic: string
    /** 4 (MQTT 3.1.1) or 5 */
    version: 4 | 5
    /** fiber-mqtt, MQTT 5: outbound topic aliases (default on) */
    aliases?: boolean
    /** fiber-mqtt: read coalescing on the connection, in milliseconds (default 0: off) */
    coalesce?: number
}

const unique = (name: string) => `${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`

function* open(r: Run): Fiber<Mqtt> {
    const mq = mqttAlloc(unique(`bench-v${r.version}`), null)!
    mqttSetProtocol(mq, r.version)
    const rc = yield* mqttConnectUrl(mq, r.url, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK)
    if (rc !== 0) throw new Error(`connect ${r.url}: ${mqttGetError(mq)}`)
    return mq
}

export async function fiberPublish(r: Run): Promise<Measure> {
    let mq!: Mqtt
    await rRunFiber('open', function* () { mq = yield* open(r) })
    if (mq.cfg.v5 !== null) mq.cfg.v5.aliasOut = r.aliases ?? true
    mqttSetInflight(mq, r.inflight)
    mqttSetQueue(mq, r.inflight, 64 * 1024 * 1024, 'wait')
    mqttSetCoalesce(mq, r.coalesce ?? 0)
    const payload = new Uint8Array(r.size).fill(65)
    const m = await measure(r.count, () => rRunFiber('publish', function* () {
        for (let i = 1; i < r.count; i++) {
            yield* mqttPublish(mq, payload, r.size, r.qos, MQTT_WAIT_NONE, r.topic)
        }
        const rc = yield* mqttPublish(mq, payload, r.size, 1, MQTT_WAIT_ACK, r.topic)
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

export async function mqttJsPublish(r: Run): Promise<Measure> {
    const client = await mqtt.connectAsync(r.url, { protocolVersion: r.version, clientId: unique(`bench-js-v${r.version}`), reconnectPeriod: 0 })
    const payload = Buffer.alloc(r.size, 65)
    const m = await measure(r.count, () => new Promise<void>((resolve, reject) => {
        let sent = 0
        let done = 0
        let busy = 0
        const next = () => {
            while (busy < r.inflight && sent < r.count) {
                busy++
                sent++
                client.publish(r.topic, payload, { qos: sent === r.count ? 1 : r.qos }, err => {
                    if (err) return reject(err)
                    busy--
                    if (++done === r.count) resolve()
                    else next()
                })
            }
        }
        next()
    }))
    await client.endAsync()
    return m
}

export const rate = (ms: Measure[]) => median(ms.map(m => m.count / (m.ms / 1000)))
export const cpuPerMessage = (ms: Measure[]) => median(ms.map(m => m.cpuMs * 1000 / m.count))

export const HEADER = 'QoS   fiber-mqtt msg/s   MQTT.js msg/s   ratio   fiber-mqtt us/msg   MQTT.js us/msg   CPU ratio'

/** Both clients, interleaved (the order swapped each round); the table row of medians after `label`. */
export async function compare(label: string, r: Run, rounds: number): Promise<string> {
    const f: Measure[] = []
    const j: Measure[] = []
    for (let i = 0; i < rounds; i++) {
        if (i % 2 === 0) {
            f.push(await fiberPublish(r))
            j.push(await mqttJsPublish(r))
        } else {
            j.push(await mqttJsPublish(r))
            f.push(await fiberPublish(r))
        }
    }
    const n = (x: number) => Math.round(x).toLocaleString('en-US')
    return `${label.padEnd(11)} ${r.qos}     ${n(rate(f)).padStart(14)}   ${n(rate(j)).padStart(13)}   ${(rate(f) / rate(j)).toFixed(2).padStart(5)}x   ` +
        `${cpuPerMessage(f).toFixed(2).padStart(17)}   ${cpuPerMessage(j).toFixed(2).padStart(14)}   ${(cpuPerMessage(j) / cpuPerMessage(f)).toFixed(2).padStart(8)}x\n`
}
