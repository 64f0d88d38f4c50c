/*
    MQTT 5 beside MQTT 3.1.1: fiber-mqtt and MQTT.js, each in both versions, publishing through mosquitto (its
    own process), QoS 0 and QoS 1 (1,000 in flight), 64-byte payloads, interleaved rounds, medians; then
    fiber-mqtt's outbound topic aliases on and off. What is measured is the client's side: messages per second
    and CPU per message of this process.
        npm run bench:mqtt5 [-- --quick]
 */
import { startMosquitto } from '../brokers/broker.js'
import type { Measure } from './lib/contender.js'
import { benchOptions } from './lib/options.js'
import { compare, cpuPerMessage, fiberPublish, HEADER, rate, type Run } from './lib/publish-run.js'

const quick = benchOptions('npm run bench:mqtt5 [-- --quick]', ['--quick'], []).has('--quick')
const rounds = quick ? 2 : 5
const count = quick ? 20_000 : 100_000
const inflight = 1000
const size = 64
const broker = await startMosquitto()
const url = `mqtt://127.0.0.1:${broker.port}`

process.stdout.write(`QoS 0 and 1 publishing through mosquitto, ${count.toLocaleString('en-US')} x ${size} bytes, ${inflight} in flight, ${rounds} rounds interleaved, medians (client side)\n\n`)
process.stdout.write(`protocol    ${HEADER}\n`)
try {
    for (const version of [4, 5] as const) {
        for (const qos of [0, 1] as const) {
            process.stdout.write(await compare(version === 4 ? 'MQTT 3.1.1' : 'MQTT 5.0', { url, qos, count, size, inflight, topic: 'bench/v5', version }, rounds))
        }
    }
    /* Topic aliases on and off: QoS 0 to one long topic, fiber-mqtt against itself */
    const long = 'devices/0123456789abcdef/telemetry/temperature/celsius'
    const run: Run = { url, qos: 0, count, size, inflight, topic: long, version: 5 }
    const on: Measure[] = []
    const off: Measure[] = []
    for (let r = 0; r < rounds; r++) {
        for (const aliases of r % 2 === 0 ? [true, false] : [false, true]) {
            (aliases ? on : off).push(await fiberPublish({ ...run, aliases }))
        }
    }
    process.stdout.write(`\nMQTT 5.0 QoS 0 to a ${long.length}-byte topic, fiber-mqtt with topic aliases on and off:\n`)
    process.stdout.write(`  on:  ${Math.round(rate(on)).toLocaleString('en-US')} msg/s, ${cpuPerMessage(on).toFixed(2)} us CPU per message, ${1 + 1 + 2 + 4 + size} bytes per PUBLISH\n`)
    process.stdout.write(`  off: ${Math.round(rate(off)).toLocaleString('en-US')} msg/s, ${cpuPerMessage(off).toFixed(2)} us CPU per message, ${1 + 1 + 2 + long.length + 1 + size} bytes per PUBLISH\n`)
} finally {
    await broker.stop()
}
