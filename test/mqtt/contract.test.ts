/*
    The client's contract, in the manner of Ioto's test/mqtt/*.tst.c: each call's return code in each state
    of a client (null, allocated, connecting, connected, lost, disconnected, freed), and the C calls that act
    at once whether or not the port writes yield* before them.
 */
import test from 'ava'
import {
    R_ERR_BAD_ARGS, R_ERR_CANT_READ, R_ERR_CANT_WRITE, R_ERR_NOT_CONNECTED, rSleep, type Fiber,
} from '../../runtime/index.js'
import { rAllocSocket, rCloseSocket, rConnectSocket, type RSocket } from '../../socket/index.js'
import {
    mqttAlloc, mqttConnect, mqttDisconnect, mqttFree, mqttGetError, mqttIsConnected, mqttMsgsToSend, mqttPing, mqttPublish,
    mqttRequest, mqttSubscribe, mqttUnsubscribe, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK, MQTT_WAIT_NONE, type Mqtt, type Packet,
} from '../../mqtt/index.js'
import { ioAgent, ioAgentStop } from '../../mqtt/agent/index.js'
import { inFiber } from '../helpers/fiber.js'
import { scripted, type Peer } from '../helpers/peer.js'
import { quietLogs } from '../helpers/quiet.js'
import { until } from './suite.js'

quietLogs(test)

type State = 'null' | 'allocated' | 'connecting' | 'connected' | 'lost' | 'disconnected' | 'freed'

/** The calls, each made with WAIT_NONE so that the code is the call's own, not an acknowledgement's */
function* calls(mq: Mqtt | null): Fiber<Record<string, number | boolean | string>> {
    return {
        publish: yield* mqttPublish(mq, 'x', 0, 1, MQTT_WAIT_NONE, 'c/t'),
        subscribe: yield* mqttSubscribe(mq, () => undefined, 1, MQTT_WAIT_NONE, 'c/s'),
        unsubscribe: yield* mqttUnsubscribe(mq, 'c/s', MQTT_WAIT_NONE),
        ping: yield* mqttPing(mq, MQTT_WAIT_NONE),
        connected: mqttIsConnected(mq),
        toSend: mqttMsgsToSend(mq),
        error: typeof mqttGetError(mq),
    }
}

