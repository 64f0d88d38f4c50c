/*
    The promise facade: for code outside fibers (a web server, a test). Each call is the fiber call (it acts at
    once) whose result is awaited; mqttMessages iterates over a subscription's messages. No second
    implementation: every function here is a line or two over the core.
 */
import { rAwaitWaitable } from '../runtime/bridge.js'
import type { Waitable } from '../runtime/body.js'
import { Done } from '../runtime/waitable.js'
import { rConnectSocket } from '../socket/connect.js'
import { rReadSocket, rWriteSocket } from '../socket/io.js'
import type { RSocket } from '../socket/rsocket.js'
import { mqttConnect, mqttDisconnect, mqttFree } from './client/connect.js'
import { mqttConnectUrl } from './client/connect-url.js'
import { mqttGetError } from './client/settings.js'
import { mqttPing, mqttPublish, mqttPublishEx, mqttPublishRetained } from './client/publish.js'
import { mqttRequest } from './client/request.js'
import { MQTT_WAIT_ACK, Mqtt, type MqttCallback, type MqttRecv, type SubscribeOptions } from './client/state.js'
import type { Properties } from './codec/properties.js'
import { mqttSubscribe, mqttSubscribeMulti, mqttUnsubscribe, type MqttSubscription } from './client/subscribe.js'
import { mqttSubscribeEx } from './client/subscribe5.js'

/** Await a waitable: a complete one resolves without a fiber. */
function settle<T>(w: Waitable<T>): Promise<T> {
    return w instanceof Done ? Promise.resolve(w.value as T) : rAwaitWaitable(w)
}

/** @example await rConnectSocketAsync(sock, 'broker.local', 1883, 0) */
export function rConnectSocketAsync(sp: RSocket, host: string, port: number, deadline: number): Promise<number> {
    return settle(rConnectSocket(sp, host, port, deadline))
}

/**
    rReadSocket, awaited: the count read, R_ERR_CANT_READ at end of stream, R_ERR_TIMEOUT.
    @example const n = await rReadSocketAsync(sock, buf, buf.length, rGetTicks() + 5000)
 */
export function rReadSocketAsync(sp: RSocket, buf: Uint8Array, size: number, deadline: number): Promise<number> {
    return settle(rReadSocket(sp, buf, size, deadline))
}

/**
    rWriteSocket, awaited: the count written once the kernel has the bytes.
    @example await rWriteSocketAsync(sock, 'hello\n', -1, 0)
 */
export function rWriteSocketAsync(sp: RSocket, buf: Uint8Array | string, size: number, deadline: number): Promise<number> {
    return settle(rWriteSocket(sp, buf, size, deadline))
}

/** @example if (await mqttConnectAsync(mq, sock, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK) !== 0) throw new Error(mqttGetError(mq)) */
export function mqttConnectAsync(mq: Mqtt, sock: RSocket, flags: number, waitFlags: number): Promise<number> {
    return settle(mqttConnect(mq, sock, flags, waitFlags))
}

/** @example await mqttPublishAsync(mq, 'on', 0, 1, MQTT_WAIT_ACK, 'lights/%s', room) */
export function mqttPublishAsync(mq: Mqtt, msg: Uint8Array | string, size: number, qos: number, waitFlags: number, topic: string, ...args: unknown[]): Promise<number> {
    return settle(mqttPublish(mq, msg, size, qos, waitFlags, topic, ...args))
}

/**
    mqttPublishEx (MQTT 5 message properties, retain), awaited.
    @example await mqttPublishExAsync(mq, json, 0, 1, MQTT_WAIT_ACK, { properties: { contentType: 'application/json' } }, 'dev/%s/state', id)
 */
export function mqttPublishExAsync(mq: Mqtt, msg: Uint8Array | string, size: number, qos: number, waitFlags: number,
    options: { retain?: boolean, properties?: Properties } | null, topic: string, ...args: unknown[]): Promise<number> {
    return settle(mqttPublishEx(mq, msg, size, qos, waitFlags, options, topic, ...args))
}

