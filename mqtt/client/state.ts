/*
    The client's state: the Mqtt instance (fields named as Ioto's struct, since code reads them), a received
    message (MqttRecv), an outbound message (OutMsg) and the wait a caller blocks on (MqttWait).
 */
import { RingQueue } from '../../runtime/queue.js'
import type { TimerEvent } from '../../runtime/events.js'
import { rGetTicks, TPS } from '../../runtime/time.js'
import { Wait } from '../../runtime/waitable.js'
import type { CallbackResult } from '../../runtime/scheduler.js'
import type { RSocket, SocketReceiver } from '../../socket/rsocket.js'
import { MqttDecoder } from '../codec/decode.js'
import { Mqtt5Decoder } from '../codec/decode5.js'
import type { Properties } from '../codec/properties.js'
import type { Packet } from '../codec/packets.js'
import { PacketWriter } from '../codec/writer.js'
import type { TopicIndex, TopicEntry } from '../topic-index.js'
import { utf8Length } from '../codec/utf8.js'
import { MQTT_PACKET_PUBLISH, MQTT_PACKET_SUB, MQTT_PACKET_UNSUB } from '../constants.js'

/* mqtt.h's constants live in ../constants.ts; the client's modules take them from here too */
export {
    MQTT_WAIT_NONE, MQTT_WAIT_SENT, MQTT_WAIT_ACK, MQTT_WAIT_FAST, MQTT_EVENT_ATTACH, MQTT_EVENT_CONNECTED,
    MQTT_EVENT_DISCONNECT, MQTT_EVENT_TIMEOUT, MQTT_UNSENT, MQTT_AWAITING_ACK, MQTT_COMPLETE, MQTT_AWAITING_PUBCOMP,
    MQTT_INLINE_BUF_SIZE, MQTT_BUF_SIZE, MQTT_KEEP_ALIVE, MQTT_TIMEOUT, MQTT_MSG_TIMEOUT, MQTT_MAX_TOPIC_SIZE,
    MQTT_MAX_MESSAGE_SIZE, MQTT_MAX_INBOUND_SIZE, MQTT_MAX_HANDLERS, MQTT_MAX_HELD, MQTT_MAX_CLIENT_ID_SIZE,
    MQTT_MAX_USERNAME_SIZE, MQTT_MAX_PASSWORD_SIZE,
} from '../constants.js'
import {
    MQTT_WAIT_SENT, MQTT_WAIT_ACK, MQTT_UNSENT, MQTT_KEEP_ALIVE, MQTT_TIMEOUT,
    MQTT_MSG_TIMEOUT, MQTT_MAX_TOPIC_SIZE, MQTT_MAX_MESSAGE_SIZE, MQTT_MAX_INBOUND_SIZE, MQTT_MAX_HANDLERS,
    MQTT_MAX_HELD, MQTT_MAX_CLIENT_ID_SIZE, MQTT_MAX_USERNAME_SIZE, MQTT_MAX_PASSWORD_SIZE,
} from '../constants.js'

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

/** A message handler: plain functions run inline (as with MQTT_WAIT_FAST); generator functions on a fiber of their own. */
export type MqttCallback = (rp: MqttRecv) => CallbackResult
/** Connection events: MQTT_EVENT_ATTACH, _CONNECTED, _DISCONNECT, _TIMEOUT. */
export type MqttEventProc = (mq: Mqtt, event: number) => CallbackResult

const textDecoder = new TextDecoder()

/**
    A received message. `data` is a view of the received bytes (it stays valid, but copy it to hold it long);
    `text` decodes it as UTF-8.
    @example mqttSubscribe(mq, (rp: MqttRecv) => rInfo('app', '%s: %s (qos %d)', rp.topic, rp.text, rp.qos), 1, MQTT_WAIT_ACK, 'cmd/#')
 */
export class MqttRecv {
    constructor(
        readonly mq: Mqtt,
        readonly topic: string,
        readonly data: Uint8Array,
        readonly dataSize: number,
        readonly qos: number,
        readonly retain: boolean,
        readonly dup: boolean,
        readonly id: number,
        readonly matched: MqttTopic | null,
        /** MQTT 5: the PUBLISH's properties (user properties, content type, response topic...); null in 3.1.1 */
        readonly properties: Properties | null = null,
    ) {}

    get text(): string {
        return textDecoder.decode(this.data)
    }

    /** Topic length in bytes */
    get topicSize(): number {
        return utf8Length(this.topic)
    }
}

/** The seed pages' name for MqttRecv. */
export type MqttResp = MqttRecv
export const MqttResp = MqttRecv

/**
    A local subscription: filter, handler and the wait flags it was made with.
    @example for (const t of mq.topics) rDebug('mqtt', 'subscribed to %s', t.topic)
 */
export class MqttTopic {
    entry: TopicEntry<MqttTopic> | null = null
    granted = -1
    /** How a failure of its callback is logged */
    readonly label: string

    constructor(readonly topic: string, readonly callback: MqttCallback | null, readonly wait: number, readonly qos: number) {
        this.label = `Message callback for "${topic}"`
    }
}

