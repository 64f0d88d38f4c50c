/*
    Mongoose OS MQTT compatibility: code written against the mgos_mqtt_* C API or the mJS MQTT object runs on
    the agent. Calls never block, as in Mongoose; every handler whose filter matches gets a message.
 */
import { readFileSync } from 'node:fs'
import { isBody, rCallback, rSpawnCallback } from '../runtime/callback.js'
import { rSpawnFiber } from '../runtime/fiber.js'
import { Done } from '../runtime/waitable.js'
import { rWatch } from '../runtime/watch.js'
import { Agent, ioAgent, ioConnect, ioConnected, ioPause } from './agent/agent.js'
import { parseConfig, type AgentConfig, type ServerConfig } from './agent/config.js'
import { mqttPublish, mqttPublishEx, mqttPublishRetained } from './client/publish.js'
import type { Properties } from './codec/properties.js'
import { MQTT_WAIT_ACK, MQTT_WAIT_NONE, type Mqtt, type MqttRecv } from './client/state.js'
import { mqttSubscribe } from './client/subscribe.js'
import { topicMatches } from './topic.js'
import { jsonPrintf } from './json-printf.js'

export { jsonPrintf }

/* Mongoose's event numbers */
export const MG_EV_CLOSE = 5
export const MG_EV_MQTT_CONNACK = 202
export const MG_EV_MQTT_PUBLISH = 203
export const MG_EV_MQTT_PUBACK = 204
export const MG_EV_MQTT_SUBACK = 209
/* The CONNECT flag a connect callback sets for a clean session (Mongoose's MG_MQTT_CLEAN_SESSION) */
export const MG_MQTT_CLEAN_SESSION = 0x02

/** What a connect callback sends in the CONNECT (Mongoose's struct mg_send_mqtt_handshake_opts). */
export interface MgSendMqttHandshakeOpts {
    flags: number
    /** Seconds */
    keep_alive: number
    will_topic: string | null
    will_message: string | null
    user_name: string | null
    password: string | null
}

/** Called when a CONNECT is about to be sent; it must call mg_send_mqtt_handshake_opt. */
export type MgosMqttConnectFn = (conn: Mqtt, clientId: string, opts: MgSendMqttHandshakeOpts, fnArg: unknown) => void

export type SubHandler = (conn: Mqtt, topic: string, topicLen: number, msg: string, msgLen: number, ud: unknown) => void
export type EventHandler = (conn: Mqtt | null, ev: number, evData: unknown, ud: unknown) => void

interface Sub {
    filter: string
    handler: SubHandler | null
    event: EventHandler | null
    ud: unknown
}

let agent: Agent | null = null
let maxQos = 2
let packetId = 0
const subs: Sub[] = []
const globalHandlers: { handler: EventHandler, ud: unknown }[] = []
let connectFn: { cb: MgosMqttConnectFn, arg: unknown } | null = null
let handshake: { clientId: string, opts: MgSendMqttHandshakeOpts } | null = null

/**
    Start from a Mongoose OS configuration (an object or a JSON file): its "mqtt" section, and a backup in
    "mqtt1". With "mqtt.enable": false the connection waits for mgos_mqtt_global_connect(). A bad
    configuration throws an AgentConfigError naming the key.
    @example mgos_mqtt_init({ mqtt: { enable: true, server: 'broker:1883', client_id: 'dev-1' } })
 */
export function mgos_mqtt_init(config: Record<string, unknown> | string): boolean {
    const raw = typeof config === 'string' ? JSON.parse(readFileSync(config, 'utf8')) as Record<string, unknown> : config
    const mqtt = (raw as { mqtt?: { enable?: boolean } }).mqtt
    const parsed: AgentConfig = parseConfig(raw as Record<string, unknown>)
    agent = ioAgent(parsed, { beforeConnect: connecting })
    if (mqtt?.enable === false) {
        ioPause(agent)
    }
    rWatch('mqtt:connected', () => emit(MG_EV_MQTT_CONNACK, 0), null)
    rWatch('mqtt:disconnected', () => emit(MG_EV_CLOSE, null), null)
    return true
}

function emit(ev: number, data: unknown): void {
    const conn = agent?.connected ? agent.mqtt : null
    for (const g of globalHandlers) {
        guarded(g.handler, conn, ev, data, g.ud)
    }
    for (const s of subs) {
        if (s.event) {
            guarded(s.event, conn, ev, data, s.ud)
        }
    }
}

