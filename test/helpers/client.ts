/*
    Client test helpers: connect an Mqtt client to host:port in one call.
 */
import type { Fiber } from '../../runtime/index.js'
import { rAllocSocket, rConnectSocket, rGetSocketError, type RSocket } from '../../socket/index.js'
import { mqttAlloc, mqttConnect, mqttGetError, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK, type Mqtt, type MqttEventProc } from '../../mqtt/index.js'

let counter = 0

/** A unique client id (<= 23 bytes). */
export function clientId(prefix = 'c'): string {
    return `${prefix}-${process.pid % 10000}-${++counter}`.slice(0, 23)
}

export interface Connected {
    mq: Mqtt
    sock: RSocket
    rc: number
}

/** Allocate, connect the socket and the client (WAIT_ACK). rc is mqttConnect's result. */
export function* connectClient(port: number, options: { id?: string, flags?: number, proc?: MqttEventProc, prepare?: (mq: Mqtt) => void, allowFailure?: boolean } = {}): Fiber<Connected> {
    const mq = mqttAlloc(options.id ?? clientId(), options.proc ?? null)!
    options.prepare?.(mq)
    const sock = rAllocSocket()
    const sockRc = yield* rConnectSocket(sock, '127.0.0.1', port, 0)
    if (sockRc !== 0) {
        throw new Error(`socket connect failed: ${rGetSocketError(sock)}`)
    }
    const rc = yield* mqttConnect(mq, sock, options.flags ?? MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK)
    if (rc !== 0 && !options.allowFailure) {
        throw new Error(`mqttConnect failed: ${rc} ${mqttGetError(mq)}`)
    }
    return { mq, sock, rc }
}
