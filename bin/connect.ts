/*
    Connect a CLI client: the socket (TCP, TLS or a Unix socket), then MQTT. Failures carry mosquitto's exit
    codes and words: 1 refused or unknown host, 1-5 (the CONNACK code; MQTT 5: its reason code, 0x80 and up)
    refused by the broker, 7 connection lost, 8 TLS error, 19 no CONNACK within the keep-alive. Nothing is left
    open: the socket of a failed attempt is closed before the error is thrown.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { R_ERR_BAD_ARGS, R_ERR_CANT_COMPLETE, R_ERR_TIMEOUT, type Fiber } from '../runtime/index.js'
import {
    rAllocSocket, rCloseSocket, rConnectSocket, rGetSocketError, rSetSocketCerts, rSetSocketCiphers, rSetSocketBind, rSetTlsAlpn,
    rSetTlsHostCheck, rSetTlsPsk, rSetTlsVersion, rSetTls, rSetWebSocket, type RSocket,
} from '../socket/index.js'
import {
    mqttAlloc, mqttConnect, mqttDisconnect, mqttDisconnectEx, MQTT_WAIT_NONE, mqttGetConnackCode, mqttGetError, mqttSetConnectTimeout,
    mqttSetCredentials, mqttSetKeepAlive, mqttSetWill, mqttSetProtocol, MQTT_CONNECT_CLEAN_SESSION, MQTT_CONNECT_WILL_RETAIN, MQTT_WAIT_ACK,
    reasonName, type Mqtt,
} from '../mqtt/index.js'
import type { Options } from './args.js'
import { traceToStdout } from './trace.js'

export class CliError extends Error {
    constructor(message: string, readonly code = 1) {
        super(message)
    }
}

/** mosquitto's words for the CONNACK refusals */
const REFUSED = ['', 'unacceptable protocol version', 'identifier rejected', 'broker unavailable', 'bad user name or password', 'not authorised']

/** The client for these options: id (-i; -I prefix with the pid; empty: the broker assigns one), credentials, will, trace. */
export function cliClient(o: Options): Mqtt {
    const id = o.id ?? (o.idPrefix !== null ? `${o.idPrefix}${process.pid}` : '')
    const mq = mqttAlloc(id, null)
    if (mq === null) {
        throw new CliError(`Error: Invalid client id '${id}'.`)
    }
    if (o.debug) {
        traceToStdout(mq)
    }
    if (o.protocol === 5) {
        const connect = { ...o.properties.connect }
        /* As mosquitto: -x, or with -c and no -x a session that does not expire */
        const expiry = o.sessionExpiry ?? (o.cleanSession ? null : 4_294_967_295)
        if (expiry !== null && expiry > 0) {
            connect.sessionExpiryInterval = expiry
        }
        if (mqttSetProtocol(mq, 5, connect) !== 0) {
            throw new CliError(`Error in CONNECT properties: ${mqttGetError(mq)}`)
        }
    }
    mqttSetKeepAlive(mq, o.keepAlive * 1000)
    /* mosquitto gives up on a broker that does not answer CONNECT within the keep-alive */
    mqttSetConnectTimeout(mq, o.keepAlive * 1000)
    if (o.user !== null && mqttSetCredentials(mq, o.user, o.password) !== 0) {
        throw new CliError(`Error: ${mqttGetError(mq)}`)
    }
    if (o.will !== null) {
        if (mqttSetWill(mq, o.will.topic, o.will.payload, 0, o.properties.will) !== 0) {
            throw new CliError(`Error in Will properties: ${mqttGetError(mq)}`)
        }
    }
    return mq
}

