/*
    The client's settings beyond C's fields: size limits, the in-flight window and the queue behind it, offline
    queueing, delivery bounds, the agent's hooks, and a MQTT 5 client's protocol state. Clients that keep the
    defaults share one MqttConfig; ownConfig gives a client its own copy before a change.
 */
import { TPS } from '../../runtime/time.js'
import type { Packet } from '../codec/packets.js'
import type { PacketDecoder } from '../codec/decoder.js'
import type { Properties } from '../codec/properties.js'
import { utf8Length } from '../codec/utf8.js'
import {
    MQTT_MAX_CLIENT_ID_SIZE, MQTT_MAX_HANDLERS, MQTT_MAX_HELD, MQTT_MAX_INBOUND_SIZE, MQTT_MAX_PASSWORD_SIZE, MQTT_MAX_TOPIC_SIZE,
    MQTT_MAX_USERNAME_SIZE,
} from '../constants.js'
import type { Mqtt5State } from './protocol5.js'
import type { Mqtt, OutMsg } from './state.js'

/** Sizes in bytes the client accepts: client id, topic name or filter, user name, password. */
export interface MqttLimits {
    clientId: number
    topic: number
    username: number
    password: number
    /** Whether an empty client id is allowed (the broker assigns one; needs a clean session) */
    emptyClientId: boolean
}

/** The MQTT 3.1.1 spec's limits (the default): 65,535 bytes each [MQTT-1.5.3] [MQTT-3.1.3-5]. */
export const MQTT_LIMITS_SPEC: Readonly<MqttLimits> = Object.freeze({ clientId: 65535, topic: 65535, username: 65535, password: 65535, emptyClientId: true })
/** Ioto's C buffer sizes, for those who want the C behaviour: ids of 23 bytes, topics of 127, credentials of 128. */
export const MQTT_LIMITS_IOTO: Readonly<MqttLimits> = Object.freeze({
    clientId: MQTT_MAX_CLIENT_ID_SIZE, topic: MQTT_MAX_TOPIC_SIZE - 1, username: MQTT_MAX_USERNAME_SIZE, password: MQTT_MAX_PASSWORD_SIZE,
    emptyClientId: false,
})
/** Why a client id cannot be used under these limits (with or without a clean session), or null. */
export function clientIdProblem(id: unknown, limits: Readonly<MqttLimits>, cleanSession: boolean): string | null {
    if (typeof id !== 'string') {
        return 'it must be a string'
    }
    if (utf8Length(id) > limits.clientId) {
        return `longer than ${limits.clientId} bytes`
    }
    if (id.length === 0 && (!cleanSession || !limits.emptyClientId)) {
        return limits.emptyClientId ? 'an empty client id needs a clean session [MQTT-3.1.3-7]' : 'an empty client id is not allowed'
    }
    return null
}

/** Filters in one SUBSCRIBE the client sends when it resubscribes by itself (AWS IoT accepts at most 8). */
export const MQTT_MAX_SUBSCRIBE_FILTERS = 8

/** Outbound QoS 1/2 messages in flight at once (unacknowledged), unless mqttSetInflight changes it. */
export const MQTT_MAX_INFLIGHT = 100
/** Messages waiting for the in-flight window (or for a connection) before publishers are made to wait. */
export const MQTT_MAX_QUEUE = 10_000
export const MQTT_MAX_QUEUE_BYTES = 64 * 1024 * 1024
/** Bytes buffered for the socket beyond which QoS 0 publishers wait for it to drain. */
export const MQTT_WRITE_HIGH = 4 * 1024 * 1024
/** Longest wait for a CONNACK. */
export const MQTT_CONNECT_TIMEOUT = 30 * TPS

export type QueuePolicy = 'wait' | 'reject' | 'drop-oldest' | 'drop-newest'

/**
    Where QoS 1/2 messages are kept until acknowledged (the agent's durable store): told when a message is
    accepted and when it is done (acknowledged, or dropped by the queue policy). A message freed undelivered
    stays in the store. `added` returns 0, or a negative code when the message could not be stored (the
    publish then fails with it, and `lastError` as its message).
 */
export interface Outbox {
    added(msg: OutMsg): number
    removed(msg: OutMsg): void
    readonly lastError: string
}

/**
    @internal
    The settings a client has beyond C's fields. Clients that keep the defaults share one object (an idle
    client stays small); ownConfig(mq) gives a client its own copy before a change.
 */