/**
    mqttSubscribeEx (MQTT 5 subscription options), awaited.
    @example await mqttSubscribeExAsync(mq, onCmd, 1, MQTT_WAIT_ACK, { noLocal: true }, 'fleet/%s/cmd', id)
 */
export function mqttSubscribeExAsync(mq: Mqtt, cb: MqttCallback | null, maxQos: number, waitFlags: number, options: SubscribeOptions | null,
    topic: string, ...args: unknown[]): Promise<number> {
    return settle(mqttSubscribeEx(mq, cb, maxQos, waitFlags, options, topic, ...args))
}

/**
    mqttPublishRetained, awaited.
    @example await mqttPublishRetainedAsync(mq, 'online', 0, 1, MQTT_WAIT_ACK, 'devices/%s/status', id)
 */
export function mqttPublishRetainedAsync(mq: Mqtt, msg: Uint8Array | string, size: number, qos: number, waitFlags: number, topic: string, ...args: unknown[]): Promise<number> {
    return settle(mqttPublishRetained(mq, msg, size, qos, waitFlags, topic, ...args))
}

/**
    mqttSubscribe, awaited.
    @example await mqttSubscribeAsync(mq, rp => console.log(rp.topic, rp.text), 1, MQTT_WAIT_ACK, 'sensors/#')
 */
export function mqttSubscribeAsync(mq: Mqtt, cb: MqttCallback | null, maxQos: number, waitFlags: number, topic: string, ...args: unknown[]): Promise<number> {
    return settle(mqttSubscribe(mq, cb, maxQos, waitFlags, topic, ...args))
}

/**
    mqttSubscribeMulti, awaited: one SUBSCRIBE for several filters; `granted` gets the code per filter.
    @example const granted: number[] = []; await mqttSubscribeMultiAsync(mq, [{ topic: 'a/#', qos: 1, callback: onA }, { topic: 'b', qos: 0 }], MQTT_WAIT_ACK, granted)
 */
export function mqttSubscribeMultiAsync(mq: Mqtt, subs: MqttSubscription[], waitFlags: number, granted?: number[]): Promise<number> {
    return settle(mqttSubscribeMulti(mq, subs, waitFlags, granted))
}

/**
    mqttConnectUrl, awaited: connect by URL (mqtt://, mqtts://, user:password@host:port).
    @example await mqttConnectUrlAsync(mq, 'mqtts://dev:token@broker.example.com', MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK)
 */
export function mqttConnectUrlAsync(mq: Mqtt, url: string, flags: number, waitFlags: number): Promise<number> {
    return settle(mqttConnectUrl(mq, url, flags, waitFlags))
}

/**
    mqttDisconnect, awaited until the connection is closed.
    @example await mqttDisconnectAsync(mq)
 */
export function mqttDisconnectAsync(mq: Mqtt): Promise<number> {
    return settle(mqttDisconnect(mq, MQTT_WAIT_ACK))
}

/**
    mqttUnsubscribe, awaited.
    @example await mqttUnsubscribeAsync(mq, 'sensors/#', MQTT_WAIT_ACK)
 */
export function mqttUnsubscribeAsync(mq: Mqtt, topic: string, waitFlags: number): Promise<number> {
    return settle(mqttUnsubscribe(mq, topic, waitFlags))
}

/**
    mqttPing, awaited.
    @example const rc = await mqttPingAsync(mq, MQTT_WAIT_ACK)
 */
export function mqttPingAsync(mq: Mqtt, waitFlags = 0): Promise<number> {
    return settle(mqttPing(mq, waitFlags))
}

/**
    mqttRequest, awaited: the response text, or null on timeout.
    @example const reply = await mqttRequestAsync(mq, '{"op":"status"}', 5000, 'getStatus')
 */
