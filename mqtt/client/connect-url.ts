/*
    mqttConnectUrl: connect by broker URL in one call (socket, TLS, credentials, CONNECT).
 */
import { R_ERR_BAD_ARGS } from '../../runtime/errors.js'
import type { Fiber } from '../../runtime/body.js'
import { rGetTicks } from '../../runtime/time.js'
import { rAllocSocket, rCloseSocket, rGetSocketError } from '../../socket/control.js'
import { rConnectSocket } from '../../socket/connect.js'
import { rSetTls } from '../../socket/tls.js'
import { rSetWebSocket } from '../../socket/ws-settings.js'
import type { RSocket } from '../../socket/rsocket.js'
import { MqttUrlError, parseMqttUrl } from '../url.js'
import { mqttConnect } from './connect.js'
import { mqttSetCredentials } from './settings.js'
import { Mqtt, setMsg } from './state.js'

/**
    Connect to the broker a URL names (mqtt://, mqtts://, tcp://, ssl://; user:password@ for credentials):
    allocate the socket (TLS with verification for mqtts and ssl; `prepare` may add certificates, ALPN or a
    server name first), connect within mq's connect timeout, and send CONNECT. Evaluates to mqttConnect's result,
    R_ERR_BAD_ARGS for a bad URL (mqttGetError says why, without the password), or the socket's failure.
    The socket is the client's (mq.sock); close it after mqttDisconnect.
    @example if ((yield* mqttConnectUrl(mq, 'mqtts://dev-1:token@broker.example.com', MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK)) !== 0) rError('app', '%s', mqttGetError(mq))
 */
export function* mqttConnectUrl(mq: Mqtt | null, url: string, flags: number, waitFlags: number, prepare?: (sock: RSocket) => void): Fiber<number> {
    if (!(mq instanceof Mqtt)) {
        return R_ERR_BAD_ARGS
    }
    let u
    try {
        u = parseMqttUrl(url)
    } catch (err) {
        return setMsg(mq, R_ERR_BAD_ARGS, err instanceof MqttUrlError ? err.message : String(err))
    }
    if (u.username !== null && mqttSetCredentials(mq, u.username, u.password) !== 0) {
        return R_ERR_BAD_ARGS
    }
    const sock = rAllocSocket()
    if (u.tls) {
        rSetTls(sock)
    }
    if (u.websocket !== null) {
        /* The WebSocket part itself is loaded by the connect (parts.ts) */
        rSetWebSocket(sock, u.websocket)
    }
    prepare?.(sock)
    const rc = yield* rConnectSocket(sock, u.host, u.port, rGetTicks() + mq.cfg.connectTimeout)
    if (rc !== 0) {
        rCloseSocket(sock)
        return setMsg(mq, rc, rGetSocketError(sock) ?? 'Cannot connect')
    }
    const result = yield* mqttConnect(mq, sock, flags, waitFlags)
    if (result !== 0 && !mq.processing) {
        rCloseSocket(sock)
    }
    return result
}