test('each call\'s result in each state of a client', async t => {
    const table: Record<State, Record<string, number | boolean | string>> = {} as never
    await inFiber(function* () {
        const { port, listener } = yield* scripted(function* (peer: Peer, index: number) {
            if (index === 0) {
                /* 'connecting': a CONNECT that is never answered */
                yield* peer.next(3000)
                return
            }
            yield* peer.accept()
            for (;;) {
                const p: Packet | null = yield* peer.next(index === 1 ? 600 : 3000)
                if (p === null || p.type === 14) return
                if (p.type === 3 && p.qos === 1) yield* peer.send({ type: 4, id: p.id })
                if (p.type === 8) yield* peer.send({ type: 9, id: p.id, granted: [1] })
                if (p.type === 10) yield* peer.send({ type: 11, id: p.id })
                if (p.type === 12) yield* peer.send({ type: 13 })
            }
        })
        const dial = function* (mq: Mqtt, wait: number): Fiber<RSocket> {
            const sock = rAllocSocket()
            yield* rConnectSocket(sock, '127.0.0.1', port, 0)
            yield* mqttConnect(mq, sock, MQTT_CONNECT_CLEAN_SESSION, wait)
            return sock
        }
        table.null = yield* calls(null)
        const a = mqttAlloc('contract-a', null)!
        table.allocated = yield* calls(a)
        const sockA = yield* dial(a, MQTT_WAIT_NONE)
        table.connecting = yield* calls(a)
        rCloseSocket(sockA)
        /* 'lost': the peer ends the link after 600 ms */
        const b = mqttAlloc('contract-b', null)!
        yield* dial(b, MQTT_WAIT_ACK)
        t.true(yield* until(() => !mqttIsConnected(b), 3000))
        table.lost = yield* calls(b)
        const c = mqttAlloc('contract-c', null)!
        const sockC = yield* dial(c, MQTT_WAIT_ACK)
        table.connected = yield* calls(c)
        mqttDisconnect(c)
        table.disconnected = yield* calls(c)
        yield* mqttFree(c)
        table.freed = yield* calls(c)
        rCloseSocket(sockC)
        rCloseSocket(listener)
    })
    const row = (publish: number, subscribe: number, unsubscribe: number, ping: number, connected: boolean, toSend: number, error: string) =>
        ({ publish, subscribe, unsubscribe, ping, connected, toSend, error })
    t.deepEqual(table.null, row(R_ERR_BAD_ARGS, R_ERR_BAD_ARGS, R_ERR_BAD_ARGS, R_ERR_BAD_ARGS, false, 0, 'object'))
    t.deepEqual(table.allocated, row(R_ERR_CANT_WRITE, R_ERR_CANT_WRITE, R_ERR_CANT_WRITE, R_ERR_CANT_WRITE, false, 0, 'string'))
    t.deepEqual(table.connecting, row(R_ERR_NOT_CONNECTED, R_ERR_NOT_CONNECTED, 0, R_ERR_NOT_CONNECTED, false, 0, 'string'))
    t.deepEqual(table.connected, row(0, 0, 0, 0, true, 0, 'string'))
    /* A lost connection's error is sticky until the next mqttConnect, as in Ioto */
    t.deepEqual(table.lost, row(R_ERR_CANT_READ, R_ERR_CANT_READ, 0, R_ERR_CANT_READ, false, 0, 'string'))
    t.deepEqual(table.disconnected, row(R_ERR_NOT_CONNECTED, R_ERR_NOT_CONNECTED, 0, R_ERR_NOT_CONNECTED, false, 0, 'string'))
    t.deepEqual(table.freed, row(R_ERR_NOT_CONNECTED, R_ERR_NOT_CONNECTED, 0, R_ERR_NOT_CONNECTED, false, 0, 'string'))
})

test('mqttFree, mqttRequest and ioAgentStop act at once, as their C calls (a port that forgets yield* still gets the effect)', async t => {
    await inFiber(function* () {
        const requests: string[] = []
        const { port, listener } = yield* scripted(function* (peer: Peer) {
            yield* peer.accept()
            for (;;) {
                const p = yield* peer.next(3000)
                if (p === null) return
                if (p.type === 8) yield* peer.send({ type: 9, id: p.id, granted: [1] })
                if (p.type === 3) {
                    requests.push(p.topic)
                    if (p.qos === 1) yield* peer.send({ type: 4, id: p.id })
                }
            }
        })
        const mq = mqttAlloc('acts', null)!
        const sock = rAllocSocket()
        yield* rConnectSocket(sock, '127.0.0.1', port, 0)
        t.is(yield* mqttConnect(mq, sock, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK), 0)
        /* mqttRequest without yield*: the request goes out */
        void mqttRequest(mq, '{"q":1}', 500, 'store/get')
        t.true(yield* until(() => requests.some(r => r.startsWith('ioto/service/acts/store/get/')), 2000), requests.join())
        /* mqttFree without yield*: a waiter settles at once, the client is freed */
        const waiting = mqttPublish(mq, 'x', 0, 2, MQTT_WAIT_ACK, 'never/acked')
        void mqttFree(mq)
        t.true(mq.destroyed)
        t.is(yield* waiting, R_ERR_NOT_CONNECTED)
        rCloseSocket(sock)
        /* ioAgentStop without yield*: the agent stops */
        const agent = ioAgent({ mqtt: { server: `127.0.0.1:${port}`, client_id: 'acts-agent' } })
        yield* rSleep(100)
        void ioAgentStop(agent)
        t.true(yield* until(() => agent.stopped.settled && agent.mqtt.destroyed, 3000))
        rCloseSocket(listener)
    })
})
