/*
    The client against a hostile or lying broker and careless application code, on scripted peers: nothing
    escapes to Node, nothing acknowledged is dropped, every bad call gets a code and a message.
 */
import test from 'ava'
import {
    rSetLogHandler, rSleep, R_ERR_BAD_ARGS, R_ERR_BAD_RESPONSE, R_ERR_WONT_FIT, type Fiber,
} from '../../runtime/index.js'
import { rAllocSocket, rCloseSocket, rConnectSocket, type RSocket } from '../../socket/index.js'
import {
    encode, mqttAlloc, mqttConnect, mqttGetError, mqttGetStats, mqttIsConnected, mqttOnMessage, mqttPublish,
    mqttSetDelivery, mqttSetKeepAlive, mqttSetMessageSize, mqttSetTimeout, mqttSubscribe, mqttSubscribeMaster,
    MQTT_CONNECT_CLEAN_SESSION, MQTT_KEEP_ALIVE, MQTT_WAIT_ACK, MQTT_WAIT_NONE, type Mqtt, type MqttRecv, type PublishPacket,
} from '../../mqtt/index.js'
import { mqttMessages } from '../../mqtt/promise.js'
import { inFiber } from '../helpers/fiber.js'
import { scripted } from '../helpers/peer.js'
import { until } from './suite.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

function* dial(port: number, prepare?: (mq: Mqtt) => void, flags = MQTT_CONNECT_CLEAN_SESSION): Fiber<{ mq: Mqtt, sock: RSocket, rc: number }> {
    const mq = mqttAlloc('hostile', null)!
    prepare?.(mq)
    const sock = rAllocSocket()
    yield* rConnectSocket(sock, '127.0.0.1', port, 0)
    const rc = yield* mqttConnect(mq, sock, flags, MQTT_WAIT_ACK)
    return { mq, sock, rc }
}

/** Log lines captured while a test provokes errors on purpose. */
function capture(t: { teardown(fn: () => void): void, log(...v: unknown[]): void }): string[] {
    const lines: string[] = []
    const prior = rSetLogHandler((type, source, msg) => { lines.push(`${type} ${source}: ${msg.split('\n')[0]}`) })
    t.teardown(() => { rSetLogHandler(prior) })
    return lines
}

const publish = (topic: string, text: string, qos = 0, id = 0): PublishPacket =>
    ({ type: 3, dup: false, qos, retain: false, topic, id, payload: new TextEncoder().encode(text) })

test.serial('a header claiming 268,435,455 bytes: nothing is allocated beyond what arrived; over the inbound limit it is refused at once', async t => {
    await inFiber(function* () {
        const claim = [0x30, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x03, 0x61, 0x2f, 0x62, ...new Array(25).fill(0x41)]
        const { port, listener } = yield* scripted(function* (peer) {
            yield* peer.accept()
            yield* peer.send(claim)
            yield* peer.next(2000)
        })
        /* Allowed by the limit: the buffer follows what arrived */
        const big = yield* dial(port, mq => mqttSetMessageSize(mq, 256 * 1024 * 1024))
        t.is(big.rc, 0)
        t.true(yield* until(() => big.mq.decoder.buffered === claim.length, 2000))
        t.true(big.mq.decoder.reserved <= 64 * 1024, `${big.mq.decoder.reserved} bytes reserved`)
        t.true(mqttIsConnected(big.mq))
        rCloseSocket(big.sock)
        /* The default inbound limit (16 MiB): refused at the header, the connection ends with a reason */
        capture(t)
        const c = yield* dial(port)
        t.true(yield* until(() => !mqttIsConnected(c.mq), 2000))
        t.is(c.mq.error, R_ERR_WONT_FIT)
        t.regex(mqttGetError(c.mq)!, /PUBLISH of 268435460 bytes exceeds the maximum packet size of 16777221/)
        t.is(c.mq.decoder.reserved, 0)
        rCloseSocket(c.sock)
        rCloseSocket(listener)
    })
})

test.serial('a SUBACK with more return codes than filters is a protocol violation', async t => {
    await inFiber(function* () {
        const { port, listener } = yield* scripted(function* (peer) {
            yield* peer.accept()
            const sub = yield* peer.expect(8)
            yield* peer.send({ type: 9, id: (sub as { id: number }).id, granted: [1, 1, 0] })
            yield* peer.next(2000)
        })
        const c = yield* dial(port)
        const rc = yield* mqttSubscribe(c.mq, () => undefined, 1, MQTT_WAIT_ACK, 'a/b')
        t.true(rc < 0)
        t.is(c.mq.error, R_ERR_BAD_RESPONSE)
        t.regex(mqttGetError(c.mq)!, /SUBACK with 3 return codes for 1 topic filters/)
        rCloseSocket(c.sock)
        rCloseSocket(listener)
    })
})