/** What a caller waits on: settled with 0 or an R_ERR_* code. */
export class MqttWait extends Wait<number> {}

/** The wait a call returns for its flags: one to settle (SENT or ACK), or null (NONE: nothing to wait for). */
export function waitFor(waitFlags: number): MqttWait | null {
    return waitFlags & (MQTT_WAIT_SENT | MQTT_WAIT_ACK) ? new MqttWait() : null
}

/** What a tracked message's waiter waits for: MQTT_WAIT_ACK, MQTT_WAIT_SENT, or 0. */
export function waitKind(waitFlags: number): number {
    return waitFlags & MQTT_WAIT_ACK ? MQTT_WAIT_ACK : waitFlags & MQTT_WAIT_SENT
}

/* An outbound message's kind is the packet type it sends (mqtt.h's MQTT_PACKET_*); its progress is its state */
export const OUT_PUBLISH = MQTT_PACKET_PUBLISH
export const OUT_SUB = MQTT_PACKET_SUB
export const OUT_UNSUB = MQTT_PACKET_UNSUB

/** An outbound message that needs tracking: queued, in flight, or awaiting its acknowledgement. */
export class OutMsg {
    /** OUT_PUBLISH, OUT_SUB or OUT_UNSUB (the packet type it sends) */
    type: number
    id = 0
    qos: number
    retain: boolean
    topic: string
    topicBytes: Uint8Array | null
    /** Payload kept until encoded (queued messages) */
    payload: Uint8Array | null
    /** Encoded bytes kept for resending */
    bytes: Uint8Array | null = null
    wait: MqttWait | null
    waitFlags: number
    state = MQTT_UNSENT
    sent = 0
    size: number
    /** SUBSCRIBE / UNSUBSCRIBE: the filters */
    filters: string[] | null = null
    /** SUBSCRIBE: where the SUBACK's return codes go (the i-th at grantedAt[i]) */
    granted: number[] | null = null
    grantedAt: number[] | null = null
    /** The durable store's record of this message (0: none) */
    storeSeq = 0
    /** MQTT 5: the PUBLISH's encoded property list (its length first), or null for none */
    props: Uint8Array | null = null

    constructor(type: number, qos: number, retain: boolean, topic: string, topicBytes: Uint8Array | null,
        payload: Uint8Array | null, wait: MqttWait | null, waitFlags: number) {
        this.type = type
        this.qos = qos
        this.retain = retain
        this.topic = topic
        this.topicBytes = topicBytes
        this.payload = payload
        this.wait = wait
        this.waitFlags = waitFlags
        this.size = payload?.length ?? 0
    }
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
    /** With trace on: called with each packet instead of the log (the CLI's own trace format) */
    tracer: ((direction: 'sending' | 'received', packet: Packet) => void) | null = null
    /** Callbacks running on fibers of their own (fiberCount) beyond which reading pauses */
    maxHandlers = MQTT_MAX_HANDLERS
    /** Messages held for want of a handler before the oldest is dropped */
    maxHeld = MQTT_MAX_HELD
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
}

/**
    @internal
    What an MQTT 5.0 client keeps (mqttSetProtocol): its CONNECT properties, the decoder, what the server said
    in its CONNACK, and the topic aliases the server set up on this connection.
 */
export class Mqtt5State {
    decoder = new Mqtt5Decoder()
    /** The server's CONNACK properties (null until connected) */
    connack: Properties | null = null
    /** Topic aliases from the server: alias -> topic (this connection's) */
    aliases = new Map<number, string>()
    /** The in-flight window the user asked for; the server's Receive Maximum may lower it per connection */
    inflight = 0
    /** Enhanced authentication: answers the server's AUTH challenges (mqttSetAuth) */
    authProc: MqttAuthProc | null = null
    /** Outbound topic aliases for QoS 0 publishes (on by default; used when the server allows some) */
    aliasOut = true
    /** This connection's outbound aliases: encoded topic -> alias (cleared at each connect) */
    outAliases = new Map<Uint8Array, number>()
    /** The property list of each alias (length 3, Topic Alias, the alias), made on first use */
    aliasProps: Uint8Array[] = []
    /** Subscription options asked for with mqttSubscribeEx, by filter (kept for resubscribing) */
    subOptions = new Map<string, SubscribeOptions>()
    /** The Server Reference of a refusal or DISCONNECT that says "use another server" / "server moved" (0x9c, 0x9d) */
    redirect: string | null = null

