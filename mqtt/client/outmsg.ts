/*
    An outbound message that needs tracking (a QoS 1/2 PUBLISH, a SUBSCRIBE, an UNSUBSCRIBE) or waits in the
    queue, and the packet types that name its kind.
 */
import { MQTT_PACKET_PUBLISH, MQTT_PACKET_SUB, MQTT_PACKET_UNSUB, MQTT_UNSENT } from '../constants.js'
import type { MqttWait } from './state.js'

/* An outbound message's kind is the packet type it sends (mqtt.h's MQTT_PACKET_*); its progress is its state */
export const OUT_PUBLISH = MQTT_PACKET_PUBLISH
export const OUT_SUB = MQTT_PACKET_SUB
export const OUT_UNSUB = MQTT_PACKET_UNSUB

/**
    An outbound message that needs tracking: queued, in flight, or awaiting its acknowledgement.
    @example for (const m of mq.inflight.values()) rDebug('mqtt', 'id %d awaits its acknowledgement (state %d)', m.id, m.state)
 */
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
    /** Encoded bytes kept for resending: the packet itself, or the writer's slab it is in (keptEnd > 0) */
    bytes: Uint8Array | null = null
    /** Where the packet is in `bytes` while it is a slab: [keptStart, keptEnd) (keptEnd 0: `bytes` is the packet) */
    keptStart = 0
    keptEnd = 0
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