/* The agent's beforeConnect: the connect callback, when set, decides what this attempt's CONNECT carries */
function connecting(a: Agent, server: ServerConfig): void {
    if (connectFn === null) {
        return
    }
    const opts: MgSendMqttHandshakeOpts = {
        flags: server.cleanSession ? MG_MQTT_CLEAN_SESSION : 0,
        keep_alive: Math.round(server.keepAlive / 1000),
        will_topic: server.willTopic,
        will_message: server.willMessage,
        user_name: server.user || null,
        password: server.pass || null,
    }
    handshake = null
    connectFn.cb(a.mqtt, server.clientId, opts, connectFn.arg)
    const sent = handshake as { clientId: string, opts: MgSendMqttHandshakeOpts } | null
    handshake = null
    if (sent === null) {
        throw new Error('the connect callback did not call mg_send_mqtt_handshake_opt')
    }
    const o = sent.opts
    server.clientId = sent.clientId
    server.cleanSession = (o.flags & MG_MQTT_CLEAN_SESSION) !== 0
    /* As in Mongoose, a keep-alive of 0 (or none) keeps the default: the configured one */
    if (Number.isFinite(o.keep_alive) && o.keep_alive > 0) {
        server.keepAlive = o.keep_alive * 1000
    }
    server.user = o.user_name ?? ''
    server.pass = o.password ?? ''
    server.willTopic = o.will_topic && o.will_message ? o.will_topic : null
    server.willMessage = server.willTopic === null ? null : o.will_message
}

/**
    Set the connect callback: cb(conn, client_id, opts, fn_arg) runs when a CONNECT is about to be sent (before
    every attempt) and must call mg_send_mqtt_handshake_opt, possibly with changed options (a fresh password).
    If it does not, the attempt is abandoned and retried after the backoff. null restores the configured CONNECT.
    @example mgos_mqtt_set_connect_fn((c, id, opts) => { opts.password = makeJwt(); mg_send_mqtt_handshake_opt(c, id, opts) }, null)
 */
export function mgos_mqtt_set_connect_fn(cb: MgosMqttConnectFn | null, fnArg?: unknown): void {
    connectFn = cb === null ? null : { cb, arg: fnArg ?? null }
}

/**
    From a connect callback: send the CONNECT with this client id and these options.
    @example mgos_mqtt_set_connect_fn((c, id, opts) => mg_send_mqtt_handshake_opt(c, id, { ...opts, password: jwt() }), null)
 */
export function mg_send_mqtt_handshake_opt(_conn: Mqtt, clientId: string, opts: MgSendMqttHandshakeOpts): void {
    handshake = { clientId, opts: { ...opts } }
}

/**
    The agent behind this layer (after mgos_mqtt_init).
    @example const stats = ioAgentStats(mgos_mqtt_agent()!)
 */
export function mgos_mqtt_agent(): Agent | null {
    return agent
}

/**
    The connection when it is up, otherwise null.
    @example const conn = mgos_mqtt_get_global_conn(); if (conn !== null) rInfo('app', 'connected as %s', conn.id)
 */
export function mgos_mqtt_get_global_conn(): Mqtt | null {
    return agent !== null && agent.connected ? agent.mqtt : null
}

/**
    Connect now (if enabled and not already connected).
    @example mgos_mqtt_global_connect()
 */
export function mgos_mqtt_global_connect(): boolean {
    if (agent === null) {
        return false
    }
    if (!agent.connected) {
        ioConnect(agent)
    }
    return true
}

/**
    Disconnect and stop trying until mgos_mqtt_global_connect().
    @example mgos_mqtt_global_disconnect()
 */
export function mgos_mqtt_global_disconnect(): void {
    if (agent !== null) {
        ioPause(agent)
    }
}

/**
    Whether the MQTT connection is up.
    @example if (mgos_mqtt_global_is_connected()) mgos_mqtt_pub('dev/up', '1', 1, 0, false)
 */
export function mgos_mqtt_global_is_connected(): boolean {
    return agent !== null && ioConnected(agent)
}

/**
    The maximum QoS the server supports: higher QoS publishes and subscriptions are downgraded to it.
    @example mgos_mqtt_set_max_qos(0)   // a server that accepts only QoS 0
 */
export function mgos_mqtt_set_max_qos(qos: number): void {
    maxQos = Math.max(0, Math.min(2, Math.floor(qos)))
}

/**
    Next packet id: incremented on every call, never 0.
    @example const id = mgos_mqtt_get_packet_id()
 */
export function mgos_mqtt_get_packet_id(): number {
    packetId = packetId >= 0xffff ? 1 : packetId + 1
    return packetId
}