export function mqttRequestAsync(mq: Mqtt, data: string, timeout: number, topic: string, ...args: unknown[]): Promise<string | null> {
    return settle(mqttRequest(mq, data, timeout, topic, ...args))
}

/**
    mqttFree, awaited.
    @example await mqttFreeAsync(mq)
 */
export function mqttFreeAsync(mq: Mqtt): Promise<void> {
    return settle(mqttFree(mq))
}

/** The default message handler: async functions are welcome (a rejection is logged, never unhandled). */
export { mqttOnMessage } from './client/dispatch.js'

/* mqttMessages: queued messages beyond which the subscription's callback waits for the loop (and, with enough
   of them waiting, reading from the broker pauses); they go on once the loop has taken the queue down to LOW */
const HIGH = 1000
const LOW = 500

/**
    Iterate over the messages of a subscription (made now, with MQTT_WAIT_ACK). Leaving the loop unsubscribes;
    freeing the client ends it. Messages that arrive faster than the loop takes them wait in order, at most
    about 1,000 before reading from the broker pauses (TCP back-pressure) until the loop catches up.
    @example for await (const m of mqttMessages(mq, 'sensors/+/temp', 1)) console.log(m.topic, m.text)
 */
export function mqttMessages(mq: Mqtt, filter: string, qos = 0): AsyncIterableIterator<MqttRecv> {
    const queue: MqttRecv[] = []
    let waiting: ((r: IteratorResult<MqttRecv>) => void) | null = null
    /* Callbacks waiting for the loop to take the queue down */
    let room: (() => void)[] = []
    let ended = false
    /* Freed: the client's subscriptions are gone, nothing to unsubscribe */
    let freed = false
    let failure: Error | null = null
    const letGo = (): void => {
        const all = room
        room = []
        for (const go of all) {
            go()
        }
    }
    const client = mq instanceof Mqtt ? mq : null
    const stop = (): void => {
        ended = true
        if (client !== null) {
            client.freeHooks = client.freeHooks?.filter(h => h !== onFree) ?? null
        }
        letGo()
        waiting?.({ done: true, value: undefined })
        waiting = null
    }
    const onFree = (): void => {
        freed = true
        stop()
    }
    const fail = (err: Error): void => {
        if (!ended) {
            failure = err
            stop()
        }
    }
    if (client !== null) {
        (client.freeHooks ??= []).push(onFree)
    }
    const subscribed = mqttSubscribeAsync(mq, (rp: MqttRecv) => {
        if (ended) {
            return
        }
        if (waiting !== null) {
            const resolve = waiting
            waiting = null
            resolve({ done: false, value: rp })
            return
        }
        queue.push(rp)
        if (queue.length >= HIGH) {
            return new Promise<void>(resolve => { room.push(resolve) })
        }
    }, qos, MQTT_WAIT_ACK, '%s', filter).then(rc => {
        if (rc !== 0) {
            fail(new Error(`Subscribe to "${filter}" failed: ${mqttGetError(mq) || rc}`))
        }
    }, (err: unknown) => fail(err instanceof Error ? err : new Error(String(err))))
    const finish = async (): Promise<IteratorResult<MqttRecv>> => {
        if (!ended) {
            stop()
            await subscribed
            if (failure === null && !freed) {
                await mqttUnsubscribeAsync(mq, filter, MQTT_WAIT_ACK)
            }
        }
        return { done: true, value: undefined }
    }
    return {
        [Symbol.asyncIterator]() {
            return this
        },
        async next(): Promise<IteratorResult<MqttRecv>> {
            if (failure !== null) {
                throw failure
            }
            if (queue.length > 0) {
                const value = queue.shift()!
                if (queue.length <= LOW && room.length > 0) {
                    letGo()
                }
                return { done: false, value }
            }
            if (ended) {
                return { done: true, value: undefined }
            }
            const r = await new Promise<IteratorResult<MqttRecv>>(resolve => { waiting = resolve })
            if (failure !== null) {
                throw failure
            }
            return r
        },
        return: finish,
    }
}
