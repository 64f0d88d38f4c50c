/*
    The 14 MQTT 3.1.1 control packets as plain objects. Decoded topic strings are copies; payloads, will
    messages and passwords are views into the bytes decoded (copy them to keep them past the chunk's life).
 */
import type { Properties } from './properties.js'

export interface Will {
    topic: string
    payload: Uint8Array
    qos: number
    retain: boolean
}

export interface ConnectPacket {
    type: 1
    protocolName: string
    protocolLevel: number
    clean: boolean
    keepAlive: number
    clientId: string
    will: Will | null
    username: string | null
    password: Uint8Array | null
}

export interface ConnackPacket {
    type: 2
    sessionPresent: boolean
    returnCode: number
}

export interface PublishPacket {
    type: 3
    dup: boolean
    qos: number
    retain: boolean
    topic: string
    id: number
    payload: Uint8Array
    /** MQTT 5 only: the properties the client received it with */
    properties?: Properties
}

/** PUBACK 4, PUBREC 5, PUBREL 6, PUBCOMP 7, UNSUBACK 11. */
export interface AckPacket {
    type: 4 | 5 | 6 | 7 | 11
    id: number
}

export interface Subscription {
    topic: string
    qos: number
}

export interface SubscribePacket {
    type: 8
    id: number
    subscriptions: Subscription[]
}

export interface SubackPacket {
    type: 9
    id: number
    granted: number[]
}

export interface UnsubscribePacket {
    type: 10
    id: number
    topics: string[]
}

/** PINGREQ 12, PINGRESP 13, DISCONNECT 14. */
export interface EmptyPacket {
    type: 12 | 13 | 14
}

export type Packet = ConnectPacket | ConnackPacket | PublishPacket | AckPacket | SubscribePacket | SubackPacket
    | UnsubscribePacket | EmptyPacket