test.serial('bad arguments are refused before anything is stored or sent', async t => {
    await inFiber(function* () {
        const seen: string[][] = []
        const subs: unknown[] = []
        const { port, listener } = yield* scripted(function* (peer) {
            yield* peer.accept()
            for (;;) {
                const p = yield* peer.next(3000)
                if (p === null) return
                if (p.type === 3) {
                    seen.push([p.topic, new TextDecoder().decode(p.payload)])
                    yield* peer.send({ type: 4, id: p.id })
                }
                if (p.type === 8) {
                    subs.push(p)
                    yield* peer.send({ type: 9, id: p.id, granted: p.subscriptions.map(s => s.qos) })
                }
            }
        })
        const mq = mqttAlloc('validating', null)!
        /* Settings: NaN is refused and nothing changes */
        t.is(mqttSetKeepAlive(mq, NaN), R_ERR_BAD_ARGS)
        t.is(mq.keepAlive, MQTT_KEEP_ALIVE)
        t.regex(mqttGetError(mq)!, /keep-alive NaN/)
        t.is(mqttSetTimeout(mq, NaN), R_ERR_BAD_ARGS)
        t.is(mqttSetDelivery(mq, NaN, 5), R_ERR_BAD_ARGS)
        t.is(mqttSetDelivery(mq, 0, 5), R_ERR_BAD_ARGS)
        t.is(mqttOnMessage(mq, 'nope' as never), R_ERR_BAD_ARGS)
        /* A master subscription with QoS 3 keeps nothing: the next connect is not poisoned */
        t.is(yield* mqttSubscribeMaster(mq, 3, MQTT_WAIT_NONE, 'm/#'), R_ERR_BAD_ARGS)
        t.deepEqual(mq.masterTopics, [])
        const sock = rAllocSocket()
        yield* rConnectSocket(sock, '127.0.0.1', port, 0)
        t.is(yield* mqttConnect(mq, sock, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK), 0)
        /* Publish: a NaN size, a runaway format width; a literal topic keeps its '%' */
        t.is(yield* mqttPublish(mq, 'x', NaN, 1, MQTT_WAIT_ACK, 'a/b'), R_ERR_BAD_ARGS)
        t.regex(mqttGetError(mq)!, /Bad size NaN/)
        /* A runaway width is clamped (4,096): the topic is long but bounded, and a code comes back, not a RangeError */
        t.is(yield* mqttPublish(mq, 'x', 0, 1, MQTT_WAIT_ACK, 'a/%999999999s', 'b'), 0)
        t.is(seen.pop()![0].length, 2 + 4096)
        t.is(yield* mqttPublish(mq, 'sale', 0, 1, MQTT_WAIT_ACK, 'fmt/50%off'), 0)
        t.is(yield* mqttSubscribe(mq, () => undefined, 0, MQTT_WAIT_ACK, 'fmt/100%/#'), 0)
        t.deepEqual(seen, [['fmt/50%off', 'sale']])
        t.deepEqual((subs as { subscriptions: { topic: string }[] }[]).map(s => s.subscriptions[0].topic), ['fmt/100%/#'])
        t.deepEqual(mqttGetStats(null), { queued: 0, inflight: 0, published: 0, acknowledged: 0, dropped: 0, resent: 0, received: 0, held: 0, unrouted: 0 })
        rCloseSocket(sock)
        rCloseSocket(listener)
    })
})

