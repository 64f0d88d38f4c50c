/*
    The client's state: the Mqtt instance (fields named as Ioto's struct, since code reads them), a received
    message (MqttRecv), an outbound message (OutMsg) and the wait a caller blocks on (MqttWait).
 */
import type { TimerEvent } from '../../runtime/events.js'
import { rGetTicks } from '../../runtime/time.js'
import { Wait } from '../../runtime/waitable.js'
import type { CallbackResult } from '../../runtime/body.js'
import type { RSocket, SocketReceiver } from '../../socket/rsocket.js'
import { MqttClientDecoder } from '../codec/decoder.js'
import type { Properties } from '../codec/properties.js'
import { PacketBuffer } from '../codec/writer.js'
import type { TopicIndex, TopicEntry } from '../topic-index.js'
import { utf8Length } from '../codec/utf8.js'

/* mqtt.h's constants live in ../constants.ts; the client's modules take them from here too */
export {
    MQTT_WAIT_NONE, MQTT_WAIT_SENT, MQTT_WAIT_ACK, MQTT_WAIT_FAST, MQTT_EVENT_ATTACH, MQTT_EVENT_CONNECTED,
    MQTT_EVENT_DISCONNECT, MQTT_EVENT_TIMEOUT, MQTT_UNSENT, MQTT_AWAITING_ACK, MQTT_COMPLETE, MQTT_AWAITING_PUBCOMP,
    MQTT_INLINE_BUF_SIZE, MQTT_BUF_SIZE, MQTT_KEEP_ALIVE, MQTT_TIMEOUT, MQTT_MSG_TIMEOUT, MQTT_MAX_TOPIC_SIZE,
    MQTT_MAX_MESSAGE_SIZE, MQTT_MAX_INBOUND_SIZE, MQTT_MAX_HANDLERS, MQTT_MAX_HELD, MQTT_MAX_CLIENT_ID_SIZE,
    MQTT_MAX_USERNAME_SIZE, MQTT_MAX_PASSWORD_SIZE,
} from '../constants.js'
import { MQTT_WAIT_SENT, MQTT_WAIT_ACK, MQTT_KEEP_ALIVE, MQTT_TIMEOUT, MQTT_MSG_TIMEOUT, MQTT_MAX_MESSAGE_SIZE } from '../constants.js'


/* The client's settings (limits, window, queue, MQTT 5 state) live in ./config.ts; the public names are taken from here too */
export {
    MQTT_LIMITS_SPEC, MQTT_LIMITS_IOTO, MQTT_MAX_SUBSCRIBE_FILTERS, MQTT_MAX_INFLIGHT, MQTT_MAX_QUEUE, MQTT_MAX_QUEUE_BYTES,
    MQTT_CONNECT_TIMEOUT, type MqttLimits, type QueuePolicy, type MqttAuthProc, type SubscribeOptions,
} from './config.js'
import { defaultConfig, type MqttConfig } from './config.js'

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
    /** How a failure of its callback is logged */
    readonly label: string

    /** `codes`: the client's return codes by filter (Mqtt.granted), which a SUBACK updates */
    constructor(readonly topic: string, readonly callback: MqttCallback | null, readonly wait: number, readonly qos: number,
        private readonly codes: Map<string, number> | null = null) {
        this.label = `Message callback for "${topic}"`
    }

    /** The broker's return code for this filter from its last SUBACK (the granted QoS, or 0x80), or -1 before one. */
    get granted(): number {
        return this.codes?.get(this.topic) ?? -1
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

/* The outbound message and its queue live in ./outmsg.ts and ./outqueue.ts; the client's modules take them from here too */
export { OUT_PUBLISH, OUT_SUB, OUT_UNSUB, OutMsg } from './outmsg.js'
import type { OutMsg } from './outmsg.js'
import { OutQueue } from './outqueue.js'
import { InflightTable } from './inflight.js'


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
    /** @internal The local subscriptions in order, or null after an unsubscribe until `topics` is read */
    topicList: MqttTopic[] | null = []
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
    /** @internal Called once when the client is freed (an iteration over its messages ends) */
    freeHooks: (() => void)[] | null = null
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
    private tracked: InflightTable | null = null
    /** @internal Publishes in flight (the window's fill) */
    inflightPublishes = 0
    /** @internal When (lastRecv ticks) room in the window began to wait for the refill mark (0: it does not) */
    heldAt = 0
    /** @internal This connection's peer has let room wait STALL_MS: room never waits longer than REFILL_LATE_MS (see complete()) */
    refillLate = false
    /** @internal Armed while room waits, on a connection that refills late */
    refillTimer: TimerEvent | null = null
    /** @internal Waiting for the window or a connection */
    pending = new OutQueue()
    /** @internal */
    pendingBytes = 0
    /** @internal Inbound QoS 2 ids held until PUBREL, each with its message's fingerprint (made on first use) */
    inboundQos2: Map<number, number> | null = null
    /** @internal Ids of what was resent on this connection (overdue): a broker may acknowledge each copy, so a
        late acknowledgement of one no longer in flight is let pass, until the id is handed out again */
    resentIds: Set<number> | null = null
    /** @internal Broker subscriptions asked for while disconnected: made at the next connect, session or not */
    later: Map<string, number> | null = null
    /** @internal The broker's return code for each filter subscribed (its granted QoS, or 0x80), from the last SUBACK */
    granted: Map<string, number> | null = null
    /**
        The local subscriptions, in the order they were made. An unsubscribe takes its filter's out of the index
        alone; the list is made again from the index when next read, so removing one of n is not O(n).
     */
    get topics(): MqttTopic[] {
        return this.topicList ??= this.index?.all().map(e => e.value) ?? []
    }
    set topics(list: MqttTopic[]) {
        this.topicList = list
    }
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
    decoder = new MqttClientDecoder()
    /* Slabs of up to 128 KiB, flushed when full (attachLink: writer.onFull), so that what is pending is never moved
       into the next slab */
    /** @internal */
    writer = new PacketBuffer(128 * 1024)
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
    get inflight(): InflightTable {
        return this.tracked ?? NOTHING
    }

    /** @internal Track a message in flight */
    track(id: number, msg: OutMsg): void {
        this.tracking.set(id, msg)
    }

    /** @internal The in-flight table, made on first use: what tracks a message */
    get tracking(): InflightTable {
        return this.tracked ??= new InflightTable()
    }
}

/* Read-only stand-in until something is in flight (nothing is ever added to it) */
const NOTHING = new InflightTable()

/** Record an API error message (not sticky); returns code. */
export function setMsg(mq: Mqtt, code: number, msg: string): number {
    mq.errorMsg = msg
    return code
}

/** @internal The kept bytes of a sent PUBLISH, as their own view (made on first use: resends are rare). */
export function keptBytes(msg: OutMsg): Uint8Array {
    if (msg.keptEnd > 0) {
        const slab = msg.bytes!
        msg.bytes = new Uint8Array(slab.buffer, slab.byteOffset + msg.keptStart, msg.keptEnd - msg.keptStart)
        msg.keptEnd = 0
    }
    return msg.bytes!
}