export class MqttConfig {
    /** The client that owns this copy (null: the shared defaults, never written) */
    owner: Mqtt | null = null
    /** Size limits (MQTT_LIMITS_SPEC unless mqttSetLimits says otherwise) */
    limits: Readonly<MqttLimits> = MQTT_LIMITS_SPEC
    /** Largest inbound packet, in bytes */
    maxInbound = MQTT_MAX_INBOUND_SIZE
    /** QoS 1/2 publishes in flight at once */
    maxInflight = MQTT_MAX_INFLIGHT
    maxQueue = MQTT_MAX_QUEUE
    maxQueueBytes = MQTT_MAX_QUEUE_BYTES
    /** When the queue is full: 'wait' (the publisher waits for room), 'reject' (R_ERR_TOO_MANY), 'drop-oldest' or 'drop-newest' */
    queuePolicy: QueuePolicy = 'wait'
    /** Queue publishes made while disconnected (the agent turns this on) instead of returning R_ERR_NOT_CONNECTED */
    queueOffline = false
    /** QoS 0 publishes while disconnected (with queueOffline): 'queue' or 'drop' (R_ERR_NOT_CONNECTED) */
    qos0Offline: 'queue' | 'drop' = 'drop'
    /** Keep waiters waiting across a lost connection (the agent turns this on) */
    keepWaits = false
    /** Longest wait for the CONNACK, in ticks */
    connectTimeout = MQTT_CONNECT_TIMEOUT
    /** The durable outbound store, if any (the agent's) */
    outbox: Outbox | null = null
    /** Told when a message is queued while disconnected (the agent connects on demand) */
    onQueued: ((mq: Mqtt) => void) | null = null
    /** MQTT 5.0: the client's protocol state (null: MQTT 3.1.1, the default). A 5.0 client owns its config. */
    v5: Mqtt5State | null = null
    /** With trace on: called with each packet instead of the log (the CLI's own trace format). An MQTT 5 client's
        packets come as they are (packets5.ts: reasonCode, SUBACK reasonCodes, properties) */
    tracer: ((direction: 'sending' | 'received', packet: Packet) => void) | null = null
    /**
        With trace on (MQTT 3.1.1): what reads back the packets the client sends. The default is the client's own
        decoder, which gives a CONNECT, SUBSCRIBE or UNSUBSCRIBE as its type and id (all the log's trace line
        shows); the CLI's tracer, which prints their topics, sets MqttDecoder.
     */
    traceDecoder: (() => PacketDecoder<Packet>) | null = null
    /** Callbacks running on fibers of their own (fiberCount) beyond which reading pauses */
    maxHandlers = MQTT_MAX_HANDLERS
    /** Messages held for want of a handler before the oldest is dropped */
    maxHeld = MQTT_MAX_HELD
    /** Read coalescing on the connection: the nap in milliseconds (0: off; mqttSetCoalesce) */
    coalesce = 0
}

/** MQTT 5 enhanced authentication: the answer to the server's challenge data, or null to give up. */
export type MqttAuthProc = (mq: Mqtt, data: Uint8Array | null) => Uint8Array | null

/** MQTT 5 subscription options (mqttSubscribeEx). */
export interface SubscribeOptions {
    /** Not to receive one's own messages on this subscription */
    noLocal?: boolean
    /** Keep the RETAIN flag as published (instead of cleared on forwarded messages) */
    retainAsPublished?: boolean
    /** 0: retained messages at subscribe (default), 1: only when the subscription is new, 2: none */
    retainHandling?: number
    /** 1..268,435,455: messages that match arrive with it, and go to this subscription's callback */
    subscriptionIdentifier?: number
    /** User properties sent in the SUBSCRIBE */
    userProperties?: [string, string][]
}

/** @internal The settings new clients share (mqttSetLimits(null, ...) replaces them; clients made before keep theirs). */
export const defaultConfig: { value: MqttConfig } = { value: new MqttConfig() }

/** @internal The client's own settings, to change one (copied from the shared defaults on the first change). */
export function ownConfig(mq: Mqtt): MqttConfig {
    let cfg = mq.cfg
    if (cfg.owner !== mq) {
        cfg = mq.cfg = Object.assign(new MqttConfig(), cfg)
        cfg.owner = mq
    }
    return cfg
}

/** @internal Why MQTT 5 subscription options cannot be used for this filter, or null */
export function optionsProblem(mq: Mqtt, o: SubscribeOptions, filter: string): string | null {
    if (typeof o !== 'object') {
        return 'Subscription options must be an object'
    }
    if (Object.keys(o).length > 0 && mq.cfg.v5 === null) {
        return 'Subscription options need MQTT 5: mqttSetProtocol(mq, 5) first'
    }
    if (o.retainHandling !== undefined && ![0, 1, 2].includes(o.retainHandling)) {
        return `Retain Handling ${o.retainHandling}: 0, 1 or 2`
    }
    if (o.userProperties !== undefined) {
        try {
            mq.cfg.v5?.propertiesSize({ userProperties: o.userProperties }, 'SUBSCRIBE')
        } catch (err) {
            return `Bad user properties: ${(err as Error).message}`
        }
    }
    const id = o.subscriptionIdentifier
    if (id !== undefined && (!Number.isInteger(id) || id < 1 || id > 268_435_455)) {
        return `Subscription Identifier ${id}: from 1 to 268,435,455 [MQTT5-3.8.2.1.2]`
    }
    if (o.noLocal === true && filter.startsWith('$share/')) {
        return 'No Local on a shared subscription [MQTT-3.8.3-4]'
    }
    return null
}
