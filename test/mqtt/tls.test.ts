import test from 'ava'
import { rGetTicks, rSpawnFiber, type Fiber } from '../../runtime/index.js'
import {
    rAllocSocket, rCloseSocket, rConnectSocket, rGetSocketAlpn, rGetSocketError, rReadSocket, rSetSocketCerts,
    rSetTlsAlpn, rWriteSocket, type RSocket,
} from '../../socket/index.js'
import {
    mqttAlloc, mqttConnect, mqttDisconnect, mqttFree, mqttGetError, mqttPublish, mqttSubscribe,
    MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK, type MqttRecv,
} from '../../mqtt/index.js'
import { mosquittoPath, startMosquitto, type Broker } from '../../brokers/broker.js'
import { inFiber } from '../helpers/fiber.js'
import { fixtures, listen } from '../helpers/net.js'
import { until } from './suite.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

const f = (name: string) => `${fixtures}${name}`

function* roundTrip(sock: RSocket, id: string): Fiber<string[]> {
    const mq = mqttAlloc(id, null)!
    const rc = yield* mqttConnect(mq, sock, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK)
    if (rc !== 0) {
        return [`connect ${rc}: ${mqttGetError(mq)}`]
    }
    const got: string[] = []
    yield* mqttSubscribe(mq, (rp: MqttRecv) => { got.push(rp.text) }, 1, MQTT_WAIT_ACK, 'tls/%s', id)
    yield* mqttPublish(mq, 'over TLS', 0, 1, MQTT_WAIT_ACK, 'tls/%s', id)
    yield* until(() => got.length === 1)
    mqttDisconnect(mq)
    yield* mqttFree(mq)
    rCloseSocket(sock)
    return got
}

if (mosquittoPath() === null) {
    test('mosquitto is installed', t => {
        t.fail('mosquitto is not installed: apt-get install -y mosquitto')
    })
} else {
    let server: Broker
    let mutual: Broker
    test.before(async () => {
        server = await startMosquitto({ tls: { ca: f('ca.crt'), cert: f('server.crt'), key: f('server.key') } })
        mutual = await startMosquitto({ tls: { ca: f('ca.crt'), cert: f('server.crt'), key: f('server.key'), requireCertificate: true } })
    })
    test.after.always(async () => {
        await server?.stop()
        await mutual?.stop()
    })

    test('MQTT over TLS to mosquitto, verified with the test CA', async t => {
        const got = await inFiber<string[]>(function* () {
            const sock = rAllocSocket()
            rSetSocketCerts(sock, f('ca.crt'), null, null, null)
            t.is(yield* rConnectSocket(sock, 'localhost', server.tlsPort, 0), 0, rGetSocketError(sock) ?? '')
            return yield* roundTrip(sock, 'tls-server')
        })
        t.deepEqual(got, ['over TLS'])
    })

    test('mutual TLS: with a client certificate accepted, without one refused', async t => {
        await inFiber(function* () {
            const sock = rAllocSocket()
            rSetSocketCerts(sock, f('ca.crt'), f('client.key'), f('client.crt'), null)
            t.is(yield* rConnectSocket(sock, '127.0.0.1', mutual.tlsPort, 0), 0, rGetSocketError(sock) ?? '')
            t.deepEqual(yield* roundTrip(sock, 'tls-mutual'), ['over TLS'])
            const anonymous = rAllocSocket()
            rSetSocketCerts(anonymous, f('ca.crt'), null, null, null)
            const rc = yield* rConnectSocket(anonymous, '127.0.0.1', mutual.tlsPort, rGetTicks() + 5000)
            if (rc === 0) {
                /* TLS 1.3: the refusal arrives after the client's handshake; the MQTT connect then fails */
                const mq = mqttAlloc('tls-anonymous', null)!
                t.not(yield* mqttConnect(mq, anonymous, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK), 0)
                t.regex(mqttGetError(mq)!, /certificate|closed|reset/i)
            } else {
                t.regex(rGetSocketError(anonymous)!, /certificate|closed|reset/i)
            }
            rCloseSocket(anonymous)
        })
    })

    test('ALPN: through a TLS front that requires x-amzn-mqtt-ca', async t => {
        await inFiber(function* () {
            /* A TLS front on rListenSocket, like port 443 of a cloud endpoint: ALPN required, then plain MQTT behind */
            const plain = server.port
            const { listener, port } = yield* listen(function* (_arg: unknown, front: RSocket) {
                if (rGetSocketAlpn(front) !== 'x-amzn-mqtt-ca') {
                    rCloseSocket(front)
                    return
                }
                const back = rAllocSocket()
                yield* rConnectSocket(back, '127.0.0.1', plain, 0)
                yield* pipeBoth(front, back)
            }, null, sp => {
                rSetSocketCerts(sp, null, f('server.key'), f('server.crt'), null)
                rSetTlsAlpn(sp, 'x-amzn-mqtt-ca')
            })
            const sock = rAllocSocket()
            rSetSocketCerts(sock, f('ca.crt'), null, null, null)
            rSetTlsAlpn(sock.tls, 'x-amzn-mqtt-ca')
            t.is(yield* rConnectSocket(sock, 'localhost', port, 0), 0, rGetSocketError(sock) ?? '')
            t.is(rGetSocketAlpn(sock), 'x-amzn-mqtt-ca')
            t.deepEqual(yield* roundTrip(sock, 'tls-alpn'), ['over TLS'])
            const wrong = rAllocSocket()
            rSetSocketCerts(wrong, f('ca.crt'), null, null, null)
            rSetTlsAlpn(wrong, 'mqtt')
            t.not(yield* rConnectSocket(wrong, 'localhost', port, rGetTicks() + 5000), 0)
            t.regex(rGetSocketError(wrong)!, /ALPN|application protocol/i)
            rCloseSocket(listener)
        })
    })
}

/** Copy both ways until either side ends. */
function* pipeBoth(a: RSocket, b: RSocket): Fiber<void> {
    rSpawnFiber('front->back', pump, [a, b])
    yield* pump([b, a])
}

function* pump([from, to]: [RSocket, RSocket]): Fiber<void> {
    const buf = new Uint8Array(16 * 1024)
    for (;;) {
        const n = yield* rReadSocket(from, buf, buf.length, rGetTicks() + 60_000)
        if (n <= 0 || (yield* rWriteSocket(to, buf, n, 0)) !== n) {
            break
        }
    }
    rCloseSocket(to)
}