/**
    Bytes queued and not yet sent.
    @example if (mgos_mqtt_num_unsent_bytes() > 4096) return   // back off
 */
export function mgos_mqtt_num_unsent_bytes(): number {
    if (agent === null) {
        return 0
    }
    const mq = agent.mqtt
    return mq.pendingBytes + mq.writer.length + (mq.sock?.handle?.writableLength ?? 0)
}

/**
    Publish: the packet id (> 0) when connected and the message is queued for sending, 0 when there is no
    connection. With QoS 1 the id does not mean PUBACK arrived. With MQTT 5 (configuration "protocol": 5),
    `properties` are the message's (content type, message expiry, user properties...; 0 when they cannot be sent).
    @example const id = mgos_mqtt_pub('dev-1/status', 'up', 0, 1, false)
    @example mgos_mqtt_pub('dev-1/state', json, 0, 1, false, { contentType: 'application/json', messageExpiryInterval: 60 })
 */
export function mgos_mqtt_pub(topic: string, message: Uint8Array | string, len: number, qos: number, retain: boolean, properties?: Properties | null): number {
    if (!mgos_mqtt_global_is_connected()) {
        return 0
    }
    const mq = agent!.mqtt
    const publish = properties !== undefined && properties !== null ?
        (m: Mqtt, msg: Uint8Array, size: number, q: number, wait: number, fmt: string, t: string) => mqttPublishEx(m, msg, size, q, wait, { retain, properties }, fmt, t) :
        retain ? mqttPublishRetained : mqttPublish
    const bytes = typeof message === 'string' ? Buffer.from(message) : message
    /* `len` bytes of the message, as Mongoose sends them: 0 is an empty payload */
    const payload = bytes.subarray(0, Math.max(0, Math.min(len, bytes.length)))
    const q = Math.min(qos, maxQos)
    const sentBefore = mq.lastPublishId
    const w = publish(mq, payload, payload.length, q, q > 0 ? MQTT_WAIT_ACK : MQTT_WAIT_NONE, '%s', topic)
    if (w instanceof Done && w.value !== 0) {
        return 0
    }
    /* The packet id on the wire (QoS 1/2 sent at once), or the next number for QoS 0 and queued ones */
    const id = q > 0 && mq.lastPublishId !== sentBefore ? mq.lastPublishId : mgos_mqtt_get_packet_id()
    if (!(w instanceof Done)) {
        rSpawnFiber('mg-puback', function* () {
            if ((yield* w) === 0) {
                emit(MG_EV_MQTT_PUBACK, { message_id: id })
            }
        })
    }
    return id
}

/**
    Publish JSON made with Mongoose's json_printf conventions: %Q a quoted string, %B a boolean, %s %d %f and the
    rest as printf.
    @example mgos_mqtt_pubf('dev/state', 1, false, '{temp: %.1f, on: %B, name: %Q}', 21.5, true, 'kitchen')
 */
export function mgos_mqtt_pubf(topic: string, qos: number, retain: boolean, jsonFmt: string, ...args: unknown[]): number {
    return mgos_mqtt_pubv(topic, qos, retain, jsonFmt, args)
}

/**
    mgos_mqtt_pubf with its arguments as a list (C's va_list form).
    @example mgos_mqtt_pubv('dev/state', 1, false, '{temp: %.1f}', [21.5])
 */
export function mgos_mqtt_pubv(topic: string, qos: number, retain: boolean, jsonFmt: string, args: unknown[]): number {
    const json = jsonPrintf(jsonFmt, args)
    return mgos_mqtt_pub(topic, json, Buffer.byteLength(json), qos, retain)
}

/** What an MG_EV_MQTT_PUBLISH handler gets: the message, with its MQTT 5 properties (null in 3.1.1) */
export interface MgMqttMessage {
    topic: string
    payload: string
    qos: number
    retain: boolean
    properties: Properties | null
}

function message(rp: MqttRecv): MgMqttMessage {
    return { topic: rp.topic, payload: rp.text, qos: rp.qos, retain: rp.retain, properties: rp.properties }
}

function dispatch(rp: MqttRecv): void {
    for (const s of subs) {
        if (topicMatches(s.filter, rp.topic)) {
            if (s.handler !== null) {
                guarded(s.handler, rp.mq, rp.topic, rp.topicSize, rp.text, rp.dataSize, s.ud)
            }
            if (s.event !== null) {
                guarded(s.event, rp.mq, MG_EV_MQTT_PUBLISH, message(rp), s.ud)
            }
        }
    }
    for (const g of globalHandlers) {
        guarded(g.handler, rp.mq, MG_EV_MQTT_PUBLISH, message(rp), g.ud)
    }
}

