/*
    Connect a CLI client: the socket (TLS when asked), then MQTT; errors as mosquitto words them.
 */
import {
    mqttAlloc, mqttConnect, mqttGetError, mqttSetCredentials, mqttSetKeepAlive, rAllocSocket, rConnectSocket,
    rGetSocketError, rSetSocketCerts, rSetSocketVerify, rSetTlsAlpn, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK,
    type Fiber, type Mqtt, type RSocket,
} from '../index.js'
import type { Options } from './args.js'

export class CliError extends Error {
    constructor(message: string, readonly code = 1) {
        super(message)
    }
}

export function* connectCli(o: Options, prefix: string): Fiber<{ mq: Mqtt, sock: RSocket }> {
    const sock = rAllocSocket()
    if (o.tls) {
        rSetSocketCerts(sock, o.cafile, o.key, o.cert, null)
        if (o.insecure) {
            rSetSocketVerify(sock, 0, 0)
        }
        if (o.alpn) {
            rSetTlsAlpn(sock, o.alpn)
        }
    }
    const rc = yield* rConnectSocket(sock, o.host, o.port, 0)
    if (rc !== 0) {
        const text = rGetSocketError(sock) ?? ''
        throw new CliError(/refused/i.test(text) ? 'Error: Connection refused' : rc === -6 ? `Unable to connect (Lookup error.). ${text}` : `Error: ${text}`)
    }
    const mq = mqttAlloc(o.id ?? `${prefix}${process.pid}`.slice(0, 23), null)
    if (mq === null) {
        throw new CliError(`Error: Invalid client id '${o.id}' (1 to 23 bytes).`)
    }
    mq.trace = o.debug
    mqttSetKeepAlive(mq, o.keepAlive * 1000)
    if (o.user !== null && mqttSetCredentials(mq, o.user, o.password) !== 0) {
        throw new CliError(`Error: ${mqttGetError(mq)}`)
    }
    if ((yield* mqttConnect(mq, sock, o.cleanSession ? MQTT_CONNECT_CLEAN_SESSION : 0, MQTT_WAIT_ACK)) !== 0) {
        throw new CliError(`Connection error: ${mqttGetError(mq)}`)
    }
    return { mq, sock }
}
