/*
    A multi-fiber sensor app on the agent: a sampling fiber reads the sensor, a publishing fiber sends averages,
    a command subscription changes the rate, and a request/response call (mqttRequest) asks the "cloud" for the
    alarm threshold. The cloud side (a service answering on ioto/service/...) runs in the same process here.
    Runs a few seconds on the embedded broker (or MQTT_BROKER=host:port).

        node dist/examples/sensor.js
 */
import {
    ioAgent, ioAgentStop, mqttAlloc, mqttConnect, mqttPublish, mqttRequest, mqttSubscribe, rAllocSocket,
    rConnectSocket, rCloseSocket, rInfo, rInit, rServiceEvents, rSleep, rSpawnFiber, rStop, rTerm,
    MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK, MQTT_WAIT_NONE, type Agent, type Fiber, type MqttRecv,
} from '../index.js'
import { endpoint } from './lib/endpoint.js'

const broker = await endpoint()
const DEVICE = 'sensor-7'
const samples: number[] = []
let period = 50
let threshold = Infinity
let running = true

/* Sampling fiber */
function* sampler(): Fiber<void> {
    let value = 20
    while (running) {
        value += Math.sin(samples.length / 5) * 0.5
        samples.push(value)
        yield* rSleep(period)
    }
}

/* Publishing fiber: every 500 ms, the average since the last report */
function* publisher(agent: Agent): Fiber<void> {
    while (running) {
        yield* rSleep(500)
        const batch = samples.splice(0)
        if (batch.length === 0) continue
        const avg = batch.reduce((a, b) => a + b, 0) / batch.length
        yield* mqttPublish(agent.mqtt, JSON.stringify({ avg: Number(avg.toFixed(2)), n: batch.length, alarm: avg > threshold }), 0, 1,
            MQTT_WAIT_ACK, 'ioto/device/%s/telemetry', DEVICE)
        rInfo('sensor', 'reported %d samples, average %.2f', batch.length, avg)
    }
}

/* Command subscription (under the agent's master subscription ioto/device/sensor-7/#) */
function* command(rp: MqttRecv): Fiber<void> {
    const { period: p } = JSON.parse(rp.text) as { period: number }
    period = p
    rInfo('sensor', 'command: sample every %d ms', period)
}

/* The cloud: answers requests published on ioto/service/{id}/{topic}/{seq} */
function* cloud(): Fiber<void> {
    const sock = rAllocSocket()
    yield* rConnectSocket(sock, broker.host, broker.port, 0)
    const mq = mqttAlloc('cloud', null)!
    yield* mqttConnect(mq, sock, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK)
    yield* mqttSubscribe(mq, function* (rp: MqttRecv) {
        const [, , id, topic, seq] = rp.topic.split('/')
        const answer = topic === 'threshold' ? '20.4' : 'unknown'
        yield* mqttPublish(rp.mq, answer, 0, 1, MQTT_WAIT_NONE, 'ioto/device/%s/%s/%s', id, topic, seq)
    }, 1, MQTT_WAIT_ACK, 'ioto/service/+/+/+')
    while (running) {
        yield* rSleep(50)
    }
    rCloseSocket(sock)
}

function* ioStart(agent: Agent): Fiber<void> {
    yield* mqttSubscribe(agent.mqtt, command, 1, MQTT_WAIT_ACK, 'ioto/device/%s/command', DEVICE)
    const answer = yield* mqttRequest(agent.mqtt, '{"key":"threshold"}', 5000, 'threshold')
    threshold = Number(answer)
    rInfo('sensor', 'threshold from the cloud: %s', answer)
    rSpawnFiber('sampler', sampler)
    rSpawnFiber('publisher', publisher, agent)
}

function* main(): Fiber<void> {
    rSpawnFiber('cloud', cloud)
    yield* rSleep(100)
    const agent = ioAgent({ mqtt: { server: `${broker.host}:${broker.port}`, client_id: DEVICE }, subscriptions: [`ioto/device/${DEVICE}/#`] }, { ioStart })
    yield* rSleep(1200)
    /* An operator changes the sampling rate */
    const op = rAllocSocket()
    yield* rConnectSocket(op, broker.host, broker.port, 0)
    const ops = mqttAlloc('operator', null)!
    yield* mqttConnect(ops, op, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK)
    yield* mqttPublish(ops, '{"period":20}', 0, 1, MQTT_WAIT_ACK, 'ioto/device/%s/command', DEVICE)
    yield* rSleep(1200)
    running = false
    rCloseSocket(op)
    yield* ioAgentStop(agent)
    rStop()
}

rInit(main, null)
await rServiceEvents()
rTerm()
await broker.stop()
