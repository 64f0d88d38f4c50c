/*
    The 15 MQTT 5.0 control packets as plain objects: 3.1.1's, plus properties on every packet that carries
    them, reason codes on the acknowledgements, DISCONNECT and AUTH, and subscription options.
 */
import type { Properties } from './properties.js'

export interface Will5 {
    topic: string
    payload: Uint8Array
    qos: number
    retain: boolean
    properties: Properties
}

export interface Connect5 {
    type: 1
    protocolName: string
    protocolLevel: 5
    /** Clean Start */
    clean: boolean
    keepAlive: number
    clientId: string
    will: Will5 | null
    username: string | null
    password: Uint8Array | null
    properties: Properties
}

export interface Connack5 {
    type: 2
    sessionPresent: boolean
    reasonCode: number
    properties: Properties
}

export interface Publish5 {
    type: 3
    dup: boolean
    qos: number
    retain: boolean
    /** Empty when a Topic Alias stands for it */
    topic: string
    id: number
    payload: Uint8Array
    properties: Properties
}

/** PUBACK 4, PUBREC 5, PUBREL 6, PUBCOMP 7 */
export interface Ack5 {
    type: 4 | 5 | 6 | 7
    id: number
    reasonCode: number
    properties: Properties
}

export interface Subscription5 {
    topic: string
    qos: number
    noLocal: boolean
    retainAsPublished: boolean
    /** 0: send retained messages at subscribe, 1: only for a new subscription, 2: never */
    retainHandling: number
}

export interface Subscribe5 {
    type: 8
    id: number
    subscriptions: Subscription5[]
    properties: Properties
}

/** SUBACK 9, UNSUBACK 11: a reason code per filter */
export interface SubAck5 {
    type: 9 | 11
    id: number
    reasonCodes: number[]
    properties: Properties
}

export interface Unsubscribe5 {
    type: 10
    id: number
    topics: string[]
    properties: Properties
}

/** PINGREQ 12, PINGRESP 13 */
export interface Ping5 {
    type: 12 | 13
}

/** DISCONNECT 14, AUTH 15 */
export interface Disconnect5 {
    type: 14 | 15
    reasonCode: number
    properties: Properties
}

export type Packet5 = Connect5 | Connack5 | Publish5 | Ack5 | Subscribe5 | SubAck5 | Unsubscribe5 | Ping5 | Disconnect5