function caBundle(o: Options): string | null {
    if (o.capath === null) {
        return o.cafile
    }
    let pems = o.cafile !== null ? readFileSync(o.cafile, 'utf8') : ''
    try {
        for (const f of readdirSync(o.capath)) {
            if (/\.(pem|crt)$/.test(f)) {
                pems += `\n${readFileSync(join(o.capath, f), 'utf8')}`
            }
        }
    } catch (err) {
        throw new CliError(`Error: Unable to read --capath "${o.capath}": ${(err as Error).message}`)
    }
    return pems
}

/** Open the socket and connect the client; throws CliError with mosquitto's exit code. */
export function* connectCli(o: Options, mq: Mqtt): Fiber<RSocket> {
    const sock = rAllocSocket()
    if (o.bind !== null && rSetSocketBind(sock, o.bind) !== 0) {
        throw new CliError(`Error: Invalid bind address '${o.bind}' (an IP address of this machine).`)
    }
    if (o.websocket !== null) {
        rSetWebSocket(sock, o.websocket)
    }
    if (o.tls) {
        rSetTls(sock)
        if (o.psk !== null) {
            rSetTlsPsk(sock, o.psk, o.pskIdentity!)
        }
        rSetSocketCerts(sock, caBundle(o), o.key, o.cert, null)
        if (o.insecure) {
            /* As mosquitto: the chain is still verified, the host name is not */
            rSetTlsHostCheck(sock, false)
        }
        if (o.alpn) rSetTlsAlpn(sock, o.alpn)
        if (o.ciphers) rSetSocketCiphers(sock, o.ciphers)
        if (o.tlsVersion) {
            const v = o.tlsVersion.replace('tlsv', 'TLSv')
            rSetTlsVersion(sock, v, v)
        }
    }
    const rc = yield* rConnectSocket(sock, o.unix ?? o.host, o.unix !== null ? 0 : o.port, 0)
    if (rc !== 0) {
        const text = rGetSocketError(sock) ?? ''
        rCloseSocket(sock)
        if (rc === R_ERR_BAD_ARGS && /find the address/.test(text)) throw new CliError('Error: Unable to connect (Lookup error.).')
        if (rc === R_ERR_CANT_COMPLETE) throw new CliError(`Error: A TLS error occurred. (${text})`, 8)
        if (/closed during connect/.test(text)) throw new CliError('Error: The connection was lost.', 7)
        throw new CliError(/refused/i.test(text) ? 'Error: Connection refused' : `Error: ${text}`)
    }
    const connected = yield* mqttConnect(mq, sock, (o.cleanSession ? MQTT_CONNECT_CLEAN_SESSION : 0) |
        (o.will !== null ? (o.will.qos << 3) | (o.will.retain ? MQTT_CONNECT_WILL_RETAIN : 0) : 0), MQTT_WAIT_ACK)
    if (connected !== 0) {
        rCloseSocket(sock)
        const code = mqttGetConnackCode(mq)
        if (code >= 0x80) {
            /* MQTT 5: the reason code's name; 0x84 also from a broker that speaks 3.1.1 only */
            throw new CliError(`Connection error: ${reasonName(code)}${code === 0x84 ? '. Try connecting to an MQTT v5 broker, or use MQTT v3.x mode.' : ''}`, code)
        }
        if (code > 0) {
            throw new CliError(`Connection error: Connection Refused: ${REFUSED[code] ?? `code ${code}`}.`, code)
        }
        if (connected === R_ERR_TIMEOUT) {
            throw new CliError(`Error: No CONNACK from the broker within the keep-alive (${o.keepAlive} s).`, 19)
        }
        throw new CliError('Error: The connection was lost.', 7)
    }
    return sock
}

/** DISCONNECT, with -D disconnect's properties in MQTT 5 (not waited for: the socket is closed next). */
export function disconnectCli(mq: Mqtt, o: Options): void {
    if (o.protocol === 5 && Object.keys(o.properties.disconnect).length > 0) {
        void mqttDisconnectEx(mq, MQTT_WAIT_NONE, { properties: o.properties.disconnect })
    } else {
        mqttDisconnect(mq)
    }
}