/* A Mongoose handler: a throw or rejection is logged and the next handler still runs */
function guarded(fn: (...args: any[]) => unknown, ...args: unknown[]): void {
    const r = rCallback('mqtt', 'Mongoose handler', () => fn(...args))
    if (isBody(r)) {
        rSpawnCallback('mg-handler', r)
    }
}

function subscribe(filter: string, s: Sub): void {
    subs.push(s)
    if (agent !== null) {
        /* Every filter goes to the same dispatcher, which calls each matching handler (Mongoose's way); an event
           handler hears SUBACK when the broker has it */
        const w = mqttSubscribe(agent.mqtt, dispatch, Math.min(1, maxQos), s.event ? MQTT_WAIT_ACK : MQTT_WAIT_NONE, '%s', filter)
        const event = s.event
        if (event !== null && !(w instanceof Done)) {
            rSpawnFiber('mg-suback', function* () {
                if ((yield* w) === 0) {
                    guarded(event, agent?.mqtt ?? null, MG_EV_MQTT_SUBACK, { topic: filter }, s.ud)
                }
            })
        }
    }
}

/**
    Subscribe: handler(conn, topic, topic_len, msg, msg_len, ud) for each message on the filter.
    @example mgos_mqtt_sub('dev-1/cmd', (conn, topic, topicLen, msg) => rInfo('app', '%s', msg), null)
 */
export function mgos_mqtt_sub(topic: string, handler: SubHandler, ud?: unknown): void {
    subscribe(topic, { filter: topic, handler, event: null, ud: ud ?? null })
}

/**
    Subscribe with a Mongoose event handler: handler(conn, MG_EV_MQTT_PUBLISH, msg, ud); also CONNACK and CLOSE.
    @example mgos_mqtt_global_subscribe('dev-1/#', (conn, ev, data) => { if (ev === MG_EV_MQTT_PUBLISH) handle(data) }, null)
 */
export function mgos_mqtt_global_subscribe(topic: string, handler: EventHandler, ud?: unknown): void {
    subscribe(topic, { filter: topic, handler: null, event: handler, ud: ud ?? null })
}

/**
    A handler for every event of the global connection.
    @example mgos_mqtt_add_global_handler((conn, ev) => { if (ev === MG_EV_CLOSE) rInfo('app', 'offline') }, null)
 */
export function mgos_mqtt_add_global_handler(handler: EventHandler, ud?: unknown): void {
    globalHandlers.push({ handler, ud: ud ?? null })
}

/**
    Forget every handler (and the agent reference): for tests and restarts.
    @example mgos_mqtt_reset()
 */
export function mgos_mqtt_reset(): void {
    subs.length = 0
    globalHandlers.length = 0
    agent = null
    maxQos = 2
    connectFn = null
}

/**
    The mJS MQTT object.
    @example MQTT.sub('my/topic/#', function (conn, topic, msg) { print('Topic:', topic, 'message:', msg) }, null)
 */
export const MQTT = {
    EV_CONNACK: MG_EV_MQTT_CONNACK,
    EV_PUBLISH: MG_EV_MQTT_PUBLISH,
    EV_PUBACK: MG_EV_MQTT_PUBACK,
    EV_SUBACK: MG_EV_MQTT_SUBACK,
    EV_CLOSE: MG_EV_CLOSE,

    /** Publish: 1 on success, 0 on failure (e.g. no connection). qos defaults to 0, retain to false. */
    pub(topic: string, message: string, qos = 0, retain = false): number {
        return mgos_mqtt_pub(topic, message, Buffer.byteLength(message), qos, retain) > 0 ? 1 : 0
    },

    /** Subscribe: handler(conn, topic, msg, userdata). */
    sub(topic: string, handler: (conn: Mqtt, topic: string, msg: string, ud: unknown) => void, ud?: unknown): void {
        mgos_mqtt_sub(topic, (conn, t, _tl, msg, _ml, u) => handler(conn, t, msg, u), ud)
    },

    isConnected(): boolean {
        return mgos_mqtt_global_is_connected()
    },

    /** Connection events: handler(conn, ev, edata, userdata) with MQTT.EV_CONNACK, MQTT.EV_CLOSE, ... */
    setEventHandler(handler: EventHandler, ud?: unknown): void {
        mgos_mqtt_add_global_handler(handler, ud)
    },
}
