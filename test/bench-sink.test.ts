/*
    The benchmark's C sink (bench/lib/sink.c) as a peer: it must answer what a publishing client sends, packets
    split anywhere, and close on what it cannot read, or the publish figures measure a broken peer.
 */
import test from 'ava'
import { connect, type Socket } from 'node:net'
import { rAllocSocket, rCloseSocket, rConnectSocket } from '../socket/index.js'
import {
    mqttAlloc, mqttConnect, mqttFree, mqttGetStats, mqttPing, mqttPublish, mqttSubscribe, mqttUnsubscribe, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK,
    MQTT_WAIT_NONE,
} from '../mqtt/index.js'
import { startFastSink, type Child } from '../bench/lib/peers.js'
import { inFiber } from './helpers/fiber.js'
import { until } from './mqtt/suite.js'

let sink: Child | null = null
test.before(async () => {
    sink = await startFastSink()
})
test.after.always(() => {
    sink?.stop()
})

/* Bytes read from a plain socket until `want` of them came, or the socket ended (then fewer) */
function collect(sock: Socket, want: number): Promise<Buffer> {
    return new Promise(resolve => {
        let got = Buffer.alloc(0)
        const done = () => resolve(got)
        sock.on('data', d => {
            got = Buffer.concat([got, d])
            if (got.length >= want) done()
        })
        sock.once('close', done)
        setTimeout(done, 10_000).unref()
    })
}

function open(port: number): Promise<Socket> {
    return new Promise((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () => resolve(s))
        s.once('error', reject)
    })
}

const CONNECT = [0x10, 12, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 2, 0, 60, 0, 0]

test.serial('the C sink answers a client: CONNACK, PUBACK, PUBREC and PUBCOMP, SUBACK with the QoS asked, UNSUBACK, PINGRESP', async t => {
    if (sink === null) {
        t.log('no C compiler here: the benchmark uses the Node sink, and this test has nothing to check')
        t.pass()
        return
    }
    const port = sink.port
    await inFiber(function* () {
        const sock = rAllocSocket()
        yield* rConnectSocket(sock, '127.0.0.1', port, 0)
        const mq = mqttAlloc('c-sink', null)!
        try {
            t.is(yield* mqttConnect(mq, sock, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK), 0)
            t.is(yield* mqttSubscribe(mq, () => undefined, 2, MQTT_WAIT_ACK, 'a/#'), 0)
            t.is(yield* mqttPublish(mq, 'one', 0, 1, MQTT_WAIT_ACK, 'a/1'), 0)
            t.is(yield* mqttPublish(mq, 'two', 0, 2, MQTT_WAIT_ACK, 'a/2'), 0)
            for (let i = 0; i < 3000; i++) {
                t.is(yield* mqttPublish(mq, 'x'.repeat(i % 300), 0, 1 + (i % 2), MQTT_WAIT_NONE, `a/${i}`), 0)
            }
            t.true(yield* until(() => mqttGetStats(mq).acknowledged === 3002, 20_000))
            t.is(yield* mqttPing(mq, MQTT_WAIT_ACK), 0)
            t.is(yield* mqttUnsubscribe(mq, 'a/#', MQTT_WAIT_ACK), 0)
        } finally {
            yield* mqttFree(mq)
            rCloseSocket(sock)
        }
    })
})

test.serial('the C sink reads packets split anywhere, and closes on a packet it cannot read', async t => {
    if (sink === null) {
        t.pass()
        return
    }
    /* CONNECT and a QoS 1 PUBLISH (id 0x1234), a byte per write */
    const split = await open(sink.port)
    split.setNoDelay(true)
    const answers = collect(split, 8)
    for (const b of [...CONNECT, 0x32, 7, 0, 1, 0x74, 0x12, 0x34, 0x68, 0x69]) {
        split.write(Uint8Array.of(b))
        await new Promise(r => setTimeout(r, 1))
    }
    t.deepEqual([...await answers], [0x20, 2, 0, 0, 0x40, 2, 0x12, 0x34])
    split.destroy()

    /* A reserved packet type (0): the connection is closed, nothing answered */
    const bad = await open(sink.port)
    const connack = collect(bad, 4)
    bad.write(Uint8Array.from(CONNECT))
    t.deepEqual([...await connack], [0x20, 2, 0, 0])
    bad.removeAllListeners('data')
    const rest = collect(bad, 1)
    bad.write(Uint8Array.of(0x00, 0))
    t.deepEqual([...await rest], [])
    t.true(bad.destroyed)
})
