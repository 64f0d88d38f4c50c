/*
    Soak: N minutes (the argument; default 1) of reconnect storms. An agent publishes QoS 1 messages through a
    fault proxy that cuts the link every 100-300 ms; a subscriber counts them. Every minute it prints heap and
    RSS (after GC), messages and reconnects; at the end it checks that nothing was lost and the heap is flat.

        npm run soak -- 10
 */
import {
    ioAgent, ioAgentStats, ioAgentStop, mqttPublish, mqttSubscribe, rAllocSocket, rConnectSocket, rGetTicks, rInit,
    rServiceEvents, rSleep, rSpawnFiber, rStop, MQTT_WAIT_ACK, MQTT_WAIT_NONE, mqttAlloc, mqttConnect,
    MQTT_CONNECT_CLEAN_SESSION, rSetLogFilter, type Fiber, type MqttRecv,
} from '../index.js'
import { FaultProxy } from '../brokers/fault-proxy.js'
import { mosquittoPath, startAedes, startMosquitto } from '../brokers/broker.js'
import { benchOptions } from './lib/options.js'

const soakArgs = benchOptions('npm run soak -- [minutes]', [], [])
const minutes = Number(soakArgs.positional[0] ?? 1)
if (soakArgs.positional.length > 1 || !(minutes > 0)) {
    process.stderr.write(`minutes: "${soakArgs.positional.join(' ')}" is not a number above 0\nUsage: npm run soak -- [minutes]\n`)
    process.exit(2)
}
const broker = mosquittoPath() !== null ? await startMosquitto() : await startAedes()
const gc = (globalThis as any).gc as (() => void) | undefined

function heap(): { heap: number, rss: number } {
    gc?.()
    gc?.()
    const m = process.memoryUsage()
    return { heap: m.heapUsed / 2 ** 20, rss: m.rss / 2 ** 20 }
}

function* main(): Fiber<void> {
    /* Each reconnect logs a line; only errors matter here */
    rSetLogFilter('error', 'all', true)
    const proxy = new FaultProxy(broker.port)
    yield* proxy.start()
    /* Delivered: every number below `next`, plus those seen ahead of it (kept small: the count stays exact and the
       memory flat, whatever the run's length) */
    let next = 0
    const ahead = new Set<number>()
    const deliver = (n: number) => {
        if (n === next) {
            next++
            while (ahead.delete(next)) {
                next++
            }
        } else if (n > next) {
            ahead.add(n)
        }
    }
    const delivered = () => next + ahead.size
    const sock = rAllocSocket()
    yield* rConnectSocket(sock, broker.host, broker.port, 0)
    const sub = mqttAlloc(`soak-sub-${process.pid}`, null)!
    yield* mqttConnect(sub, sock, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK)
    yield* mqttSubscribe(sub, (rp: MqttRecv) => { deliver(Number(rp.text)) }, 1, MQTT_WAIT_ACK, 'soak/#')
    const agent = ioAgent({
        mqtt: { server: `127.0.0.1:${proxy.port}`, client_id: `soak-${process.pid}`, clean_session: false, keep_alive: 5, reconnect_timeout_min: 0.02, reconnect_timeout_max: 0.1 },
        stable_time: 1,
    })
    let running = true
    rSpawnFiber('cutter', function* () {
        while (running) {
            yield* rSleep(100 + Math.floor(Math.random() * 200))
            proxy.cut()
        }
    })
    let published = 0
    rSpawnFiber('publisher', function* () {
        while (running) {
            yield* mqttPublish(agent.mqtt, String(published++), 0, 1, MQTT_WAIT_NONE, 'soak/data')
            yield* rSleep(1)
        }
    })
    const samples: number[] = []
    const start = rGetTicks()
    for (let minute = 1; minute <= minutes; minute++) {
        yield* rSleep(start + minute * 60_000 - rGetTicks())
        const h = heap()
        samples.push(h.heap)
        const s = ioAgentStats(agent)
        console.log(`minute ${minute}: heap ${h.heap.toFixed(1)} MiB, rss ${h.rss.toFixed(1)} MiB, published ${published}, delivered ${delivered()}, reconnects ${s.reconnects}, queued ${s.queued}, in flight ${s.inflight}`)
    }
    running = false
    const deadline = rGetTicks() + 30_000
    while (delivered() < published && rGetTicks() < deadline) {
        yield* rSleep(50)
    }
    const lost = published - delivered()
    const growth = samples.length > 1 ? samples[samples.length - 1] - samples[0] : 0
    console.log(`\n${published} published, ${delivered()} delivered (${lost} lost), ${proxy.cuts} cuts; heap ${samples.map(x => x.toFixed(1)).join(' -> ')} MiB` +
        ` (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MiB from the first minute)`)
    process.exitCode = lost === 0 && growth < 5 ? 0 : 1
    yield* ioAgentStop(agent)
    proxy.stop()
    rStop()
}

rInit(main, null)
await rServiceEvents()
await broker.stop()
