/*
    MQTT 5's forms of subscribing and unsubscribing: subscription options (No Local, Retain As Published, Retain
    Handling, a Subscription Identifier, user properties) and the UNSUBSCRIBE's user properties.
 */
import { R_ERR_BAD_ARGS } from '../../runtime/errors.js'
import type { Waitable } from '../../runtime/body.js'
import { done } from '../../runtime/waitable.js'
import { propertiesSize, type Properties } from '../codec/properties.js'
import { Mqtt, setMsg, type MqttCallback } from './state.js'
import { optionsProblem, type SubscribeOptions } from './config.js'
import { formatFilter, mqttSubscribe, unsubscribe } from './subscribe.js'

/**
    As mqttSubscribe, with MQTT 5's subscription options: No Local, Retain As Published, Retain Handling and a
    Subscription Identifier (messages that arrive with it go to this subscription's callback, whatever else
    matches). Needs an MQTT 5 client (mqttSetProtocol); R_ERR_BAD_ARGS otherwise, for options out of range, or
    No Local on a shared subscription [MQTT-3.8.3-4].
    @example yield* mqttSubscribeEx(mq, onCommand, MQTT_QOS_1, MQTT_WAIT_ACK, { noLocal: true, subscriptionIdentifier: 7 }, 'fleet/%s/cmd', id)
 */
export function mqttSubscribeEx(mq: Mqtt | null, cb: MqttCallback | null, maxQos: number, waitFlags: number, options: SubscribeOptions | null,
    topic: string, ...args: unknown[]): Waitable<number> {
    if (!(mq instanceof Mqtt)) {
        return done(R_ERR_BAD_ARGS)
    }
    const filter = formatFilter(mq, topic, args)
    if (typeof filter === 'number') {
        return done(filter)
    }
    const problem = optionsProblem(mq, options ?? {}, filter)
    if (problem !== null) {
        return done(setMsg(mq, R_ERR_BAD_ARGS, problem))
    }
    if (options !== null && mq.cfg.v5 !== null) {
        mq.cfg.v5.subOptions.set(filter, { ...options })
    }
    return mqttSubscribe(mq, cb, maxQos, waitFlags, '%s', filter)
}

/**
    MQTT 5: mqttUnsubscribe with the UNSUBSCRIBE's User Properties. Needs an MQTT 5 client for properties;
    R_ERR_BAD_ARGS otherwise.
    @example yield* mqttUnsubscribeEx(mq, 'a/#', MQTT_WAIT_ACK, { userProperties: [['reason', 'idle']] })
 */
export function mqttUnsubscribeEx(mq: Mqtt | null, topic: string, waitFlags: number, options: { userProperties?: [string, string][] } | null): Waitable<number> {
    const properties: Properties = {}
    if (mq instanceof Mqtt && options?.userProperties !== undefined && options.userProperties.length > 0) {
        if (mq.cfg.v5 === null) {
            return done(setMsg(mq, R_ERR_BAD_ARGS, 'User properties need MQTT 5: mqttSetProtocol(mq, 5) first'))
        }
        properties.userProperties = options.userProperties
        try {
            propertiesSize(properties, 'UNSUBSCRIBE')
        } catch (err) {
            return done(setMsg(mq, R_ERR_BAD_ARGS, `Bad UNSUBSCRIBE properties: ${(err as Error).message}`))
        }
    }
    return unsubscribe(mq, topic, waitFlags, properties)
}
