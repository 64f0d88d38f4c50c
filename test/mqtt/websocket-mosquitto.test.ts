/*
    MQTT over WebSocket against mosquitto's own websockets listener (libwebsockets, on "lo": 127.0.0.1 only),
    in MQTT 3.1.1 and MQTT 5, with MQTT.js over WebSocket on the other end.
 */
import test from 'ava'
import mqtt from 'mqtt'
import { rAwait, type Fiber } from '../../runtime/index.js'
import { rCloseSocket } from '../../socket/index.js'
import {
    mqttAlloc, mqttConnectUrl, mqttDisconnect, mqttFree, mqttGetError, mqttPublish, mqttPublishEx, mqttSetProtocol, mqttSubscribe,
    MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK, type Mqtt, type MqttRecv,
} from '../../mqtt/index.js'
import { startMosquitto, type Broker } from '../../brokers/broker.js'
import { inFiber } from '../helpers/fiber.js'
import { clientId } from '../helpers/client.js'
import { until } from './suite.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

let broker: Broker
test.before(async () => {
    broker = await startMosquitto({ websocket: {} })
})
test.after.always(async () => {
    await broker?.stop()
})

function* open(url: string, version: 4 | 5): Fiber<Mqtt> {
    const mq = mqttAlloc(clientId('wsm'), null)!
    if (version === 5) {
        mqttSetProtocol(mq, 5)
    }
    const rc = yield* mqttConnectUrl(mq, url, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK)
    if (rc !== 0) {
        throw new Error(`connect ${url}: ${rc} ${mqttGetError(mq)}`)
    }
    return mq
}

function* close(mq: Mqtt): Fiber<void> {
    const sock = mq.sock
    yield* mqttDisconnect(mq, MQTT_WAIT_ACK)
    yield* mqttFree(mq)
    rCloseSocket(sock)
}

for (const version of [4, 5] as const) {
    test(`mosquitto's websockets listener, MQTT ${version === 4 ? '3.1.1' : '5'}: QoS 0, 1 and 2 between WebSocket and TCP, payloads of every frame length class`, async t => {
        await inFiber(function* () {
            const ws = yield* open(`ws://127.0.0.1:${broker.wsPort}/mqtt`, version)
            const tcp = yield* open(`mqtt://127.0.0.1:${broker.port}`, version)
            const overWs: string[] = []
            const overTcp: string[] = []
            t.is(yield* mqttSubscribe(ws, (rp: MqttRecv) => { overWs.push(`${rp.topic} ${rp.dataSize} ${rp.qos}`) }, 2, MQTT_WAIT_ACK, `wsm${version}/to-ws/#`), 0)
            t.is(yield* mqttSubscribe(tcp, (rp: MqttRecv) => { overTcp.push(`${rp.topic} ${rp.dataSize} ${rp.qos}`) }, 2, MQTT_WAIT_ACK, `wsm${version}/to-tcp/#`), 0)
            const sizes = [0, 125, 126, 65535, 65536, 300_000]
            const expected: string[] = []
            for (const [i, size] of sizes.entries()) {
                const qos = i % 3
                const payload = new Uint8Array(size).fill(0x30 + i)
                t.is(yield* mqttPublish(tcp, payload, size, qos, MQTT_WAIT_ACK, `wsm${version}/to-ws/${i}`), 0, mqttGetError(tcp) ?? '')
                t.is(yield* mqttPublish(ws, payload, size, qos, MQTT_WAIT_ACK, `wsm${version}/to-tcp/${i}`), 0, mqttGetError(ws) ?? '')
                expected.push(`${i} ${size} ${qos}`)
            }
            t.true(yield* until(() => overWs.length === sizes.length && overTcp.length === sizes.length, 15_000), `${overWs.length} ${overTcp.length}`)
            t.deepEqual(overWs.map(s => s.replace(`wsm${version}/to-ws/`, '')), expected)
            t.deepEqual(overTcp.map(s => s.replace(`wsm${version}/to-tcp/`, '')), expected)
            yield* close(ws)
            yield* close(tcp)
        })
    })
}

test('mosquitto\'s websockets listener: MQTT.js (version 5, over WebSocket) and fiber-mqtt (MQTT 5, over WebSocket) exchange messages with properties', async t => {
    const other = await mqtt.connectAsync(`ws://127.0.0.1:${broker.wsPort}/mqtt`, { clientId: clientId('mqttjs'), protocolVersion: 5, reconnectPeriod: 0 })
    try {
        const theirs: { topic: string, text: string, contentType?: string }[] = []
        other.on('message', (topic, payload, packet) => theirs.push({ topic, text: payload.toString(), contentType: packet.properties?.contentType }))
        await other.subscribeAsync('wsm/js/#', { qos: 1 })
        await inFiber(function* () {
            const mq = yield* open(`ws://127.0.0.1:${broker.wsPort}/mqtt`, 5)
            const ours: MqttRecv[] = []
            t.is(yield* mqttSubscribe(mq, (rp: MqttRecv) => { ours.push(rp) }, 1, MQTT_WAIT_ACK, 'wsm/ours/#'), 0)
            t.is(yield* mqttPublishEx(mq, 'from fiber-mqtt', 0, 1, MQTT_WAIT_ACK, { properties: { contentType: 'text/plain' } }, 'wsm/js/a'), 0)
            yield* rAwait(other.publishAsync('wsm/ours/b', 'from MQTT.js', { qos: 1, properties: { contentType: 'text/x-js', userProperties: { k: 'v' } } }))
            t.true(yield* until(() => ours.length === 1 && theirs.length === 1, 10_000))
            t.deepEqual(theirs, [{ topic: 'wsm/js/a', text: 'from fiber-mqtt', contentType: 'text/plain' }])
            t.is(ours[0].text, 'from MQTT.js')
            t.is(ours[0].properties?.contentType, 'text/x-js')
            t.deepEqual(ours[0].properties?.userProperties, [['k', 'v']])
            yield* close(mq)
        })
    } finally {
        await other.endAsync()
    }
})
