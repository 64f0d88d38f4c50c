/*
    MQTT over WebSocket: fiber-mqtt against MQTT.js, both publishing through the same broker (aedes behind the
    ws library's server, its own process) over ws://, QoS 0 and QoS 1 (1,000 in flight), 64-byte payloads,
    interleaved rounds, medians. What is measured is the client's side: messages per second and CPU per
    message of this process (the broker runs elsewhere), beside the same runs over plain TCP, and QoS 1 over
    ws:// once more with fiber-mqtt's read coalescing on.
        npm run bench:ws [-- --quick]
 */
import { startAedes } from '../brokers/broker.js'
import { compare, HEADER } from './lib/publish-run.js'
import { benchOptions } from './lib/options.js'

const quick = benchOptions('npm run bench:ws [-- --quick]', ['--quick'], []).has('--quick')
const rounds = quick ? 2 : 5
const count = quick ? 20_000 : 100_000
const inflight = 1000
const size = 64
const broker = await startAedes({ websocket: {} })

const urls = { WebSocket: `ws://127.0.0.1:${broker.wsPort}/mqtt`, TCP: `mqtt://127.0.0.1:${broker.port}` }
process.stdout.write(`QoS 0 and 1 publishing through aedes, ${count.toLocaleString('en-US')} x ${size} bytes, ${inflight} in flight, ${rounds} rounds interleaved, medians (client side)\n\n`)
process.stdout.write(`transport   ${HEADER}\n`)
try {
    for (const [transport, url] of Object.entries(urls)) {
        for (const qos of [0, 1] as const) {
            process.stdout.write(await compare(transport, { url, qos, count, size, inflight, topic: 'bench/ws', version: 4 }, rounds))
        }
    }
    /* The server sends each PUBACK in a frame and a write of its own: with read coalescing the client reads them
       dozens at a time */
    process.stdout.write(await compare('WebSocket*', { url: urls.WebSocket, qos: 1, count, size, inflight, topic: 'bench/ws', version: 4, coalesce: 1 }, rounds))
    process.stdout.write('* fiber-mqtt with read coalescing (mqttSetCoalesce(mq, 1)); MQTT.js as above\n')
} finally {
    await broker.stop()
}