test.serial('a resumed session delivering before the app subscribes: messages are held, then handed over in order', async t => {
    await inFiber(function* () {
        const acks: number[] = []
        const { port, listener } = yield* scripted(function* (peer) {
            yield* peer.accept(0, true)
            for (let i = 1; i <= 5; i++) {
                yield* peer.send(publish(i % 2 ? 'cmd/a' : 'cmd/b', `m${i}`, 1, i))
            }
            yield* peer.send(publish('other/x', 'stray', 0))
            for (;;) {
                const p = yield* peer.next(3000)
                if (p === null) return
                if (p.type === 4) acks.push(p.id)
                if (p.type === 8) yield* peer.send({ type: 9, id: p.id, granted: [1] })
            }
        })
        const lines = capture(t)
        const c = yield* dial(port, undefined, 0)
        t.is(c.rc, 0)
        t.true(yield* until(() => acks.length === 5, 3000))
        t.is(mqttGetStats(c.mq).held, 6)
        t.true(lines.some(l => l.includes('Holding messages on "cmd/a"')), lines.join('\n'))
        const got: string[] = []
        t.is(yield* mqttSubscribe(c.mq, (rp: MqttRecv) => { got.push(`${rp.topic}=${rp.text}`) }, 1, MQTT_WAIT_ACK, 'cmd/#'), 0)
        t.deepEqual(got, ['cmd/a=m1', 'cmd/b=m2', 'cmd/a=m3', 'cmd/b=m4', 'cmd/a=m5'])
        /* The stray one waits for a handler: the default handler takes it */
        const stray: string[] = []
        t.is(mqttOnMessage(c.mq, (rp: MqttRecv) => { stray.push(rp.text) }), 0)
        t.true(yield* until(() => stray.length === 1, 1000))
        t.deepEqual(stray, ['stray'])
        t.is(c.mq.held, null)
        rCloseSocket(c.sock)
        rCloseSocket(listener)
    })
})

test.serial('the hold is bounded: beyond it the oldest is dropped, with an error and a counter', async t => {
    await inFiber(function* () {
        const { port, listener } = yield* scripted(function* (peer) {
            yield* peer.accept()
            for (let i = 1; i <= 5; i++) {
                yield* peer.send(publish('nobody/listens', `m${i}`, 1, i))
            }
            yield* peer.next(3000)
        })
        const lines = capture(t)
        const c = yield* dial(port, mq => mqttSetDelivery(mq, 256, 3))
        t.true(yield* until(() => mqttGetStats(c.mq).received === 5, 3000))
        t.like(mqttGetStats(c.mq), { held: 5, unrouted: 2 })
        t.deepEqual(c.mq.held!.map(rp => rp.text), ['m3', 'm4', 'm5'])
        t.is(lines.filter(l => l.startsWith('error mqtt: Held messages full (3): dropped the oldest')).length, 1, lines.join('\n'))
        t.true(lines.some(l => l.endsWith('1 dropped so far')), lines.join('\n'))
        rCloseSocket(c.sock)
        rCloseSocket(listener)
    })
})

test.serial('blocking callbacks are bounded: past the limit, messages wait in order and reading pauses; async rejections are logged', async t => {
    await inFiber(function* () {
        const count = 300
        const { port, listener } = yield* scripted(function* (peer) {
            yield* peer.accept()
            const sub = yield* peer.expect(8)
            yield* peer.send({ type: 9, id: (sub as { id: number }).id, granted: [0] })
            /* All of them in one write: they arrive in as few chunks as TCP makes */
            const all = Array.from({ length: count }, (_, i) => encode(publish('load/x', String(i))))
            yield* peer.send(Buffer.concat(all))
            yield* peer.next(5000)
        })
        const lines = capture(t)
        const c = yield* dial(port, mq => mqttSetDelivery(mq, 4, 1000))
        let open = false
        let peak = 0
        const got: number[] = []
        t.is(yield* mqttSubscribe(c.mq, async (rp: MqttRecv) => {
            while (!open) {
                await new Promise(r => setTimeout(r, 5))
                peak = Math.max(peak, c.mq.fiberCount)
            }
            got.push(Number(rp.text))
            if (Number(rp.text) % 100 === 0) {
                throw new Error(`handler bug on ${rp.text}`)
            }
        }, 0, MQTT_WAIT_ACK, 'load/#'), 0)
        t.true(yield* until(() => c.mq.fiberCount === 4 && c.mq.sock!.held, 3000))
        yield* rSleep(50)
        t.is(c.mq.fiberCount, 4)
        t.true(c.mq.backlog!.length > 0)
        open = true
        t.true(yield* until(() => got.length === count, 5000), `${got.length} of ${count}`)
        t.is(peak, 4)
        t.deepEqual(got.slice().sort((a, b) => a - b), Array.from({ length: count }, (_, i) => i))
        t.false(c.mq.sock!.held)
        t.is(c.mq.backlog, null)
        t.is(lines.filter(l => /Message callback for "load\/#" failed: Error: handler bug/.test(l)).length, 3, lines.join('\n'))
        t.true(mqttIsConnected(c.mq))
        rCloseSocket(c.sock)
        rCloseSocket(listener)
    })
})

test.serial('mqttMessages(null) ends its iteration with an error, never an unhandled rejection', async t => {
    const it = mqttMessages(null as never, 'a/#', 1)
    await t.throwsAsync(() => it.next(), { message: /Subscribe to "a\/#" failed/ })
    await it.return!()
})
