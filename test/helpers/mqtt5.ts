/*
    Helpers for MQTT 5.0 tests: a client made MQTT 5 and connected (to mosquitto or a scripted peer), the
    scripted peer's MQTT 5 replies, and a clean close.
 */
import type { Fiber } from '../../runtime/index.js'
import { rCloseSocket } from '../../socket/index.js'
import {
    encode5, mqttAlloc, mqttConnectUrl, mqttDisconnect, mqttFree, mqttSetCredentials, mqttSetProtocol, MQTT_CONNECT_CLEAN_SESSION,
    MQTT_WAIT_ACK, type Mqtt, type Packet5,
} from '../../mqtt/index.js'
import { clientId, connectClient } from './client.js'
import type { Peer } from './peer.js'

export function t5(rc: number): void {
    if (rc !== 0) throw new Error(`mqttSetProtocol: ${rc}`)
}

/** An MQTT 5 client connected to a broker on 127.0.0.1:port (with credentials), and the connect's result. */
export function* open5(port: number, user: string | null = 'dev', pass = 'secret', props = {}, prepare?: (mq: Mqtt) => void): Fiber<{ mq: Mqtt, rc: number }> {
    const mq = mqttAlloc(clientId('v5'), null)!
    t5(mqttSetProtocol(mq, 5, props))
    if (user !== null) mqttSetCredentials(mq, user, pass)
    prepare?.(mq)
    const rc = yield* mqttConnectUrl(mq, `mqtt://127.0.0.1:${port}`, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK)
    return { mq, rc }
}

export function* close(mq: Mqtt): Fiber<void> {
    const sock = mq.sock
    yield* mqttDisconnect(mq, MQTT_WAIT_ACK)
    yield* mqttFree(mq)
    rCloseSocket(sock)
}

export const send = (peer: Peer, p: Packet5) => peer.send(encode5(p))
export const connack = (peer: Peer, properties = {}) => send(peer, { type: 2, sessionPresent: false, reasonCode: 0, properties })

/** An MQTT 5 client connected to a scripted peer on `port`. */
export function* client5(port: number, props = {}): Fiber<Mqtt> {
    const c = yield* connectClient(port, { prepare: mq => t5(mqttSetProtocol(mq, 5, props)), allowFailure: true })
    return c.mq
}