    constructor(readonly connect: Properties) {}
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

/**
    The MQTT client instance (C's struct Mqtt).
    @example const mq: Mqtt = mqttAlloc('dev-1', onEvent)!
 */
export class Mqtt {
    /* Fields with C's names */
    error = 0
    errorMsg = ''
    sock: RSocket | null = null
    id: string
    proc: MqttEventProc | null
    topics: MqttTopic[] = []
    masterTopics: string[] = []
    /** @internal Requested QoS of each master subscription (made on first use) */
    masterQos: Map<string, number> | null = null
    /** @internal Settings without C names (shared with other clients until changed: write through ownConfig(mq)) */
    cfg: MqttConfig = defaultConfig.value
    willTopic: string | null = null
    willMsg: Uint8Array | null = null
    willMsgSize = 0
    nextId = 1
    msgTimeout = MQTT_MSG_TIMEOUT
    maxMessage = MQTT_MAX_MESSAGE_SIZE
    fiberCount = 0
    keepAlive = MQTT_KEEP_ALIVE
    timeout = MQTT_TIMEOUT
    lastActivity: number
    connected = false
    /** True while the client listens to its socket (C: the wait handler is installed); false after an error */
    processing = false
    destroyed = false
    throttle = 0
    throttleLastPub = 0
    throttleMark = 0
    username = ''
    /** Binary data, as the spec has it [MQTT-3.1.3.5]: a string is sent as UTF-8 */
    password: string | Uint8Array = ''
    /** @internal The last CONNACK's return code (-1: none yet) */
    connackCode = -1
    /** @internal Settled when the connection is closed after mqttDisconnect(mq, MQTT_WAIT_ACK) */
    disconnectWait: MqttWait | null = null
    keepAliveEvent: TimerEvent | null = null
    /** CONNACK's session-present flag */
    hasSession = false
    /** @internal The packet id of the last QoS 1/2 PUBLISH put on the wire */
    lastPublishId = 0

    /* Session and flow control */
    /** @internal */
    cleanSession = true
    /** @internal In flight: QoS 1/2 PUBLISH, PUBREL, SUBSCRIBE, UNSUBSCRIBE by packet id, in send order (made on first use) */
    private tracked: Map<number, OutMsg> | null = null
    /** @internal Publishes in flight (the window's fill) */
    inflightPublishes = 0
    /** @internal Waiting for the window or a connection */
    pending = new RingQueue<OutMsg>(64)
    /** @internal */
    pendingBytes = 0
    /** @internal Inbound QoS 2 ids held until PUBREL (made on first use) */
    inboundQos2: Set<number> | null = null
    /** @internal Broker subscriptions asked for while disconnected: made at the next connect, session or not */
    later: Map<string, number> | null = null
    /** @internal The broker's return code for each filter subscribed (its granted QoS, or 0x80), from the last SUBACK */
    granted: Map<string, number> | null = null
    /** @internal Local subscriptions by filter (made on first use) */
    index: TopicIndex<MqttTopic> | null = null
    /** @internal Topic -> the subscription that gets it (or null): messages come on few topics; cleared on any change */
    routes: Map<string, MqttTopic | null> | null = null
    /** @internal Publishers parked until the queue or the socket has room */
    roomWaiters: MqttWait[] | null = null
    /** @internal WAIT_SENT waiters settled when their bytes go to the socket */
    flushWaiters: MqttWait[] | null = null
    /** @internal */
    pingWaiters: MqttWait[] | null = null
    /** @internal */
    connectWait: MqttWait | null = null
    /** @internal */
    connectTimer: TimerEvent | null = null

    /* The link */
    /** @internal */
    idleNotified = false
    /** @internal */
    receiver: SocketReceiver | null = null
    /** @internal */
    decoder = new MqttDecoder()
    /* Slabs of up to 128 KiB, flushed at 64 KiB: a write always fits without moving what is pending */
    /** @internal */
    writer = new PacketWriter(128 * 1024)
    /** @internal */
    flushScheduled = false
    /** @internal */
    disconnecting = false
    /** @internal */
    lastSend = 0
    /** @internal */
    lastRecv = 0
    /** @internal */
    pingSent = 0
    /** Log every packet sent and received (debug level, source "mqtt"); costs nothing when off */
    trace = false
    /** @internal The default message handler (mqttOnMessage): messages no subscription with a callback matches */
    onMessage: MqttCallback | null = null
    /** @internal Messages nobody could take yet, oldest first (made on first use) */
    held: MqttRecv[] | null = null
    /** @internal Received messages waiting for a handler slot (made when maxHandlers callbacks are busy; reading the socket is paused while there is one) */
    backlog: MqttRecv[] | null = null
    /** @internal Held messages are being handed out: new ones queue behind them */
    releasing = false
    /** @internal Counters (read them with mqttGetStats): messages published, acknowledged, dropped by the queue policy, resent, received; received
        messages held for a handler, and held ones dropped when the hold was full */
    stats = { published: 0, acknowledged: 0, dropped: 0, resent: 0, received: 0, held: 0, unrouted: 0 }

    constructor(id: string, proc: MqttEventProc | null) {
        this.id = id
        this.proc = proc
        this.lastActivity = rGetTicks()
    }

    /** @internal The in-flight map for reading (empty until something is in flight) */
    get inflight(): ReadonlyMap<number, OutMsg> & Pick<Map<number, OutMsg>, 'delete' | 'clear'> {
        return this.tracked ?? NOTHING
    }

    /** @internal Track a message in flight */
    track(id: number, msg: OutMsg): void {
        (this.tracked ??= new Map()).set(id, msg)
    }
}

const NOTHING = new Map<number, OutMsg>()

/** Record an API error message (not sticky); returns code. */
export function setMsg(mq: Mqtt, code: number, msg: string): number {
    mq.errorMsg = msg
    return code
}
