/*
    The main demo: a device on the fiber runtime. A sampling fiber reads a (simulated) temperature sensor, a
    publishing fiber sends readings in batches with QoS 1 and waits for the acknowledgements, a command
    subscription changes the sampling rate, and a monitor subscribed to the device's topics prints what the
    broker delivers. Runs a few seconds on the embedded broker (or MQTT_BROKER=host:port) and exits.

        npm run demo
 */
import {
    mqttAlloc, mqttConnect, mqttDisconnect, mqttFree, mqttGetError, mqttGetStats, mqttPublish, mqttSubscribe,
    rAllocSocket, rCloseSocket, rConnectSocket, rError, rInfo, rInit, rServiceEvents, rSleep, rSpawnFiber, rStop,
    rTerm, rWatch, rSignal, sfmt, MQTT_CONNECT_CLEAN_SESSION, MQTT_QOS_1, MQTT_WAIT_ACK, MQTT_WAIT_NONE,
    type Fiber, type Mqtt, type MqttRecv,
} from '../index.js'
import { endpoint } from './lib/endpoint.js'

const broker = await endpoint()
const DEVICE = 'demo-device'
const readings: number[] = []
let period = 200
let running = true

function* connect(id: string): Fiber<Mqtt | null> {
    const sock = rAllocSocket()
    if ((yield* rConnectSocket(sock, broker.host, broker.port, 0)) !== 0) {
        rError('demo', 'Cannot reach the broker at %s:%d', broker.host, broker.port)
        return null
    }
    const mq = mqttAlloc(id, null)!
    if ((yield* mqttConnect(mq, sock, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK)) !== 0) {
        rError('demo', 'MQTT connect failed: %s', mqttGetError(mq))
        return null
    }
    return mq
}

/* Sampling fiber: one reading per period */
function* sample(): Fiber<void> {
    let t = 21
    while (running) {
        t += (Math.random() - 0.5) * 0.4
        readings.push(Math.round(t * 100) / 100)
        if (readings.length >= 5) {
            rSignal('sensor:batch')
        }
        yield* rSleep(period)
    }
}

/* Publishing fiber, woken by the batch signal: publish the batch and wait for each PUBACK */
function* publishBatch(mq: Mqtt): Fiber<void> {
    const batch = readings.splice(0)
    if (batch.length === 0) {
        return
    }
    const rc = yield* mqttPublish(mq, JSON.stringify({ temperature: batch }), 0, MQTT_QOS_1, MQTT_WAIT_ACK, 'devices/%s/telemetry', DEVICE)
    rInfo('device', 'published %d readings (rc %d)', batch.length, rc)
}

/* Command subscription: {"period": ms} */
function* command(rp: MqttRecv): Fiber<void> {
    const cmd = JSON.parse(rp.text) as { period?: number }
    if (cmd.period) {
        period = cmd.period
        rInfo('device', 'sampling period now %d ms', period)
        yield* mqttPublish(rp.mq, sfmt('{"period":%d}', period), 0, MQTT_QOS_1, MQTT_WAIT_NONE, 'devices/%s/state', DEVICE)
    }
}

function* main(): Fiber<void> {
    const device = yield* connect(DEVICE)
    const monitor = yield* connect('demo-monitor')
    if (device === null || monitor === null) {
        process.exitCode = 1
        rStop()
        return
    }
    rInfo('demo', 'connected to %s broker at %s:%d', broker.embedded ? 'the embedded' : 'the', broker.host, broker.port)
    yield* mqttSubscribe(monitor, (rp: MqttRecv) => { rInfo('monitor', '%s %s', rp.topic, rp.text) }, 1, MQTT_WAIT_ACK, 'devices/%s/#', DEVICE)
    yield* mqttSubscribe(device, command, 1, MQTT_WAIT_ACK, 'devices/%s/command', DEVICE)
    rWatch('sensor:batch', function* () { yield* publishBatch(device) }, null)
    rSpawnFiber('sampler', sample)
    yield* rSleep(1500)
    /* An operator changes the sampling rate */
    yield* mqttPublish(monitor, '{"period":100}', 0, MQTT_QOS_1, MQTT_WAIT_ACK, 'devices/%s/command', DEVICE)
    yield* rSleep(1500)
    running = false
    yield* rSleep(period)
    const stats = mqttGetStats(device)
    rInfo('demo', 'device published %d messages, %d acknowledged', stats.published, stats.acknowledged)
    for (const mq of [device, monitor]) {
        mqttDisconnect(mq)
        yield* mqttFree(mq)
        rCloseSocket(mq.sock)
    }
    rStop()
}

rInit(main, null)
await rServiceEvents()
rTerm()
await broker.stop()
